package intoto

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
)

// SignerIdentity is what a verified Fulcio certificate says about its signer: the OIDC issuer, the
// subject alternative name and every Fulcio CI claim present (extensions 1.3.6.1.4.1.57264.1.8–24),
// keyed by the snake_case names of FulcioClaimName.
type SignerIdentity struct {
	Issuer  string            `json:"issuer"`
	Subject string            `json:"subject"`
	Claims  map[string]string `json:"claims,omitempty"`
}

// Mismatch is one way a SignerIdentity fails an Identity. Field is "issuer", "subject" or
// "claims.<name>"; Want is the constraint as written (a regexp is shown as "/re/").
type Mismatch struct {
	Field string `json:"field"`
	Want  string `json:"want"`
	Got   string `json:"got"`
}

func (m Mismatch) String() string {
	return fmt.Sprintf("%s: got %q, want %s", m.Field, m.Got, m.Want)
}

// fulcioClaims lists the Fulcio certificate extensions 1.3.6.1.4.1.57264.1.<Arc> that carry a claim,
// with the one spelling intoto-ci uses for each (layouts, reports, flags). See Fulcio's docs/oid-info.md.
var fulcioClaims = [...]struct {
	Arc  int
	Name string
}{
	{8, "issuer"},
	{9, "build_signer_uri"},
	{10, "build_signer_digest"},
	{11, "runner_environment"},
	{12, "source_repository_uri"},
	{13, "source_repository_digest"},
	{14, "source_repository_ref"},
	{15, "source_repository_identifier"},
	{16, "source_repository_owner_uri"},
	{17, "source_repository_owner_identifier"},
	{18, "build_config_uri"},
	{19, "build_config_digest"},
	{20, "build_trigger"},
	{21, "run_invocation_uri"},
	{22, "source_repository_visibility_at_signing"},
	{23, "deployment_environment"},
	{24, "token_subject"},
}

// FulcioClaimName returns the claim name of Fulcio extension 1.3.6.1.4.1.57264.1.<arc>.
func FulcioClaimName(arc int) (string, bool) {
	for _, c := range fulcioClaims {
		if c.Arc == arc {
			return c.Name, true
		}
	}
	return "", false
}

// FulcioClaimArc returns the last OID arc of the Fulcio extension carrying the named claim.
func FulcioClaimArc(name string) (int, bool) {
	for _, c := range fulcioClaims {
		if c.Name == name {
			return c.Arc, true
		}
	}
	return 0, false
}

// FulcioClaimNames returns every known claim name, in OID order.
func FulcioClaimNames() []string {
	names := make([]string, len(fulcioClaims))
	for i, c := range fulcioClaims {
		names[i] = c.Name
	}
	return names
}

// anchor compiles re so that it must match the whole string.
func anchor(re string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + re + `)$`)
}

// Validate checks that the identity can be matched: an issuer, exactly one of subject and
// subject_regexp, regexps that compile and claim names intoto-ci knows.
func (id *Identity) Validate() error {
	var errs []error
	if id.Issuer == "" {
		errs = append(errs, errors.New("issuer is required"))
	}
	switch {
	case id.Subject == "" && id.SubjectRegexp == "":
		errs = append(errs, errors.New("one of subject or subject_regexp is required"))
	case id.Subject != "" && id.SubjectRegexp != "":
		errs = append(errs, errors.New("subject and subject_regexp are exclusive"))
	case id.SubjectRegexp != "":
		if _, err := anchor(id.SubjectRegexp); err != nil {
			errs = append(errs, fmt.Errorf("subject_regexp: %w", err))
		}
	}
	for _, name := range sortedKeys(id.Claims) {
		c := id.Claims[name]
		if _, ok := FulcioClaimArc(name); !ok {
			errs = append(errs, fmt.Errorf("claims: unknown claim %q", name))
			continue
		}
		switch {
		case c.Regexp != "" && c.Exact != "":
			errs = append(errs, fmt.Errorf("claims.%s: exact value and regexp are exclusive", name))
		case c.Regexp != "":
			if _, err := anchor(c.Regexp); err != nil {
				errs = append(errs, fmt.Errorf("claims.%s: %w", name, err))
			}
		}
	}
	return errors.Join(errs...)
}

// Match compares a verified signer against the identity and returns every mismatch, in a stable
// order (issuer, subject, claims by name). No mismatch means the signer is this identity.
// Regexps are anchored: the whole value must match, and a claim constrained by a regexp must be
// present, even if the regexp matches "". An empty exact claim constraint requires the claim to be
// absent or empty. Call Validate first: an invalid regexp here is reported as a mismatch.
func (id *Identity) Match(s *SignerIdentity) []Mismatch {
	if s == nil {
		return []Mismatch{{Field: "subject", Want: id.describeSubject(), Got: "(no certificate identity)"}}
	}
	var out []Mismatch
	if s.Issuer != id.Issuer {
		out = append(out, Mismatch{Field: "issuer", Want: fmt.Sprintf("%q", id.Issuer), Got: s.Issuer})
	}
	if m, ok := matchValue("subject", id.Subject, id.SubjectRegexp, s.Subject); !ok {
		out = append(out, m)
	}
	for _, name := range sortedKeys(id.Claims) {
		c := id.Claims[name]
		got, present := s.Claims[name]
		if c.Regexp != "" && !present {
			// A regexp that matches "" (".*", "(x)?") must not let a certificate without the
			// claim through: a named claim must be present unless an exact "" is asked for.
			out = append(out, Mismatch{Field: "claims." + name, Want: "/" + c.Regexp + "/", Got: "(absent)"})
			continue
		}
		if m, ok := matchValue("claims."+name, c.Exact, c.Regexp, got); !ok {
			out = append(out, m)
		}
	}
	return out
}

func (id *Identity) describeSubject() string {
	if id.SubjectRegexp != "" {
		return "/" + id.SubjectRegexp + "/"
	}
	return fmt.Sprintf("%q", id.Subject)
}

func matchValue(field, exact, re, got string) (Mismatch, bool) {
	if re == "" {
		return Mismatch{Field: field, Want: fmt.Sprintf("%q", exact), Got: got}, got == exact
	}
	m := Mismatch{Field: field, Want: "/" + re + "/", Got: got}
	r, err := anchor(re)
	if err != nil {
		m.Want += " (invalid regexp)"
		return m, false
	}
	return m, r.MatchString(got)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
