package sigstack_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/fulcio/certificate"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"github.com/sigstore/sigstore-go/pkg/verify"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

const payload = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"` +
	`e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}],` +
	`"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"build"}}`

// signDSSE signs payload keylessly against the stack with Fulcio, the TSA and Rekor v2 and returns the
// bundle as JSON, the way a real signer writes it.
func signDSSE(t *testing.T, s *sigstack.Stack, fulcioURL, token string) ([]byte, error) {
	t.Helper()
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		t.Fatalf("ephemeral keypair: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pb, err := sign.Bundle(&sign.DSSEData{Data: []byte(payload), PayloadType: "application/vnd.in-toto+json"}, kp,
		sign.BundleOptions{
			Context:                    ctx,
			CertificateProvider:        sign.NewFulcio(&sign.FulcioOptions{BaseURL: fulcioURL, Timeout: 2 * time.Second}),
			CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: token},
			TimestampAuthorities:       []*sign.TimestampAuthority{sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{URL: s.TSAURL})},
			TransparencyLogs:           []sign.Transparency{sign.NewRekor(&sign.RekorOptions{BaseURL: s.RekorURL, Version: 2})},
		})
	if err != nil {
		return nil, err
	}
	out, err := protojson.Marshal(pb)
	if err != nil {
		t.Fatalf("marshal bundle: %v", err)
	}
	return out, nil
}

