package oidc_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	gooidc "github.com/coreos/go-oidc/v3/oidc"
	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
)

// verify checks a token the way Fulcio does: discovery, JWKS, RS256, issuer, audience, expiry.
func verify(t *testing.T, iss *oidc.Issuer, token string) (map[string]any, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := gooidc.NewProvider(ctx, iss.URL)
	if err != nil {
		t.Fatalf("discover %s: %v", iss.URL, err)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: oidc.Audience}).Verify(ctx, token)
	if err != nil {
		return nil, err
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatalf("claims: %v", err)
	}
	return claims, nil
}

func TestMint(t *testing.T) {
	t.Parallel()
	iss := oidc.Start(t, "127.0.0.1:0")
	claims, err := verify(t, iss, iss.Mint(map[string]any{"sub": "me", "n": 1}))
	if err != nil {
		t.Fatalf("verify minted token: %v", err)
	}
	if claims["sub"] != "me" || claims["iss"] != iss.URL || claims["aud"] != oidc.Audience {
		t.Errorf("got claims %v, want sub me, iss %s, aud %s", claims, iss.URL, oidc.Audience)
	}

	for name, c := range map[string]map[string]any{
		"expired":        {"exp": time.Now().Add(-time.Hour).Unix()},
		"other audience": {"aud": "nope"},
		"no audience":    {"aud": nil},
		"other issuer":   {"iss": "http://127.0.0.1:1"},
	} {
		if _, err := verify(t, iss, iss.Mint(c)); err == nil {
			t.Errorf("%s: token verified, want an error", name)
		}
	}
	other := oidc.Start(t, "127.0.0.1:0")
	if _, err := verify(t, iss, other.Mint(map[string]any{"iss": iss.URL})); err == nil {
		t.Errorf("token signed by another issuer's key verified, want an error")
	}
}

func TestTokenRequest(t *testing.T) {
	t.Parallel()
	iss := oidc.Start(t, "127.0.0.1:0")
	url, bearer := iss.TokenRequest(oidc.GitLabClaims(oidc.GitLabOptions{}))
	get := func(auth string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(http.MethodGet, url+"&audience=custom", nil)
		if err != nil {
			t.Fatal(err)
		}
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("token request: %v", err)
		}
		t.Cleanup(func() {
			if err := resp.Body.Close(); err != nil {
				t.Errorf("close body: %v", err)
			}
		})
		return resp
	}
	for _, auth := range []string{"", "bearer wrong", "Basic " + bearer} {
		if resp := get(auth); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: got status %d, want 401", auth, resp.StatusCode)
		}
	}
	resp := get("bearer " + bearer)
	var body struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	p, err := gooidc.NewProvider(ctx, iss.URL)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := p.Verifier(&gooidc.Config{ClientID: "custom"}).Verify(ctx, body.Value)
	if err != nil {
		t.Fatalf("verify requested token: %v", err)
	}
	if want := "project_path:grp/app:ref_type:branch:ref:main"; idt.Subject != want {
		t.Errorf("got sub %q, want %q", idt.Subject, want)
	}
}

func TestClaimsDefaults(t *testing.T) {
	t.Parallel()
	gh := oidc.GitHubClaims(oidc.GitHubOptions{Repository: "o/r", Ref: "refs/tags/v1", Environment: "prod"})
	want := map[string]any{
		"sub":              "repo:o/r:environment:prod",
		"ref_type":         "tag",
		"repository_owner": "o",
		"job_workflow_ref": "o/r/.github/workflows/build.yml@refs/tags/v1",
		"workflow_ref":     "o/r/.github/workflows/build.yml@refs/tags/v1",
		"environment":      "prod",
	}
	got := map[string]any{}
	for k := range want {
		got[k] = gh[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GitHubClaims (-want +got):\n%s", diff)
	}

	gl := oidc.GitLabClaims(oidc.GitLabOptions{ProjectPath: "a/b/c", Ref: "v2", RefType: "tag"})
	want = map[string]any{
		"namespace_path":    "a/b",
		"ref_path":          "refs/tags/v2",
		"ci_config_ref_uri": "gitlab.com/a/b/c//.gitlab-ci.yml@refs/tags/v2",
		"sub":               "project_path:a/b/c:ref_type:tag:ref:v2",
	}
	got = map[string]any{}
	for k := range want {
		got[k] = gl[k]
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GitLabClaims (-want +got):\n%s", diff)
	}
}
