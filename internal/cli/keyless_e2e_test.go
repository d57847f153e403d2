package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// The keyless chain of these tests: "build" runs in GitHub Actions, "package" in GitLab CI, both signed
// keyless through the real loopback Fulcio, TSA and Rekor v2; the layout pins both identities.

type keylessChain struct {
	*chain
	stack *sigstack.Stack
}

func newKeylessChain(t *testing.T) *keylessChain {
	t.Helper()
	s := sigstack.Shared(t)
	c, _ := newChain(t)
	return &keylessChain{chain: c, stack: s}
}

func (k *keylessChain) ghIdentity() *intoto.Identity {
	return &intoto.Identity{
		Issuer:        k.stack.GitHub.URL,
		SubjectRegexp: `https://github\.com/octo-org/app/\.github/workflows/build\.yml@refs/heads/.*`,
		Claims: map[string]intoto.ClaimMatch{
			"source_repository_uri":        {Exact: "https://github.com/octo-org/app"},
			"source_repository_identifier": {Exact: "123456"},
			"runner_environment":           {Exact: "github-hosted"},
			"source_repository_ref":        {Regexp: `refs/heads/(main|release-.*)`},
		},
	}
}

func (k *keylessChain) glIdentity() *intoto.Identity {
	return &intoto.Identity{
		Issuer:  k.stack.GitLab.URL,
		Subject: "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main",
		Claims: map[string]intoto.ClaimMatch{
			"source_repository_uri": {Exact: "https://gitlab.com/grp/app"},
			"runner_environment":    {Exact: "gitlab-hosted"},
		},
	}
}

// writeKeylessLayout writes the two-step layout with keyless functionaries, signed by alice's key.
func (k *keylessChain) writeKeylessLayout(t *testing.T, gh, gl *intoto.Identity, runBinding string) {
	t.Helper()
	l := &intoto.Layout{
		Type:       intoto.TypeLayout,
		Expires:    time.Now().Add(time.Hour).UTC().Format(intoto.ExpiresFormat),
		Keys:       map[string]*intoto.Key{},
		Identities: map[string]*intoto.Identity{"gh-build": gh, "gl-package": gl},
		RunBinding: runBinding,
		Steps: []*intoto.Step{{
			Type: intoto.TypeStep, Name: "build", Threshold: 1, Identities: []string{"gh-build"},
			PubKeys:           []string{},
			ExpectedMaterials: []intoto.Rule{{"ALLOW", "in.txt"}, {"DISALLOW", "*"}},
			ExpectedProducts:  []intoto.Rule{{"CREATE", "out.txt"}, {"ALLOW", "in.txt"}, {"DISALLOW", "*"}},
			ExpectedCommand:   []string{},
		}, {
			Type: intoto.TypeStep, Name: "package", Threshold: 1, Identities: []string{"gl-package"},
			PubKeys:           []string{},
			ExpectedMaterials: []intoto.Rule{{"MATCH", "out.txt", "WITH", "PRODUCTS", "FROM", "build"}, {"ALLOW", "in.txt"}, {"DISALLOW", "*"}},
			ExpectedProducts:  []intoto.Rule{{"CREATE", "app.tgz"}, {"ALLOW", "*"}},
			ExpectedCommand:   []string{},
		}},
		Inspections: []*intoto.Inspection{},
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.layout, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, nil, "sign", "--file", k.layout, "--key", filepath.Join(k.keys, "alice")); r.code != 0 {
		t.Fatalf("sign layout: exit %d: %s", r.code, r.err)
	}
}

// runKeyless wraps a step with a token given in the environment the way the platform would give it.
func (k *keylessChain) runKeyless(t *testing.T, environ map[string]string, step string, extra []string, script string) result {
	t.Helper()
	args := append([]string{"run", "--step", step, "--signing", "keyless",
		"--fulcio-url", k.stack.FulcioURL, "--rekor-url", k.stack.RekorURL, "--rekor-version", "2",
		"--tsa-url", k.stack.TSAURL, "--base-path", k.work, "--links-dir", k.links}, extra...)
	args = append(args, "--", "sh", "-c", "cd "+k.work+" && "+script)
	return invoke(t, environ, args...)
}

func (k *keylessChain) build(t *testing.T, gh oidc.GitHubOptions) result {
	t.Helper()
	reqURL, reqTok := k.stack.GitHub.TokenRequest(oidc.GitHubClaims(gh))
	env := map[string]string{"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": reqURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqTok, "GITHUB_RUN_ID": "4242", "GITHUB_JOB": "build"}
	return k.runKeyless(t, env, "build", []string{"--materials", filepath.Join(k.work, "in.txt"),
		"--products", filepath.Join(k.work, "in.txt"), "--products", filepath.Join(k.work, "out.txt")},
		"cp in.txt out.txt; env")
}

