package intoto

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func ghSigner() *SignerIdentity {
	return &SignerIdentity{
		Issuer:  "https://token.actions.githubusercontent.com",
		Subject: "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0",
		Claims: map[string]string{
			"issuer":                       "https://token.actions.githubusercontent.com",
			"source_repository_uri":        "https://github.com/acme/app",
			"source_repository_identifier": "12345",
			"runner_environment":           "github-hosted",
			"deployment_environment":       "production",
		},
	}
}

func TestIdentityMatch(t *testing.T) {
	t.Parallel()
	const iss = "https://token.actions.githubusercontent.com"
	tests := []struct {
		name string
		id   Identity
		s    *SignerIdentity
		want []Mismatch
	}{
		{
			name: "exact subject",
			id:   Identity{Issuer: iss, Subject: "https://github.com/acme/app/.github/workflows/release.yml@refs/tags/v1.2.0"},
			s:    ghSigner(),
		},
		{
			name: "regexp subject",
			id:   Identity{Issuer: iss, SubjectRegexp: `https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*`},
			s:    ghSigner(),
		},
		{
			name: "regexp is anchored at the end",
			id:   Identity{Issuer: iss, SubjectRegexp: `https://github\.com/acme/app/\.github/workflows/release\.yml`},
			s:    ghSigner(),
			want: []Mismatch{{Field: "subject", Want: `/https://github\.com/acme/app/\.github/workflows/release\.yml/`, Got: ghSigner().Subject}},
		},
		{
			name: "regexp is anchored at the start",
			id:   Identity{Issuer: iss, SubjectRegexp: `acme/app/.*`},
			s:    ghSigner(),
			want: []Mismatch{{Field: "subject", Want: `/acme/app/.*/`, Got: ghSigner().Subject}},
		},
		{
			name: "alternation stays anchored",
			id:   Identity{Issuer: iss, SubjectRegexp: `nope|https://github\.com/acme/.*`},
			s:    &SignerIdentity{Issuer: iss, Subject: "x https://github.com/acme/app"},
			want: []Mismatch{{Field: "subject", Want: `/nope|https://github\.com/acme/.*/`, Got: "x https://github.com/acme/app"}},
		},
		{
			name: "issuer differs",
			id:   Identity{Issuer: "https://gitlab.com", SubjectRegexp: `.*`},
			s:    ghSigner(),
			want: []Mismatch{{Field: "issuer", Want: `"https://gitlab.com"`, Got: iss}},
		},
		{
			name: "issuer is exact not prefix",
			id:   Identity{Issuer: "https://token.actions.githubusercontent.co", SubjectRegexp: `.*`},
			s:    ghSigner(),
			want: []Mismatch{{Field: "issuer", Want: `"https://token.actions.githubusercontent.co"`, Got: iss}},
		},
		{
			name: "claims exact and regexp",
			id: Identity{Issuer: iss, SubjectRegexp: `.*`, Claims: map[string]ClaimMatch{
				"source_repository_uri":  {Exact: "https://github.com/acme/app"},
				"runner_environment":     {Regexp: "github-hosted|self-hosted"},
				"deployment_environment": {Exact: "production"},
			}},
			s: ghSigner(),
		},
		{
			name: "claims mismatch sorted by name, absent claim is empty",
			id: Identity{Issuer: iss, SubjectRegexp: `.*`, Claims: map[string]ClaimMatch{
				"source_repository_uri": {Exact: "https://github.com/acme/other"},
				"build_trigger":         {Exact: "push"},
				"runner_environment":    {Regexp: "self"},
			}},
			s: ghSigner(),
			want: []Mismatch{
				{Field: "claims.build_trigger", Want: `"push"`, Got: ""},
				{Field: "claims.runner_environment", Want: "/self/", Got: "github-hosted"},
				{Field: "claims.source_repository_uri", Want: `"https://github.com/acme/other"`, Got: "https://github.com/acme/app"},
			},
		},
		{
			name: "a regexp that matches empty still needs the claim present",
			id: Identity{Issuer: iss, SubjectRegexp: `.*`, Claims: map[string]ClaimMatch{
				"build_trigger":          {Regexp: ".*"},
				"deployment_environment": {Regexp: ".*"},
				"token_subject":          {Exact: ""},
			}},
			s: ghSigner(),
			want: []Mismatch{
				{Field: "claims.build_trigger", Want: "/.*/", Got: "(absent)"},
			},
		},
		{
			name: "nil signer",
			id:   Identity{Issuer: iss, Subject: "x"},
			s:    nil,
			want: []Mismatch{{Field: "subject", Want: `"x"`, Got: "(no certificate identity)"}},
		},
		{
			name: "invalid regexp never matches",
			id:   Identity{Issuer: iss, SubjectRegexp: `(`},
			s:    ghSigner(),
			want: []Mismatch{{Field: "subject", Want: "/(/ (invalid regexp)", Got: ghSigner().Subject}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := tt.id.Match(tt.s)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Match() mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIdentityValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		id      Identity
		wantErr string // substring; "" = valid
	}{
		{name: "ok exact", id: Identity{Issuer: "i", Subject: "s"}},
		{name: "ok regexp and claims", id: Identity{Issuer: "i", SubjectRegexp: "s.*", Claims: map[string]ClaimMatch{
			"token_subject": {Exact: "repo:a/b:ref:refs/heads/main"}, "build_config_digest": {Regexp: "[0-9a-f]{40}"}}}},
		{name: "no issuer", id: Identity{Subject: "s"}, wantErr: "issuer is required"},
		{name: "no subject", id: Identity{Issuer: "i"}, wantErr: "one of subject or subject_regexp"},
		{name: "both subjects", id: Identity{Issuer: "i", Subject: "s", SubjectRegexp: "s"}, wantErr: "exclusive"},
		{name: "bad subject regexp", id: Identity{Issuer: "i", SubjectRegexp: "a("}, wantErr: "subject_regexp"},
		{name: "unknown claim", id: Identity{Issuer: "i", Subject: "s", Claims: map[string]ClaimMatch{"sourceRepositoryURI": {Exact: "x"}}}, wantErr: `unknown claim "sourceRepositoryURI"`},
		{name: "bad claim regexp", id: Identity{Issuer: "i", Subject: "s", Claims: map[string]ClaimMatch{"build_trigger": {Regexp: "["}}}, wantErr: "claims.build_trigger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.id.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFulcioClaimNames(t *testing.T) {
	t.Parallel()
	names := FulcioClaimNames()
	if len(names) != 17 {
		t.Fatalf("got %d claim names, want 17 (1.8–1.24)", len(names))
	}
	for arc := 8; arc <= 24; arc++ {
		name, ok := FulcioClaimName(arc)
		if !ok {
			t.Fatalf("FulcioClaimName(%d) unknown", arc)
		}
		if back, _ := FulcioClaimArc(name); back != arc {
			t.Errorf("FulcioClaimArc(%q) = %d, want %d", name, back, arc)
		}
	}
	if n, _ := FulcioClaimName(23); n != "deployment_environment" {
		t.Errorf("arc 23 = %q, want deployment_environment", n)
	}
	if n, _ := FulcioClaimName(24); n != "token_subject" {
		t.Errorf("arc 24 = %q, want token_subject", n)
	}
}

func TestIdentityJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := `{"issuer":"i","subject_regexp":"s.*","claims":{"build_trigger":"push","source_repository_ref":{"regexp":"refs/tags/v.*"}}}`
	var id Identity
	if err := json.Unmarshal([]byte(in), &id); err != nil {
		t.Fatal(err)
	}
	if err := id.Validate(); err != nil {
		t.Fatal(err)
	}
	s := &SignerIdentity{Issuer: "i", Subject: "sx", Claims: map[string]string{"build_trigger": "push", "source_repository_ref": "refs/tags/v1"}}
	if m := id.Match(s); len(m) != 0 {
		t.Errorf("Match() = %v, want no mismatch", m)
	}
}
