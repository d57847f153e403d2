package sigstore_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/intoto-ci/intoto-ci/internal/identity"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/sigstore"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
	"github.com/intoto-ci/intoto-ci/internal/trust"
)

// End-to-end tests against the real loopback Sigstore stack (Fulcio, TSA, Rekor v2). They skip unless
// run inside a network namespace: unshare -n sh -c 'ip link set lo up; go test ./internal/sigstore/'.

const e2eStatement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"dist/app","digest":{"sha256":"` +
	`2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}],` +
	`"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"build","command":["make"]}}`

var e2eRetry = sigstore.Retry{Attempts: 3, Timeout: 2 * time.Second, Backoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

func stackOptions(s *sigstack.Stack, src sigstore.TokenSource) sigstore.KeylessOptions {
	return sigstore.KeylessOptions{
		Token:        src,
		FulcioURL:    s.FulcioURL,
		RekorURL:     s.RekorURL,
		RekorVersion: 2,
		TSAURLs:      []string{s.TSAURL},
		Retry:        e2eRetry,
	}
}

func sign(t testing.TB, opts sigstore.KeylessOptions) []byte {
	t.Helper()
	k, err := sigstore.NewKeyless(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	b, err := k.Sign(ctx, intoto.PayloadType, []byte(e2eStatement))
	if err != nil {
		t.Fatalf("Sign() = %v", err)
	}
	return b
}

func stackVerifier(t testing.TB, s *sigstack.Stack) *sigstore.KeylessVerifier {
	t.Helper()
	tr, err := trust.LoadTrustedRoot(s.TrustedRootPath)
	if err != nil {
		t.Fatal(err)
	}
	v, err := sigstore.NewKeylessVerifier(tr)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func detect(t testing.TB, env map[string]string) identity.Source {
	t.Helper()
	src, err := identity.Detect(identity.MapEnv(env), identity.Options{KubernetesTokenPath: t.TempDir() + "/none"})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestE2EGitHubActions(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	url, reqTok := s.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{
		Repository: "acme/app", RunID: "77", RunAttempt: "3", Environment: "production",
		Ref: "refs/tags/v1.2.0",
	}))
	src := detect(t, map[string]string{identity.EnvGitHubRequestURL: url, identity.EnvGitHubRequestToken: reqTok})
	if src.Name() != "github-actions" {
		t.Fatalf("detected %s, want github-actions", src.Name())
	}
	b := sign(t, stackOptions(s, src))
	got, err := stackVerifier(t, s).VerifyBundle(context.Background(), b)
	if err != nil {
		t.Fatalf("VerifyBundle() = %v", err)
	}
	if string(got.Payload) != e2eStatement || got.PayloadType != intoto.PayloadType {
		t.Errorf("payload = %s %q, want the signed statement", got.PayloadType, got.Payload)
	}
	if d := time.Since(got.Time); d < 0 || d > 5*time.Minute {
		t.Errorf("time = %v, want the TSA time of just now", got.Time)
	}
	san := "https://github.com/acme/app/.github/workflows/build.yml@refs/tags/v1.2.0"
	if got.Signer.Subject != san || got.Signer.Issuer != s.GitHub.URL {
		t.Errorf("signer = %q from %q, want %q from %q", got.Signer.Subject, got.Signer.Issuer, san, s.GitHub.URL)
	}
	for k, want := range map[string]string{
		"source_repository_uri":  "https://github.com/acme/app",
		"source_repository_ref":  "refs/tags/v1.2.0",
		"run_invocation_uri":     "https://github.com/acme/app/actions/runs/77/attempts/3",
		"runner_environment":     "github-hosted",
		"deployment_environment": "production",
	} {
		if got.Signer.Claims[k] != want {
			t.Errorf("claim %s = %q, want %q", k, got.Signer.Claims[k], want)
		}
	}
	// 1.24, which sigstore-go does not parse: the raw "sub" of the token.
	if want := "repo:acme/app:environment:production"; got.Signer.Claims["token_subject"] != want {
		t.Errorf("claim token_subject = %q, want %q", got.Signer.Claims["token_subject"], want)
	}

	// The identity policy the verify engine applies.
	id := intoto.Identity{Issuer: s.GitHub.URL, SubjectRegexp: `https://github\.com/acme/app/\.github/workflows/build\.yml@refs/tags/v.*`,
		Claims: map[string]intoto.ClaimMatch{"source_repository_identifier": {Exact: "123456"}, "deployment_environment": {Exact: "production"}}}
	if err := id.Validate(); err != nil {
		t.Fatal(err)
	}
	if m := id.Match(got.Signer); len(m) != 0 {
		t.Errorf("Match() = %v, want no mismatch", m)
	}
	id.Claims["source_repository_identifier"] = intoto.ClaimMatch{Exact: "999"}
	if m := id.Match(got.Signer); len(m) != 1 {
		t.Errorf("Match() = %v, want one mismatch", m)
	}
}

func TestE2EGitLab(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	tok := s.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{ProjectPath: "grp/app", JobID: "555"}))
	src := detect(t, map[string]string{identity.EnvSigstoreIDToken: tok})
	if src.Name() != "gitlab" {
		t.Fatalf("detected %s, want gitlab", src.Name())
	}
	b := sign(t, stackOptions(s, src))
	got, err := stackVerifier(t, s).VerifyBundle(context.Background(), b)
	if err != nil {
		t.Fatalf("VerifyBundle() = %v", err)
	}
	want := &intoto.SignerIdentity{
		Issuer:  s.GitLab.URL,
		Subject: "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main",
	}
	if diff := cmp.Diff(want, got.Signer, cmpIgnoreClaims); diff != "" {
		t.Errorf("signer mismatch (-want +got):\n%s", diff)
	}
	for k, want := range map[string]string{
		"issuer":                       s.GitLab.URL,
		"source_repository_uri":        "https://gitlab.com/grp/app",
		"source_repository_identifier": "4711",
		"run_invocation_uri":           "https://gitlab.com/grp/app/-/jobs/555",
		"build_config_digest":          "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c",
	} {
		if got.Signer.Claims[k] != want {
			t.Errorf("claim %s = %q, want %q", k, got.Signer.Claims[k], want)
		}
	}
}

var cmpIgnoreClaims = cmp.FilterPath(func(p cmp.Path) bool { return p.Last().String() == ".Claims" }, cmp.Ignore())

func TestE2ESigningConfigAndPrivate(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	tok := identity.Options{Token: s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{}))}
	src, err := identity.Detect(identity.MapEnv(nil), tok)
	if err != nil {
		t.Fatal(err)
	}
	v := stackVerifier(t, s)
	for name, opts := range map[string]sigstore.KeylessOptions{
		"signing config": {Token: src, SigningConfig: s.SigningConfigPath, Retry: e2eRetry},
		"private":        {Token: src, FulcioURL: s.FulcioURL, TSAURLs: []string{s.TSAURL}, Private: true, Retry: e2eRetry},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b := sign(t, opts)
			hasTlog := strings.Contains(string(b), `"tlogEntries":[{`)
			if hasTlog == opts.Private {
				t.Errorf("bundle has tlog entries = %v, private = %v", hasTlog, opts.Private)
			}
			if _, err := v.VerifyBundle(context.Background(), b); err != nil {
				t.Errorf("VerifyBundle() = %v", err)
			}
		})
	}
}