func (k *keylessChain) pack(t *testing.T, gl oidc.GitLabOptions) result {
	t.Helper()
	env := map[string]string{"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": k.stack.GitLab.Mint(oidc.GitLabClaims(gl)),
		"CI_PIPELINE_ID": "1001", "CI_JOB_ID": "2002"}
	return k.runKeyless(t, env, "package", []string{"--materials", filepath.Join(k.work, "in.txt"), "--materials", filepath.Join(k.work, "out.txt"), "--products", k.work},
		"tar czf app.tgz out.txt")
}

func (k *keylessChain) verifyKeyless(t *testing.T, extra ...string) result {
	t.Helper()
	return k.verify(t, append([]string{"--trusted-root", k.stack.TrustedRootPath, "--json"}, extra...)...)
}

func failure(t *testing.T, r result) (stage, reason string) {
	t.Helper()
	var rep struct {
		Failure *struct{ Stage, Reason string }
		Steps   []struct {
			Rejected []struct {
				Reason     string
				Mismatches []struct{ Mismatches []string }
			}
		}
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("json report: %v\n%s\n%s", err, r.out, r.err)
	}
	if rep.Failure == nil {
		return "", ""
	}
	reason = rep.Failure.Reason
	for _, s := range rep.Steps {
		for _, rj := range s.Rejected {
			reason += " | " + rj.Reason
			for _, m := range rj.Mismatches {
				reason += " " + strings.Join(m.Mismatches, "; ")
			}
		}
	}
	return rep.Failure.Stage, reason
}

func TestKeylessChainVerifies(t *testing.T) {
	k := newKeylessChain(t)
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	r := k.build(t, oidc.GitHubOptions{})
	if r.code != 0 {
		t.Fatalf("keyless build: exit %d\n%s", r.code, r.err)
	}
	for _, secret := range []string{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_URL"} {
		if strings.Contains(r.out, secret) {
			t.Errorf("the wrapped command saw %s", secret)
		}
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("keyless package: exit %d\n%s", r.code, r.err)
	}
	bundles, _ := filepath.Glob(filepath.Join(k.links, "*.link.sigstore.json"))
	if len(bundles) != 2 {
		t.Fatalf("got bundles %v, want one per step", bundles)
	}
	if r := k.verifyKeyless(t); r.code != ExitOK {
		t.Fatalf("honest keyless chain: got exit %d, want 0\n%s\n%s", r.code, r.out, r.err)
	}
	// Both certificates carry the commit (1.13): --commit binds them without anything recorded by hand.
	if r := k.verifyKeyless(t, "--commit", "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c"); r.code != ExitOK {
		t.Fatalf("keyless chain at its commit: got exit %d\n%s", r.code, r.out)
	}
	r = k.verifyKeyless(t, "--commit", "1111111111111111111111111111111111111111")
	if stage, _ := failure(t, r); r.code != ExitRefused || stage != "runbinding" {
		t.Fatalf("keyless chain at another commit: got exit %d stage %q, want 1 runbinding", r.code, stage)
	}
	// Both runs agree on the commit; the GitLab config digest differs from GitHub's run: links of two
	// platforms are never one run, so --same-run refuses this mixed chain.
	r = k.verifyKeyless(t, "--same-run")
	if stage, _ := failure(t, r); r.code != ExitRefused || stage != "runbinding" {
		t.Fatalf("mixed-platform chain with --same-run: got exit %d stage %q, want 1 runbinding", r.code, stage)
	}
	// Another trust root: the stack's own, with its Fulcio CA swapped for one of ours. Everything else
	// (logs, timestamp authority) still matches, so the refusal comes from the certificate chain.
	r = k.verify(t, "--trusted-root", otherCARoot(t, k.stack.TrustedRootPath, k.dir), "--json")
	if stage, reason := failure(t, r); r.code != ExitRefused || stage != "threshold" {
		t.Fatalf("another trust root: got exit %d stage %q (%s), want 1 at threshold", r.code, stage, reason)
	}
}

// otherCARoot writes a copy of the trusted root at path whose certificate authority is a new, unrelated
// self-signed CA.
func otherCARoot(t *testing.T, path, dir string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var root map[string]any
	if err := json.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{Organization: []string{"not sigstore"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cas := root["certificateAuthorities"].([]any)
	chain := cas[0].(map[string]any)["certChain"].(map[string]any)
	chain["certificates"] = []any{map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(der)}}
	out, err := json.Marshal(root)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "other_root.json")
	if err := os.WriteFile(other, out, 0o644); err != nil {
		t.Fatal(err)
	}
	return other
}

