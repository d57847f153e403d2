package cli

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// getBody is what a user does with curl: fetch a service's published chain.
func getBody(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return b
}

// stackMaterial writes the loopback stack's Fulcio chain and TSA chain as PEM files, fetched from the
// services as their documentation says (Fulcio /api/v2/trustBundle, TSA /api/v1/timestamp/certchain).
func stackMaterial(t *testing.T, s *sigstack.Stack, dir string) (fulcioChain, tsaChain string) {
	t.Helper()
	var bundle struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(getBody(t, s.FulcioURL+"/api/v2/trustBundle"), &bundle); err != nil || len(bundle.Chains) == 0 {
		t.Fatalf("fulcio trust bundle: %v", err)
	}
	fulcioChain, tsaChain = filepath.Join(dir, "fulcio-chain.pem"), filepath.Join(dir, "tsa-chain.pem")
	if err := os.WriteFile(fulcioChain, []byte(strings.Join(bundle.Chains[0].Certificates, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	tsaBase := strings.TrimSuffix(s.TSAURL, "/api/v1/timestamp")
	if err := os.WriteFile(tsaChain, getBody(t, tsaBase+"/api/v1/timestamp/certchain"), 0o644); err != nil {
		t.Fatal(err)
	}
	return fulcioChain, tsaChain
}

// createRootArgs is the `intoto-ci trusted-root create` command line for the loopback stack.
func createRootArgs(t *testing.T, s *sigstack.Stack, dir, origin, out string) []string {
	t.Helper()
	fulcioChain, tsaChain := stackMaterial(t, s, dir)
	start := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	return []string{"trusted-root", "create",
		"--fulcio", "url=" + s.FulcioURL + ",certificate-chain=" + fulcioChain,
		"--tsa", "url=" + s.TSAURL + ",certificate-chain=" + tsaChain,
		"--rekor", "url=" + s.RekorURL + ",public-key=" + s.RekorPublicKeyPath + ",start-time=" + start + ",origin=" + origin,
		"-o", out}
}

// TestTrustedRootCreate: a trusted root written by `intoto-ci trusted-root create` from the loopback
// stack's published chains and Rekor key verifies the keyless chain, made by sigstore-go in this process
// and by intoto-ci-sigstore behind intoto-ci. The same root naming the log under another origin refuses
// the chain (the log id depends on the origin), and bad input is a usage error naming the flag.
func TestTrustedRootCreate(t *testing.T) {
	k := newKeylessChain(t)
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	if r := k.build(t, oidc.GitHubOptions{}); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.err)
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("package: exit %d\n%s", r.code, r.err)
	}
	helper := filepath.Join(filepath.Dir(buildtest.IntotoCI(t)), keyless.HelperName)
	for name, kb := range map[string]keyless.Backend{"in-process": nil, "helper": keyless.Exec{Path: helper}} {
		out := filepath.Join(k.dir, name+"-root.json")
		args := createRootArgs(t, k.stack, k.dir, sigstack.RekorOrigin, out)
		var r result
		if kb == nil {
			r = invoke(t, nil, args...)
		} else {
			r = invokeWith(t, kb, nil, args...)
		}
		if r.code != 0 {
			t.Fatalf("%s: trusted-root create: exit %d\n%s", name, r.code, r.err)
		}
		if r := k.verify(t, "--trusted-root", out, "--json"); r.code != ExitOK {
			t.Fatalf("%s: verify with the created root: exit %d\n%s", name, r.code, r.out)
		}
	}

	other := filepath.Join(k.dir, "other-origin-root.json")
	if r := invoke(t, nil, createRootArgs(t, k.stack, k.dir, "rekor.example", other)...); r.code != 0 {
		t.Fatalf("trusted-root create (other origin): exit %d\n%s", r.code, r.err)
	}
	r := k.verify(t, "--trusted-root", other, "--json")
	if stage, reason := failure(t, r); r.code != ExitRefused || stage != "threshold" {
		t.Fatalf("root naming another origin: got exit %d stage %q (%s), want 1 at threshold", r.code, stage, reason)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--fulcio", "url=" + k.stack.FulcioURL}, "certificate-chain= is required"},
		{[]string{"--fulcio", "url=x,chain=y"}, `unknown key "chain"`},
		{[]string{"--tsa", "url=x,certificate-chain=" + filepath.Join(k.dir, "missing.pem")}, "missing.pem"},
		{[]string{"--fulcio", "url=x,certificate-chain=" + k.stack.RekorPublicKeyPath}, "PUBLIC KEY"},
		{[]string{"--rekor", "url=x,public-key=y,start-time=yesterday"}, "RFC 3339"},
	} {
		r := invoke(t, nil, append(append([]string{"trusted-root", "create"}, tc.args...), "-o", filepath.Join(k.dir, "bad.json"))...)
		if r.code != ExitUsage || !strings.Contains(r.err, tc.want) || strings.Count(strings.TrimSpace(r.err), "\n") > 0 {
			t.Errorf("trusted-root create %v: got exit %d %q, want 2 and one line naming %q", tc.args, r.code, r.err, tc.want)
		}
	}
}

// TestTrustedRootFetchOffline: without the network the public-good TUF update fails as an operational
// error (exit 3) that says it was the TUF fetch. (No local TUF repository is built here: see the report.)
func TestTrustedRootFetchOffline(t *testing.T) {
	sigstack.Shared(t) // the same isolation as the keyless tests: inside a network namespace
	dir := t.TempDir()
	r := invoke(t, nil, "trusted-root", "fetch", "--cache-dir", filepath.Join(dir, "cache"), "-o", filepath.Join(dir, "root.json"))
	if r.code != ExitFailure || !strings.Contains(r.err, "tuf") {
		t.Fatalf("offline fetch: got exit %d %q, want 3 naming tuf", r.code, r.err)
	}
	if _, err := os.Stat(filepath.Join(dir, "root.json")); !os.IsNotExist(err) {
		t.Errorf("a failed fetch left root.json behind: %v", err)
	}
}