func TestE2ERefusals(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	b := sign(t, stackOptions(s, detect(t, map[string]string{
		identity.EnvSigstoreIDToken: s.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{}))})))
	v := stackVerifier(t, s)

	t.Run("altered payload", func(t *testing.T) {
		t.Parallel()
		altered := editBundle(t, b, func(m map[string]any) {
			env := m["dsseEnvelope"].(map[string]any)
			env["payload"] = base64.StdEncoding.EncodeToString([]byte(strings.Replace(e2eStatement, "dist/app", "dist/evil", 1)))
		})
		if _, err := v.VerifyBundle(context.Background(), altered); !errors.Is(err, sigstore.ErrVerification) {
			t.Errorf("VerifyBundle(altered payload) = %v, want ErrVerification", err)
		}
	})
	t.Run("altered payload type", func(t *testing.T) {
		t.Parallel()
		altered := editBundle(t, b, func(m map[string]any) {
			m["dsseEnvelope"].(map[string]any)["payloadType"] = "application/json"
		})
		if _, err := v.VerifyBundle(context.Background(), altered); err == nil {
			t.Error("VerifyBundle(altered payload type) = nil error")
		}
	})
	t.Run("timestamp removed", func(t *testing.T) {
		t.Parallel()
		// Rekor v2 gives no integrated time: without the TSA timestamp nothing dates the signature.
		altered := editBundle(t, b, func(m map[string]any) {
			delete(m["verificationMaterial"].(map[string]any), "timestampVerificationData")
		})
		if _, err := v.VerifyBundle(context.Background(), altered); !errors.Is(err, sigstore.ErrVerification) {
			t.Errorf("VerifyBundle(no timestamp) = %v, want ErrVerification", err)
		}
	})
	t.Run("other trusted root", func(t *testing.T) {
		t.Parallel()
		tr, err := trust.LoadTrustedRoot("testdata/trusted-root-public-good.json")
		if err != nil {
			t.Fatal(err)
		}
		pg, err := sigstore.NewKeylessVerifier(tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pg.VerifyBundle(context.Background(), b); !errors.Is(err, sigstore.ErrVerification) {
			t.Errorf("VerifyBundle() against public good = %v, want ErrVerification", err)
		}
	})
	t.Run("tlog entry removed", func(t *testing.T) {
		t.Parallel()
		// Still verifies through the TSA timestamp, as a --private bundle does: the log entry adds
		// transparency, not validity. An entry that is present must verify (see "tlog entry altered").
		stripped := editBundle(t, b, func(m map[string]any) {
			delete(m["verificationMaterial"].(map[string]any), "tlogEntries")
		})
		if _, err := v.VerifyBundle(context.Background(), stripped); err != nil {
			t.Errorf("VerifyBundle(no tlog entry) = %v, want success", err)
		}
	})
	t.Run("tlog entry altered", func(t *testing.T) {
		t.Parallel()
		altered := editBundle(t, b, func(m map[string]any) {
			e := m["verificationMaterial"].(map[string]any)["tlogEntries"].([]any)[0].(map[string]any)
			e["logIndex"] = "12345"
		})
		if _, err := v.VerifyBundle(context.Background(), altered); !errors.Is(err, sigstore.ErrVerification) {
			t.Errorf("VerifyBundle(altered tlog entry) = %v, want ErrVerification", err)
		}
	})
}