func TestKeylessRefusals(t *testing.T) {
	cases := []struct {
		name   string
		gh     oidc.GitHubOptions
		gl     oidc.GitLabOptions
		ghID   func(*intoto.Identity)
		stage  string
		reason string
	}{
		{name: "SAN differs", gh: oidc.GitHubOptions{WorkflowPath: ".github/workflows/evil.yml"}, stage: "threshold", reason: "subject"},
		{name: "ref differs", gh: oidc.GitHubOptions{Ref: "refs/heads/feature"}, stage: "threshold", reason: "source_repository_ref"},
		{name: "repository id differs", gh: oidc.GitHubOptions{RepositoryID: "666"}, stage: "threshold", reason: "source_repository_identifier"},
		{name: "runner environment differs", gh: oidc.GitHubOptions{RunnerEnvironment: "self-hosted"}, stage: "threshold", reason: "runner_environment"},
		{name: "issuer differs", ghID: func(id *intoto.Identity) { id.Issuer = "https://token.actions.githubusercontent.com" }, stage: "threshold", reason: "issuer"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKeylessChain(t)
			gh := k.ghIdentity()
			if tc.ghID != nil {
				tc.ghID(gh)
			}
			k.writeKeylessLayout(t, gh, k.glIdentity(), "")
			if r := k.build(t, tc.gh); r.code != 0 {
				t.Fatalf("build: exit %d\n%s", r.code, r.err)
			}
			if r := k.pack(t, tc.gl); r.code != 0 {
				t.Fatalf("package: exit %d\n%s", r.code, r.err)
			}
			r := k.verifyKeyless(t)
			stage, reason := failure(t, r)
			if r.code != ExitRefused || stage != tc.stage || !strings.Contains(reason, tc.reason) {
				t.Fatalf("got exit %d stage %q reason %q, want 1 at %s naming %s", r.code, stage, reason, tc.stage, tc.reason)
			}
		})
	}
}

func TestKeylessSameRunRefusesReplayedLink(t *testing.T) {
	k := newKeylessChain(t)
	// Both steps on GitHub this time, so one run can be asked for.
	gh := k.ghIdentity()
	k.writeKeylessLayout(t, gh, gh, "")
	if r := k.build(t, oidc.GitHubOptions{RunID: "100"}); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.err)
	}
	packGH := func(run, attempt string) result {
		reqURL, reqTok := k.stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{RunID: run, RunAttempt: attempt}))
		env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqTok}
		return k.runKeyless(t, env, "package", []string{"--materials", filepath.Join(k.work, "in.txt"), "--materials", filepath.Join(k.work, "out.txt"), "--products", k.work}, "tar czf app.tgz out.txt")
	}
	// A second attempt of the same run is the same run.
	if r := packGH("100", "2"); r.code != 0 {
		t.Fatalf("package: exit %d\n%s", r.code, r.err)
	}
	if r := k.verifyKeyless(t, "--same-run"); r.code != ExitOK {
		t.Fatalf("one run, two attempts: got exit %d\n%s", r.code, r.out)
	}
	// The package link replayed from another run is refused with --same-run, and by the layout's own
	// run_binding without the flag.
	for _, f := range mustGlob(t, filepath.Join(k.links, "package.*")) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	if r := packGH("99", "1"); r.code != 0 {
		t.Fatalf("package: exit %d\n%s", r.code, r.err)
	}
	if r := k.verifyKeyless(t); r.code != ExitOK {
		t.Fatalf("without run binding the replay is not detectable by rules: got exit %d\n%s", r.code, r.out)
	}
	r := k.verifyKeyless(t, "--same-run")
	if stage, _ := failure(t, r); r.code != ExitRefused || stage != "runbinding" {
		t.Fatalf("replayed link with --same-run: got exit %d stage %q, want 1 runbinding\n%s", r.code, stage, r.out)
	}
	k.writeKeylessLayout(t, gh, gh, "same-run")
	r = k.verifyKeyless(t)
	if stage, _ := failure(t, r); r.code != ExitRefused || stage != "runbinding" {
		t.Fatalf("replayed link with layout run_binding: got exit %d stage %q, want 1 runbinding\n%s", r.code, stage, r.out)
	}
}

func TestKeylessAlteredBundleRefused(t *testing.T) {
	k := newKeylessChain(t)
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	if r := k.build(t, oidc.GitHubOptions{}); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.err)
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("package: exit %d\n%s", r.code, r.err)
	}
	// Swap the DSSE payload of the build bundle for one that claims another product digest.
	path := mustGlob(t, filepath.Join(k.links, "build.*.link.sigstore.json"))[0]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var b map[string]any
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	env := b["dsseEnvelope"].(map[string]any)
	payload := env["payload"].(string)
	env["payload"] = payload[:len(payload)-8] + "AAAAAAA="
	data, err = json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := k.verifyKeyless(t)
	if r.code != ExitRefused {
		t.Fatalf("altered bundle: got exit %d, want 1\n%s", r.code, r.out)
	}
}

