package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// TestRekorVersionMismatchNamesTheFlag: the loopback log is a Rekor v2 (rekor-tiles); signing to it
// with the default Rekor v1 API gets a 404, and the error says to pass --rekor-version 2 (and keeps the
// wrapped command's output). The same run with --rekor-version 2 signs (the control).
func TestRekorVersionMismatchNamesTheFlag(t *testing.T) {
	k := newKeylessChain(t)
	reqURL, reqTok := k.stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{}))
	env := map[string]string{"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": reqURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqTok, "GITHUB_RUN_ID": "4242", "GITHUB_JOB": "build"}
	args := func(extra ...string) []string {
		a := []string{"run", "--step", "build", "--signing", "keyless", "--fulcio-url", k.stack.FulcioURL,
			"--rekor-url", k.stack.RekorURL, "--tsa-url", k.stack.TSAURL, "--links-dir", k.links}
		return append(append(a, extra...), "--", "echo", "built")
	}
	r := invoke(t, env, args()...)
	if r.code != ExitFailure {
		t.Fatalf("v1 API against a v2 log: got exit %d, want %d\n%s", r.code, ExitFailure, r.err)
	}
	t.Logf("intoto-ci run against a Rekor v2 URL with the v1 API: %s", strings.TrimSpace(r.err))
	for _, want := range []string{"404", "has no Rekor v1 API", "--rekor-version 2"} {
		if !strings.Contains(r.err, want) {
			t.Errorf("error does not say %q:\n%s", want, r.err)
		}
	}
	if !strings.Contains(r.out, "built") {
		t.Errorf("the wrapped command's output is lost: %q", r.out)
	}
	if r := invoke(t, env, args("--rekor-version", "2")...); r.code != 0 {
		t.Fatalf("with --rekor-version 2: exit %d\n%s", r.code, r.err)
	}
}

// TestRekorOriginMismatchSaysWhatIsMisconfigured: a trusted root whose Rekor baseUrl names another
// host than the log's origin (rekor-tiles --hostname) makes every v2 bundle fail its checkpoint
// signature; the refusal says the trusted root is misconfigured and names both names. The stack's own
// root (baseUrl host = origin) verifies the same links (the control).
func TestRekorOriginMismatchSaysWhatIsMisconfigured(t *testing.T) {
	k := newKeylessChain(t)
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	if r := k.build(t, oidc.GitHubOptions{}); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.err)
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("package: exit %d\n%s", r.code, r.err)
	}
	if r := k.verifyKeyless(t); r.code != ExitOK {
		t.Fatalf("stack's own root: exit %d\n%s", r.code, r.out)
	}
	data, err := os.ReadFile(k.stack.TrustedRootPath)
	if err != nil {
		t.Fatal(err)
	}
	var tr map[string]any
	if err := json.Unmarshal(data, &tr); err != nil {
		t.Fatal(err)
	}
	tlog := tr["tlogs"].([]any)[0].(map[string]any)
	base := tlog["baseUrl"].(string)
	tlog["baseUrl"] = strings.Replace(base, sigstack.RekorOrigin, "localhost", 1)
	bad := filepath.Join(k.dir, "renamed_root.json")
	out, err := json.Marshal(tr)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, out, 0o644); err != nil {
		t.Fatal(err)
	}
	r := k.verify(t, "--trusted-root", bad, "--json")
	stage, reason := failure(t, r)
	if r.code != ExitRefused || stage != "threshold" {
		t.Fatalf("renamed log: got exit %d stage %q, want 1 at threshold\n%s", r.code, stage, reason)
	}
	t.Logf("intoto-ci verify with a baseUrl host that is not the log's origin: %s", reason)
	for _, want := range []string{"misconfigured trusted root", `"127.0.0.1"`, `"localhost"`, "baseUrl"} {
		if !strings.Contains(reason, want) {
			t.Errorf("refusal does not say %s: %s", want, reason)
		}
	}
}