func editBundle(t testing.TB, b []byte, edit func(map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	edit(m)
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestE2EFaults drives every service through a fault proxy: the error names the service, and
// retries are bounded.
func TestE2EFaults(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	tok := s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{}))
	src, err := identity.Detect(identity.MapEnv(nil), identity.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	services := []struct {
		name    string
		wantErr error
		set     func(o *sigstore.KeylessOptions, url string)
		target  string
	}{
		{"fulcio", sigstore.ErrFulcio, func(o *sigstore.KeylessOptions, u string) { o.FulcioURL = u }, s.FulcioURL},
		{"tsa", sigstore.ErrTSA, func(o *sigstore.KeylessOptions, u string) { o.TSAURLs = []string{u} }, s.TSAURL},
		{"rekor", sigstore.ErrRekor, func(o *sigstore.KeylessOptions, u string) { o.RekorURL = u }, s.RekorURL},
	}
	for _, svc := range services {
		for _, mode := range []sigstack.FaultMode{sigstack.Refuse, sigstack.Status500, sigstack.Hang, sigstack.Garbage} {
			t.Run(svc.name+"/"+mode.String(), func(t *testing.T) {
				t.Parallel()
				opts := stackOptions(s, src)
				svc.set(&opts, sigstack.FaultProxy(t, svc.target, mode))
				k, err := sigstore.NewKeyless(opts)
				if err != nil {
					t.Fatal(err)
				}
				start := time.Now()
				_, err = k.Sign(context.Background(), intoto.PayloadType, []byte(e2eStatement))
				d := time.Since(start)
				if !errors.Is(err, svc.wantErr) || !strings.HasPrefix(err.Error(), svc.wantErr.Error()+": ") {
					t.Fatalf("Sign() = %v, want an error starting %q", err, svc.wantErr.Error()+": ")
				}
				if strings.Contains(err.Error(), tok) {
					t.Errorf("error reveals the token")
				}
				// Attempts × timeout + backoffs, plus the other services' real work.
				if limit := time.Duration(e2eRetry.Attempts)*e2eRetry.Timeout + 10*time.Second; d > limit {
					t.Errorf("Sign() took %v, want under %v", d, limit)
				}
				t.Logf("%v after %v", err, d.Round(time.Millisecond))
			})
		}
	}
}

// TestE2ERetryThenSucceed fails the first request to each service with 500 and then lets requests
// through: signing succeeds after a retry.
func TestE2ERetryThenSucceed(t *testing.T) {
	t.Parallel()
	s := sigstack.Shared(t)
	tok := s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{}))
	src, err := identity.Detect(identity.MapEnv(nil), identity.Options{Token: tok})
	if err != nil {
		t.Fatal(err)
	}
	fulcio := sigstack.StartProxy(t, s.FulcioURL, sigstack.Status500)
	tsa := sigstack.StartProxy(t, s.TSAURL, sigstack.Status500)
	rekor := sigstack.StartProxy(t, s.RekorURL, sigstack.Status500)
	opts := stackOptions(s, src)
	opts.FulcioURL, opts.TSAURLs, opts.RekorURL = fulcio.URL(s.FulcioURL), []string{tsa.URL(s.TSAURL)}, rekor.URL(s.RekorURL)
	var failures atomic.Int32
	opts.Transport = flipTransport{base: http.DefaultTransport, proxies: []*sigstack.Proxy{fulcio, tsa, rekor}, failures: &failures}
	b := sign(t, opts)
	if _, err := stackVerifier(t, s).VerifyBundle(context.Background(), b); err != nil {
		t.Fatalf("VerifyBundle() = %v", err)
	}
	if failures.Load() != 3 {
		t.Errorf("saw %d injected 500s, want 3 (one per service)", failures.Load())
	}
}