func mustGlob(t *testing.T, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil || len(m) == 0 {
		t.Fatalf("glob %s: %v %v", pattern, m, err)
	}
	return m
}

func TestKeylessSignedLayout(t *testing.T) {
	k := newKeylessChain(t)
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	// The owner re-signs the bare layout keyless, from a GitLab pipeline of the security team.
	data, err := os.ReadFile(k.layout)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Signed json.RawMessage `json:"signed"`
	}
	if err := json.Unmarshal(data, &env); err != nil || env.Signed == nil {
		// DSSE: take the payload instead.
		var d struct{ Payload []byte }
		if err := json.Unmarshal(data, &d); err != nil {
			t.Fatal(err)
		}
		env.Signed = d.Payload
	}
	bare := filepath.Join(k.dir, "bare.layout")
	if err := os.WriteFile(bare, env.Signed, 0o644); err != nil {
		t.Fatal(err)
	}
	owner := oidc.GitLabOptions{ProjectPath: "sec/policies"}
	token := k.stack.GitLab.Mint(oidc.GitLabClaims(owner))
	r := invoke(t, map[string]string{"SIGSTORE_ID_TOKEN": token}, "sign", "--signing", "keyless", "--file", bare,
		"--fulcio-url", k.stack.FulcioURL, "--rekor-url", k.stack.RekorURL, "--rekor-version", "2", "--tsa-url", k.stack.TSAURL)
	if r.code != 0 {
		t.Fatalf("keyless layout signing: exit %d\n%s", r.code, r.err)
	}
	signed := bare + ".sigstore.json"
	if r := k.build(t, oidc.GitHubOptions{}); r.code != 0 {
		t.Fatalf("build: exit %d\n%s", r.code, r.err)
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("package: exit %d\n%s", r.code, r.err)
	}
	verifyWith := func(san string) result {
		return invoke(t, nil, "verify", "--layout", signed, "--layout-identity", san,
			"--layout-issuer", k.stack.GitLab.URL, "--links-dir", k.links, "--work-dir", k.work,
			"--trusted-root", k.stack.TrustedRootPath, "--json")
	}
	if r := verifyWith("https://gitlab.com/sec/policies//.gitlab-ci.yml@refs/heads/main"); r.code != ExitOK {
		t.Fatalf("keyless-signed layout pinned by identity: got exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	r = verifyWith("https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main")
	if stage, _ := failure(t, r); r.code != ExitRefused || stage != "signature" {
		t.Fatalf("layout signed by another identity: got exit %d stage %q, want 1 at signature", r.code, stage)
	}
}

func TestKeylessPrivateSigningAndRequireTlog(t *testing.T) {
	k := newKeylessChain(t)
	gh := k.ghIdentity()
	k.writeKeylessLayout(t, gh, gh, "")
	private := func(step string, extra []string, script string) result {
		reqURL, reqTok := k.stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{}))
		env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqTok}
		args := append([]string{"run", "--step", step, "--signing", "keyless", "--private",
			"--fulcio-url", k.stack.FulcioURL, "--tsa-url", k.stack.TSAURL, "--base-path", k.work,
			"--links-dir", k.links}, extra...)
		args = append(args, "--", "sh", "-c", "cd "+k.work+" && "+script)
		return invoke(t, env, args...)
	}
	if r := private("build", []string{"--materials", filepath.Join(k.work, "in.txt"), "--products", filepath.Join(k.work, "in.txt"),
		"--products", filepath.Join(k.work, "out.txt")}, "cp in.txt out.txt"); r.code != 0 {
		t.Fatalf("private build: exit %d\n%s", r.code, r.err)
	}
	if r := private("package", []string{"--materials", filepath.Join(k.work, "in.txt"), "--materials", filepath.Join(k.work, "out.txt"),
		"--products", k.work}, "tar czf app.tgz out.txt"); r.code != 0 {
		t.Fatalf("private package: exit %d\n%s", r.code, r.err)
	}
	for _, f := range mustGlob(t, filepath.Join(k.links, "*.sigstore.json")) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(data), "tlogEntries\":[{") || strings.Contains(string(data), "logIndex") {
			t.Fatalf("%s: a private bundle carries a transparency log entry", f)
		}
	}
	if r := k.verifyKeyless(t); r.code != ExitOK {
		t.Fatalf("private (timestamp-only) chain: got exit %d\n%s", r.code, r.out)
	}
	if r := k.verifyKeyless(t, "--require-tlog"); r.code != ExitRefused {
		t.Fatalf("private chain with --require-tlog: got exit %d, want 1\n%s", r.code, r.out)
	}
}
