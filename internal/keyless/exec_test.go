package keyless_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
	"github.com/intoto-ci/intoto-ci/internal/verify"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// The Exec backend runs the real intoto-ci-sigstore (built from this checkout) against the real
// loopback Sigstore stack: what intoto-ci does for every keyless step.

func TestMain(m *testing.M) { os.Exit(buildtest.Main(m)) }

const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"app","digest":{"sha256":"` +
	`2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}],` +
	`"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"build","command":["make"]}}`

func helper(t testing.TB) string {
	return filepath.Join(filepath.Dir(buildtest.IntotoCI(t)), keyless.HelperName)
}

// staticToken is a token source handing out one token, counting calls.
type staticToken struct {
	tok   string
	calls int
}

func (s *staticToken) Token(context.Context) (string, error) { s.calls++; return s.tok, nil }
func (s *staticToken) Name() string                          { return "test" }

func signWith(t testing.TB, x keyless.Exec, s *sigstack.Stack, tok keyless.TokenSource, payload string) ([]byte, error) {
	t.Helper()
	services, err := keyless.Resolve(keyless.Options{FulcioURL: s.FulcioURL, RekorURL: s.RekorURL, RekorVersion: 2,
		TSAURLs: []string{s.TSAURL}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := x.NewSigner(keyless.SignerConfig{Services: services, Token: tok, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return signer.Sign(ctx, intoto.PayloadType, []byte(payload))
}

func TestExecSignAndVerify(t *testing.T) {
	s := sigstack.Shared(t)
	var logs bytes.Buffer
	x := keyless.Exec{Path: helper(t), Stderr: &logs}
	tok := &staticToken{tok: s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{Repository: "acme/app", RunID: "9", RunAttempt: "1"}))}
	bundle, err := signWith(t, x, s, tok, statement)
	if err != nil {
		t.Fatalf("Sign() = %v\nhelper: %s", err, logs.String())
	}
	if tok.calls != 1 {
		t.Errorf("token fetched %d times, want once (by the client)", tok.calls)
	}

	v := x.NewVerifier(keyless.VerifierConfig{TrustedRoot: s.TrustedRootPath, RequireTransparencyLog: true})
	defer v.Close()
	ctx := context.Background()
	// Twice through one helper: the second request goes to the configured, running verifier.
	for i := range 2 {
		got, err := v.VerifyBundle(ctx, bundle)
		if err != nil {
			t.Fatalf("VerifyBundle() #%d = %v", i, err)
		}
		if string(got.Payload) != statement || got.PayloadType != intoto.PayloadType {
			t.Errorf("payload = %s %q, want the signed statement", got.PayloadType, got.Payload)
		}
		san := "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main"
		if got.Signer.Subject != san || got.Signer.Issuer != s.GitHub.URL {
			t.Errorf("signer = %q from %q, want %q from %q", got.Signer.Subject, got.Signer.Issuer, san, s.GitHub.URL)
		}
		if got.Signer.Claims["run_invocation_uri"] != "https://github.com/acme/app/actions/runs/9/attempts/1" {
			t.Errorf("claims = %v, want the run's invocation uri", got.Signer.Claims)
		}
		if d := time.Since(got.Time); d < 0 || d > 5*time.Minute {
			t.Errorf("time = %v, want the TSA time of just now", got.Time)
		}
	}

	// A bundle whose payload was swapped is refused, and the refusal keeps its kind across the pipe.
	tampered := bytes.Replace(bundle, []byte(`"payload":"`), []byte(`"payload":"e30K`), 1)
	_, err = v.VerifyBundle(ctx, tampered)
	if !errors.Is(err, keyless.ErrVerification) && !errors.Is(err, keyless.ErrMalformedBundle) {
		t.Errorf("tampered bundle: err = %v, want ErrVerification or ErrMalformedBundle", err)
	}
	if errors.Is(err, verify.ErrVerifierUnavailable) {
		t.Errorf("tampered bundle: err = %v wraps ErrVerifierUnavailable: a bad bundle must be refused, not an outage", err)
	}
	// The helper survives a refusal.
	if _, err := v.VerifyBundle(ctx, bundle); err != nil {
		t.Errorf("after a refusal: VerifyBundle() = %v", err)
	}
}

func TestExecErrorsKeepTheirKind(t *testing.T) {
	s := sigstack.Shared(t)
	var logs bytes.Buffer
	x := keyless.Exec{Path: helper(t), Stderr: &logs}
	// A token Fulcio does not accept (issuer unknown to it): the error names fulcio.
	_, err := signWith(t, x, s, &staticToken{tok: "not-a-jwt"}, statement)
	if !errors.Is(err, keyless.ErrFulcio) {
		t.Errorf("bad token: err = %v, want ErrFulcio", err)
	}
	if strings.Contains(logs.String(), "not-a-jwt") {
		t.Errorf("the helper logged the token: %s", logs.String())
	}

	// An unreadable trust root: the verifier is unavailable, not the bundle refused.
	v := x.NewVerifier(keyless.VerifierConfig{TrustedRoot: filepath.Join(t.TempDir(), "missing.json")})
	defer v.Close()
	_, err = v.VerifyBundle(context.Background(), []byte(`{}`))
	if !errors.Is(err, verify.ErrVerifierUnavailable) {
		t.Errorf("missing trust root: err = %v, want ErrVerifierUnavailable", err)
	}
}

func TestExecHelperMissingOrBroken(t *testing.T) {
	dir := t.TempDir()
	missing := keyless.Exec{Path: filepath.Join(dir, keyless.HelperName)}
	v := missing.NewVerifier(keyless.VerifierConfig{})
	if _, err := v.VerifyBundle(context.Background(), []byte(`{}`)); !errors.Is(err, verify.ErrVerifierUnavailable) {
		t.Errorf("missing helper: err = %v, want ErrVerifierUnavailable", err)
	}

	// A helper that dies at once (here: exits 3 without reading): the caller learns it failed.
	broken := filepath.Join(dir, "broken")
	if err := os.WriteFile(broken, []byte("#!/bin/sh\necho boom >&2\nexit 3\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	bv := keyless.Exec{Path: broken, Stderr: &logs}.NewVerifier(keyless.VerifierConfig{})
	_, err := bv.VerifyBundle(context.Background(), []byte(`{}`))
	if !errors.Is(err, verify.ErrVerifierUnavailable) || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("broken helper: err = %v, want ErrVerifierUnavailable naming exit status 3", err)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("the helper's stderr was not passed on: %q", logs.String())
	}
	signer, err := keyless.Exec{Path: broken, Stderr: &logs}.NewSigner(keyless.SignerConfig{
		Services: &keyless.Services{Fulcio: "http://127.0.0.1:1"}, Token: &staticToken{tok: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := signer.Sign(context.Background(), intoto.PayloadType, []byte(statement)); err == nil ||
		!strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("broken helper: Sign() = %v, want an error naming exit status 3", err)
	}

	// A helper that hangs: the caller's context ends the wait and the helper.
	hang := filepath.Join(dir, "hang")
	if err := os.WriteFile(hang, []byte("#!/bin/sh\nexec sleep 60\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	hv := keyless.Exec{Path: hang}.NewVerifier(keyless.VerifierConfig{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := hv.VerifyBundle(ctx, []byte(`{}`)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("hanging helper: err = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("hanging helper held the caller %v", d)
	}
	hv.Close()

	// NewSigner fails fast, before any step runs, when the helper is not there.
	if _, err := missing.NewSigner(keyless.SignerConfig{Services: &keyless.Services{Fulcio: "x"}, Token: &staticToken{}}); err == nil ||
		!strings.Contains(err.Error(), keyless.HelperName) {
		t.Errorf("NewSigner with the helper missing: err = %v, want one naming %s", err, keyless.HelperName)
	}
}

func TestHelperPathBesideExecutable(t *testing.T) {
	// The test binary has no intoto-ci-sigstore beside it: the error says where it looked.
	_, err := keyless.HelperPath()
	if err == nil {
		t.Fatal("HelperPath() found an intoto-ci-sigstore beside the test binary, where none was built")
	}
	exe, _ := os.Executable()
	if !strings.Contains(err.Error(), keyless.HelperName) || !strings.Contains(err.Error(), filepath.Dir(exe)) {
		t.Errorf("HelperPath() error = %v, want it to name %s and %s", err, keyless.HelperName, filepath.Dir(exe))
	}
}

// TestExecSignLargePayload signs a Statement of 60k artifacts (some 7 MB, its names with every kind of
// escape) through the helper and verifies it back: the payload crosses the pipe as raw bytes both ways,
// and the bundle holds exactly it.
func TestExecSignLargePayload(t *testing.T) {
	s := sigstack.Shared(t)
	a := map[string]intoto.Digests{}
	for i := range 60_000 {
		a[fmt.Sprintf("dir%02d/\"q\"\n<é>\u2028\\%06d", i%50, i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
	}
	set := intoto.NewArtifactSet(a)
	payload, err := wire.MarshalStatement(&intoto.Link{Name: "big", Materials: set, Products: set})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	x := keyless.Exec{Path: helper(t), Stderr: &logs}
	tok := &staticToken{tok: s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{Repository: "acme/app", RunID: "9", RunAttempt: "1"}))}
	bundle, err := signWith(t, x, s, tok, string(payload))
	if err != nil {
		t.Fatalf("Sign() = %v\nhelper: %s", err, logs.String())
	}
	v := x.NewVerifier(keyless.VerifierConfig{TrustedRoot: s.TrustedRootPath, RequireTransparencyLog: true})
	defer v.Close()
	got, err := v.VerifyBundle(context.Background(), bundle)
	if err != nil {
		t.Fatalf("VerifyBundle() = %v", err)
	}
	if !bytes.Equal(got.Payload, payload) {
		t.Errorf("the verified payload differs from the signed one (%d and %d bytes)", len(got.Payload), len(payload))
	}
}

// TestExecHelperWithoutSigner: a helper that answers a verification without a signer is an outage,
// not a verdict, and it is stopped and never asked again.
func TestExecHelperWithoutSigner(t *testing.T) {
	dir := t.TempDir()
	starts := filepath.Join(dir, "starts")
	script := filepath.Join(dir, "nosigner")
	body := "#!/bin/sh\necho started >> " + starts + "\nread -r line\nprintf '{\"payload_type\":\"x\"}\\n'\nexec cat >/dev/null\n"
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	v := keyless.Exec{Path: script}.NewVerifier(keyless.VerifierConfig{})
	defer v.Close()
	for i := range 2 {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_, err := v.VerifyBundle(ctx, []byte(`{}`))
		cancel()
		if !errors.Is(err, verify.ErrVerifierUnavailable) || !strings.Contains(err.Error(), "no signer") {
			t.Errorf("call %d: err = %v, want ErrVerifierUnavailable naming the missing signer", i, err)
		}
	}
	b, err := os.ReadFile(starts)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "started"); n != 1 {
		t.Errorf("helper started %d times, want once (not asked again after a nonsense answer)", n)
	}
}

// TestBinaries: intoto-ci without its helper refuses keyless work before the step runs (exit 3, naming
// where it looked), and runs a key-signed step all the same; intoto-ci-sigstore by hand is a whole
// intoto-ci.
func TestBinaries(t *testing.T) {
	dir := t.TempDir()
	alone := filepath.Join(dir, "intoto-ci")
	b, err := os.ReadFile(buildtest.IntotoCI(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, b, 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(dir, "ran")
	cmd := exec.Command(alone, "run", "--step", "s", "--signing", "keyless", "--identity-token", "t",
		"--fulcio-url", "http://127.0.0.1:1", "--tsa-url", "http://127.0.0.1:1", "--private",
		"--links-dir", filepath.Join(dir, "links"), "--", "touch", marker)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		t.Errorf("keyless run without the helper: %v, want exit 3\n%s", err, out)
	}
	if want := filepath.Join(dir, keyless.HelperName); !strings.Contains(string(out), want) {
		t.Errorf("keyless run without the helper: output does not name %s:\n%s", want, out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the step ran although it could not be signed")
	}

	key := filepath.Join(dir, "k")
	for _, args := range [][]string{
		{"key", "generate", "-o", key},
		{"run", "--step", "s", "--key", key, "--links-dir", filepath.Join(dir, "links"), "--", "true"},
	} {
		if out, err := exec.Command(alone, args...).CombinedOutput(); err != nil {
			t.Errorf("intoto-ci %s without the helper: %v\n%s", strings.Join(args, " "), err, out)
		}
	}

	out, err = exec.Command(helper(t), "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "intoto-ci") {
		t.Errorf("intoto-ci-sigstore version: %v\n%s", err, out)
	}
}

// TestExecVerifiesConcurrently: one verifier's helper serves calls from many goroutines at once (verify
// checks a links directory's bundles in parallel); each call gets its own bundle's answer, refusals
// keeping their kind, and the helper outlives them.
func TestExecVerifiesConcurrently(t *testing.T) {
	s := sigstack.Shared(t)
	var logs bytes.Buffer
	x := keyless.Exec{Path: helper(t), Stderr: &logs}
	tok := &staticToken{tok: s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{Repository: "acme/app", RunID: "9", RunAttempt: "1"}))}
	bundle, err := signWith(t, x, s, tok, statement)
	if err != nil {
		t.Fatalf("Sign() = %v\nhelper: %s", err, logs.String())
	}
	tampered := bytes.Replace(bundle, []byte(`"payload":"`), []byte(`"payload":"e30K`), 1)
	v := x.NewVerifier(keyless.VerifierConfig{TrustedRoot: s.TrustedRootPath})
	defer v.Close()
	const calls = 16
	errs := make([]error, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			if i%4 == 3 {
				_, err := v.VerifyBundle(context.Background(), tampered)
				if !errors.Is(err, keyless.ErrVerification) && !errors.Is(err, keyless.ErrMalformedBundle) {
					errs[i] = fmt.Errorf("tampered bundle: err = %v, want ErrVerification or ErrMalformedBundle", err)
				}
				return
			}
			got, err := v.VerifyBundle(context.Background(), bundle)
			switch {
			case err != nil:
				errs[i] = fmt.Errorf("VerifyBundle() = %v", err)
			case string(got.Payload) != statement || got.Signer.Issuer != s.GitHub.URL:
				errs[i] = fmt.Errorf("payload %q from %q, want the signed statement from %q", got.Payload, got.Signer.Issuer, s.GitHub.URL)
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("call %d: %v", i, err)
		}
	}
	if _, err := v.VerifyBundle(context.Background(), bundle); err != nil {
		t.Errorf("after the concurrent calls: VerifyBundle() = %v", err)
	}
}

// BenchmarkExecVerifyBundles verifies 1000 bundles through one helper, from one caller at a time (as
// verify did before it checked bundles ahead) and from GOMAXPROCS callers (as verify does now). Run it
// in a network namespace: unshare -n sh -c 'ip link set lo up; go test -run ^$ -bench ExecVerifyBundles ./internal/keyless'.
func BenchmarkExecVerifyBundles(b *testing.B) {
	const bundles = 1000
	s := sigstack.Shared(b)
	x := keyless.Exec{Path: helper(b)}
	tok := &staticToken{tok: s.GitHub.Mint(oidc.GitHubClaims(oidc.GitHubOptions{Repository: "acme/app", RunID: "9", RunAttempt: "1"}))}
	bundle, err := signWith(b, x, s, tok, statement)
	if err != nil {
		b.Fatal(err)
	}
	for _, callers := range []int{1, runtime.GOMAXPROCS(0)} {
		b.Run(fmt.Sprintf("bundles=%d/callers=%d", bundles, callers), func(b *testing.B) {
			v := x.NewVerifier(keyless.VerifierConfig{TrustedRoot: s.TrustedRootPath})
			defer v.Close()
			if _, err := v.VerifyBundle(context.Background(), bundle); err != nil { // start the helper
				b.Fatal(err)
			}
			for b.Loop() {
				var next atomic.Int64
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for next.Add(1) <= bundles {
							if _, err := v.VerifyBundle(context.Background(), bundle); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
		})
	}
}