func verifyBundle(t *testing.T, s *sigstack.Stack, bundleJSON []byte, san, issuer string) *certificate.Summary {
	t.Helper()
	tr, err := root.NewTrustedRootFromPath(s.TrustedRootPath)
	if err != nil {
		t.Fatalf("load trusted root: %v", err)
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(bundleJSON); err != nil {
		t.Fatalf("parse bundle: %v", err)
	}
	v, err := verify.NewVerifier(tr, verify.WithTransparencyLog(1), verify.WithObserverTimestamps(1))
	if err != nil {
		t.Fatalf("new verifier: %v", err)
	}
	sanM, err := verify.NewSANMatcher(san, "")
	if err != nil {
		t.Fatal(err)
	}
	issM, err := verify.NewIssuerMatcher(issuer, "")
	if err != nil {
		t.Fatal(err)
	}
	id, err := verify.NewCertificateIdentity(sanM, issM, certificate.Extensions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(&b, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithCertificateIdentity(id)))
	if err != nil {
		t.Fatalf("verify bundle: %v", err)
	}
	if res.Signature == nil || res.Signature.Certificate == nil {
		t.Fatalf("verification result has no certificate: %+v", res)
	}
	return res.Signature.Certificate
}

func TestGitHubKeyless(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	claims := oidc.GitHubClaims(oidc.GitHubOptions{Repository: "octo-org/app", RunID: "99", RunAttempt: "2"})
	bundleJSON, err := signDSSE(t, s, s.FulcioURL, s.GitHub.Mint(claims))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	san := "https://github.com/octo-org/app/.github/workflows/build.yml@refs/heads/main"
	got := verifyBundle(t, s, bundleJSON, san, s.GitHub.URL).Extensions
	want := certificate.Extensions{
		Issuer:                              s.GitHub.URL,
		GithubWorkflowTrigger:               "push",
		GithubWorkflowSHA:                   "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		GithubWorkflowName:                  "build",
		GithubWorkflowRepository:            "octo-org/app",
		GithubWorkflowRef:                   "refs/heads/main",
		BuildSignerURI:                      san,
		BuildSignerDigest:                   "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		RunnerEnvironment:                   "github-hosted",
		SourceRepositoryURI:                 "https://github.com/octo-org/app",
		SourceRepositoryDigest:              "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		SourceRepositoryRef:                 "refs/heads/main",
		SourceRepositoryIdentifier:          "123456",
		SourceRepositoryOwnerURI:            "https://github.com/octo-org",
		SourceRepositoryOwnerIdentifier:     "7890",
		BuildConfigURI:                      san,
		BuildConfigDigest:                   "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		BuildTrigger:                        "push",
		RunInvocationURI:                    "https://github.com/octo-org/app/actions/runs/99/attempts/2",
		SourceRepositoryVisibilityAtSigning: "public",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("certificate extensions (-want +got):\n%s", diff)
	}
}

func TestGitLabKeyless(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	claims := oidc.GitLabClaims(oidc.GitLabOptions{ProjectPath: "grp/app", JobID: "555"})
	bundleJSON, err := signDSSE(t, s, s.FulcioURL, s.GitLab.Mint(claims))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	san := "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main"
	got := verifyBundle(t, s, bundleJSON, san, s.GitLab.URL).Extensions
	want := certificate.Extensions{
		Issuer:                              s.GitLab.URL,
		BuildSignerURI:                      san,
		BuildSignerDigest:                   "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		RunnerEnvironment:                   "gitlab-hosted",
		SourceRepositoryURI:                 "https://gitlab.com/grp/app",
		SourceRepositoryDigest:              "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		SourceRepositoryRef:                 "refs/heads/main",
		SourceRepositoryIdentifier:          "4711",
		SourceRepositoryOwnerURI:            "https://gitlab.com/grp",
		SourceRepositoryOwnerIdentifier:     "42",
		BuildConfigURI:                      san,
		BuildConfigDigest:                   "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
		BuildTrigger:                        "push",
		RunInvocationURI:                    "https://gitlab.com/grp/app/-/jobs/555",
		SourceRepositoryVisibilityAtSigning: "public",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("certificate extensions (-want +got):\n%s", diff)
	}
}

func TestGitHubTokenRequest(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	url, bearer := s.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{}))
	req, err := http.NewRequest(http.MethodGet, url+"&audience=sigstore", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "bearer "+bearer)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("token request: %v", err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	var got struct {
		Value string `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatalf("decode token response: %v", err)
	}
	if _, err := signDSSE(t, s, s.FulcioURL, got.Value); err != nil {
		t.Fatalf("sign with requested token: %v", err)
	}
}

func TestRejectedTokens(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	gh := oidc.GitHubClaims(oidc.GitHubOptions{})
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for kk, vv := range gh {
			c[kk] = vv
		}
		c[k] = v
		return c
	}
	other := oidc.Start(t, "127.0.0.1:0") // an issuer Fulcio does not know
	for name, token := range map[string]string{
		"expired":        s.GitHub.Mint(with("exp", time.Now().Add(-time.Hour).Unix())),
		"wrong audience": s.GitHub.Mint(with("aud", "not-sigstore")),
		"unknown issuer": other.Mint(gh),
		"forged issuer":  other.Mint(with("iss", s.GitHub.URL)),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := signDSSE(t, s, s.FulcioURL, token); err == nil {
				t.Errorf("signing with a token %s succeeded, want an error", name)
			}
		})
	}
}

func TestFaultProxy(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	token := s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{}))
	for _, mode := range []sigstack.FaultMode{sigstack.Refuse, sigstack.Status500, sigstack.Garbage, sigstack.Hang} {
		t.Run(mode.String(), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			_, err := signDSSE(t, s, sigstack.FaultProxy(t, s.FulcioURL, mode), token)
			if err == nil {
				t.Fatalf("signing through a %s Fulcio succeeded, want an error", mode)
			}
			t.Logf("%s: %v (after %s)", mode, err, time.Since(start).Round(time.Millisecond))
		})
	}
	t.Run("pass", func(t *testing.T) {
		t.Parallel()
		if _, err := signDSSE(t, s, sigstack.FaultProxy(t, s.FulcioURL, sigstack.Pass), token); err != nil {
			t.Fatalf("signing through a pass-through proxy: %v", err)
		}
	})
	t.Run("switch", func(t *testing.T) {
		t.Parallel()
		p := sigstack.StartProxy(t, s.FulcioURL, sigstack.Pass)
		if _, err := signDSSE(t, s, p.URL(s.FulcioURL), token); err != nil {
			t.Fatalf("signing through a pass-through proxy: %v", err)
		}
		p.SetMode(sigstack.Refuse)
		if _, err := signDSSE(t, s, p.URL(s.FulcioURL), token); err == nil {
			t.Fatalf("signing after SetMode(Refuse) succeeded, want an error")
		}
	})
	t.Run("tsa garbage", func(t *testing.T) {
		t.Parallel()
		url := sigstack.FaultProxy(t, s.TSAURL, sigstack.Garbage)
		if !strings.HasSuffix(url, "/api/v1/timestamp") {
			t.Errorf("got proxy URL %s, want the TSA path kept", url)
		}
		resp, err := http.Post(url, "application/timestamp-query", strings.NewReader("x"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close() //nolint:errcheck // read-only
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != sigstack.GarbageBody {
			t.Errorf("got body %q, want %q", body, sigstack.GarbageBody)
		}
	})
}

// TestStopServices runs a stack of its own and stops each service: signing must then fail.
func TestStopServices(t *testing.T) {
	s := sigstack.Start(t)
	token := s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{}))
	if _, err := signDSSE(t, s, s.FulcioURL, token); err != nil {
		t.Fatalf("sign before stopping anything: %v", err)
	}
	for _, stop := range []struct {
		name string
		f    func(testing.TB)
	}{{"rekor", s.StopRekor}, {"tsa", s.StopTSA}, {"fulcio", s.StopFulcio}} {
		stop.f(t)
		_, err := signDSSE(t, s, s.FulcioURL, token)
		if err == nil {
			t.Fatalf("signing after stopping %s succeeded, want an error", stop.name)
		}
		var netErr interface{ Timeout() bool }
		t.Logf("after stopping %s: %v (timeout %v)", stop.name, err, errors.As(err, &netErr) && netErr.Timeout())
	}
}

func TestTrustFiles(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	sc, err := root.NewSigningConfigFromPath(s.SigningConfigPath)
	if err != nil {
		t.Fatalf("load signing config: %v", err)
	}
	now := time.Now()
	for _, c := range []struct {
		name     string
		services []root.Service
		versions []uint32
		want     string
	}{
		{"fulcio", sc.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, s.FulcioURL},
		{"rekor", sc.RekorLogURLs(), sign.RekorAPIVersions, s.RekorURL},
		{"tsa", sc.TimestampAuthorityURLs(), sign.TimestampAuthorityAPIVersions, s.TSAURL},
		{"oidc", sc.OIDCProviderURLs(), []uint32{1}, s.GitHub.URL},
	} {
		svc, err := root.SelectService(c.services, c.versions, now)
		if err != nil {
			t.Errorf("%s: select service: %v", c.name, err)
			continue
		}
		if svc.URL != c.want {
			t.Errorf("%s: got URL %s, want %s", c.name, svc.URL, c.want)
		}
	}
	tr, err := root.NewTrustedRootFromPath(s.TrustedRootPath)
	if err != nil {
		t.Fatalf("load trusted root: %v", err)
	}
	if n := len(tr.FulcioCertificateAuthorities()); n != 1 {
		t.Errorf("got %d certificate authorities, want 1", n)
	}
	if n := len(tr.TimestampingAuthorities()); n != 1 {
		t.Errorf("got %d timestamping authorities, want 1", n)
	}
	if n := len(tr.RekorLogs()); n != 1 {
		t.Errorf("got %d transparency logs, want 1", n)
	}
	if n := len(tr.CTLogs()); n != 0 {
		t.Errorf("got %d CT logs, want 0", n)
	}
}