// flipTransport switches a proxy to Pass after it answered a 500.
type flipTransport struct {
	base     http.RoundTripper
	proxies  []*sigstack.Proxy
	failures *atomic.Int32
}

func (f flipTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := f.base.RoundTrip(r)
	if err == nil && resp.StatusCode == http.StatusInternalServerError {
		for _, p := range f.proxies {
			if strings.HasPrefix(r.URL.String(), p.URL("")) && p.Mode() == sigstack.Status500 {
				p.SetMode(sigstack.Pass)
				f.failures.Add(1)
			}
		}
	}
	return resp, err
}

// BenchmarkKeylessSign measures one keyless signature on the loopback stack, private (Fulcio and the
// TSA) and public (plus Rekor v2). TestKeylessRoundTrips (internal/cli) proves there is exactly one
// request to each service; this shows what they cost. Rekor v2 answers an upload only at its next
// checkpoint (about 1 s, hard-wired in rekor-tiles), so the second variant mostly measures that wait.
// Run it in a network namespace: unshare -n sh -c 'ip link set lo up; go test -run ^$ -bench KeylessSign ./internal/sigstore'.
func BenchmarkKeylessSign(b *testing.B) {
	s := sigstack.Shared(b)
	token := s.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{}))
	for _, tc := range []struct {
		name  string
		rekor bool
	}{{"fulcio+tsa", false}, {"fulcio+tsa+rekor-v2", true}} {
		b.Run(tc.name, func(b *testing.B) {
			opts := stackOptions(s, detect(b, map[string]string{identity.EnvSigstoreIDToken: token}))
			if !tc.rekor {
				opts.RekorURL, opts.RekorVersion, opts.Private = "", 0, true
			}
			k, err := sigstore.NewKeyless(opts)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := k.Sign(context.Background(), intoto.PayloadType, []byte(e2eStatement)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
