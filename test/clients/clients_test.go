// Package clients checks what intoto-ci writes with Sigstore and SLSA clients nobody here wrote:
// cosign v3.1.3 verifies intoto-ci's keyless links against a trusted root intoto-ci created, intoto-ci
// verifies a link attestation made by cosign attest-blob (Statement v0.1), and slsa-verifier v2.7.1
// verifies intoto-ci's key-signed VSA given its in-toto keyid. The clients are installed by .ci/setup;
// a missing one skips the test, except under CI=true where it fails. Keyless tests use the loopback
// Sigstore stack, so they run inside a network namespace (scripts/test.sh).
package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/fixture"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

func TestMain(m *testing.M) { os.Exit(buildtest.Main(m)) }

// tool finds a client .ci/setup installs: a missing one skips the test, or fails it under CI=true.
func tool(t *testing.T, name string) string { return fixture.Tool(t, ".ci/setup installs it", name) }

type result struct {
	code     int
	out, err string
}

// run executes prog in dir with env added to a minimal environment.
func run(t *testing.T, dir string, env []string, prog string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := result{out: out.String(), err: errb.String()}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		r.code = ee.ExitCode()
	default:
		t.Fatalf("%s %v: %v\n%s", filepath.Base(prog), args, err, r.err)
	}
	return r
}

func mustRun(t *testing.T, dir string, env []string, prog string, args ...string) result {
	t.Helper()
	r := run(t, dir, env, prog, args...)
	if r.code != 0 {
		t.Fatalf("%s %s: exit %d\n%s\n%s", filepath.Base(prog), strings.Join(args, " "), r.code, r.out, r.err)
	}
	return r
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, url string) []byte {
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

// createdRoot writes the stack's trusted root with `intoto-ci trusted-root create`, from the chains the
// services publish and the log's public key, as a user of a private deployment would.
func createdRoot(t *testing.T, ic string, s *sigstack.Stack, dir string) string {
	t.Helper()
	var bundle struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	if err := json.Unmarshal(get(t, s.FulcioURL+"/api/v2/trustBundle"), &bundle); err != nil || len(bundle.Chains) == 0 {
		t.Fatalf("fulcio trust bundle: %v", err)
	}
	writeFile(t, filepath.Join(dir, "fulcio.pem"), strings.Join(bundle.Chains[0].Certificates, ""))
	writeFile(t, filepath.Join(dir, "tsa.pem"), string(get(t, strings.TrimSuffix(s.TSAURL, "/api/v1/timestamp")+"/api/v1/timestamp/certchain")))
	out := filepath.Join(dir, "trusted_root.json")
	mustRun(t, dir, nil, ic, "trusted-root", "create",
		"--fulcio", "url="+s.FulcioURL+",certificate-chain=fulcio.pem",
		"--tsa", "url="+s.TSAURL+",certificate-chain=tsa.pem",
		"--rekor", "url="+s.RekorURL+",public-key="+s.RekorPublicKeyPath+",start-time="+
			time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)+",origin="+sigstack.RekorOrigin,
		"-o", out)
	return out
}

const linkType = "https://in-toto.io/attestation/link/v0.3"

// TestCosignVerifiesKeylessLink: a keyless link of `intoto-ci run` (loopback Fulcio, TSA, Rekor v2) is
// a Sigstore bundle of an in-toto attestation that cosign verify-blob-attestation accepts for the
// product it names, against the trusted root intoto-ci created; the wrong identity, another product or
// another type is refused by cosign.
func TestCosignVerifiesKeylessLink(t *testing.T) {
	cosign := tool(t, "cosign")
	s := sigstack.Shared(t)
	ic := buildtest.IntotoCI(t)
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	writeFile(t, filepath.Join(work, "in.txt"), "source\n")
	reqURL, reqTok := s.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{}))
	env := []string{"GITHUB_ACTIONS=true", "ACTIONS_ID_TOKEN_REQUEST_URL=" + reqURL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + reqTok,
		"GITHUB_RUN_ID=4242", "GITHUB_JOB=build"}
	mustRun(t, work, env, ic, "run", "--step", "build", "--signing", "keyless", "--fulcio-url", s.FulcioURL,
		"--rekor-url", s.RekorURL, "--rekor-version", "2", "--tsa-url", s.TSAURL, "--links-dir", filepath.Join(dir, "links"),
		"--materials", "in.txt", "--products", "out.txt", "--", "sh", "-c", "cp in.txt out.txt")
	bundles, _ := filepath.Glob(filepath.Join(dir, "links", "build.*.link.sigstore.json"))
	if len(bundles) != 1 {
		t.Fatalf("got bundles %v, want one", bundles)
	}
	root := createdRoot(t, ic, s, dir)
	writeFile(t, filepath.Join(dir, "other.txt"), "not the product\n")

	verify := func(san, blob, typ string) result {
		return run(t, dir, nil, cosign, "verify-blob-attestation", "--bundle", bundles[0], "--trusted-root", root,
			"--certificate-identity-regexp", san, "--certificate-oidc-issuer", s.GitHub.URL,
			"--type", typ, "--insecure-ignore-sct", blob)
	}
	good := verify(`^https://github\.com/octo-org/app/\.github/workflows/build\.yml@refs/heads/main$`, filepath.Join(work, "out.txt"), linkType)
	if good.code != 0 {
		t.Fatalf("cosign verify-blob-attestation: exit %d\n%s\n%s", good.code, good.out, good.err)
	}
	t.Logf("cosign verify-blob-attestation printed: %s", strings.TrimSpace(good.out+" "+good.err))
	for name, r := range map[string]result{
		"another identity": verify(`^https://github\.com/evil/.*$`, filepath.Join(work, "out.txt"), linkType),
		"another blob":     verify(`^https://github\.com/octo-org/app/.*$`, filepath.Join(dir, "other.txt"), linkType),
		"another type":     verify(`^https://github\.com/octo-org/app/.*$`, filepath.Join(work, "out.txt"), "https://slsa.dev/provenance/v1"),
	} {
		if r.code == 0 {
			t.Errorf("cosign accepted %s:\n%s%s", name, r.out, r.err)
		} else {
			t.Logf("cosign refuses %s: %s", name, lastLine(r.err))
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestCosignAttestationVerifiesWithIntotoCI: `cosign attest-blob --type …/link/v0.3` (a Statement v0.1
// with the link predicate, keyless through the loopback stack) is accepted by intoto-ci verify as the
// link of the step its predicate names, for the identity the layout pins; a layout pinning another
// subject refuses it.
func TestCosignAttestationVerifiesWithIntotoCI(t *testing.T) {
	cosign := tool(t, "cosign")
	s := sigstack.Shared(t)
	ic := buildtest.IntotoCI(t)
	dir := t.TempDir()
	work, links := filepath.Join(dir, "work"), filepath.Join(dir, "links")
	writeFile(t, filepath.Join(work, "app.txt"), "the app\n")
	writeFile(t, filepath.Join(dir, "predicate.json"), `{"name":"build","command":["make","app.txt"],"materials":[]}`)
	if err := os.MkdirAll(links, 0o755); err != nil {
		t.Fatal(err)
	}
	root := createdRoot(t, ic, s, dir)
	token := s.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{}))
	bundle := filepath.Join(links, "build.cosign.link.sigstore.json")
	att := run(t, work, nil, cosign, "attest-blob", "--predicate", filepath.Join(dir, "predicate.json"), "--type", linkType,
		"--bundle", bundle, "--signing-config", s.SigningConfigPath, "--trusted-root", root,
		"--identity-token", token, "--yes", "app.txt")
	if att.code != 0 {
		t.Fatalf("cosign attest-blob: exit %d\n%s\n%s", att.code, att.out, att.err)
	}
	var b struct {
		DSSEEnvelope struct {
			Payload []byte `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	data, err := os.ReadFile(bundle)
	if err != nil || json.Unmarshal(data, &b) != nil {
		t.Fatalf("cosign bundle: %v", err)
	}
	var st struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(b.DSSEEnvelope.Payload, &st); err != nil {
		t.Fatal(err)
	}
	t.Logf("cosign attest-blob wrote a Statement of _type %s", st.Type)

	for _, tc := range []struct {
		name, subject string
		want          int
	}{
		{"the identity that signed", "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main", 0},
		{"another subject", "https://gitlab.com/grp/other//.gitlab-ci.yml@refs/heads/main", 1},
	} {
		layout := filepath.Join(dir, "layout.yaml")
		writeFile(t, layout, `expires: `+time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339)+`
functionaries:
  ci:
    issuer: `+s.GitLab.URL+`
    subject: `+tc.subject+`
steps:
  - name: build
    functionaries: [ci]
    threshold: 1
    materials: [DISALLOW *]
    products: [CREATE app.txt, DISALLOW *]
`)
		if _, err := os.Stat(filepath.Join(dir, "alice")); err != nil {
			fixture.Key(t, ic, dir, "alice", "")
		}
		mustRun(t, dir, nil, ic, "layout", "build", layout, "-o", "root.layout")
		mustRun(t, dir, nil, ic, "layout", "sign", "--file", "root.layout", "--key", "alice")
		r := run(t, dir, nil, ic, "verify", "--layout", "root.layout", "--layout-key", "alice.pub", "--links-dir", links,
			"--trusted-root", root, "--work-dir", work)
		if r.code != tc.want {
			t.Errorf("%s: intoto-ci verify exit %d, want %d\n%s\n%s", tc.name, r.code, tc.want, r.out, r.err)
		} else {
			t.Logf("%s: intoto-ci verify: %s", tc.name, lastLine(r.out))
		}
	}
}

// TestSlsaVerifierVerifiesVSA: slsa-verifier verify-vsa accepts the VSA `intoto-ci verify --vsa` signs
// with a key, given the key and its in-toto keyid (`intoto-ci key id`, which is the DSSE signature's
// keyid); the same VSA with another key, or a subject digest it does not state, is refused. Without
// --public-key-id slsa-verifier v2.7.1 looks for its own default keyid (a digest of the key), finds no
// signature under it and refuses: the keyid flag is required (logged, not asserted: a client's choice).
func TestSlsaVerifierVerifiesVSA(t *testing.T) {
	t.Parallel()
	sv := tool(t, "slsa-verifier")
	ic := buildtest.IntotoCI(t)
	dir := t.TempDir()
	work, links := filepath.Join(dir, "work"), filepath.Join(dir, "links")
	for _, k := range []string{"alice", "bob", "verifier", "other"} {
		fixture.Key(t, ic, dir, k, "ecdsa")
	}
	writeFile(t, filepath.Join(work, "src.txt"), "source\n")
	mustRun(t, work, nil, ic, "run", "--step", "build", "--key", filepath.Join(dir, "bob"), "--links-dir", links,
		"--materials", "src.txt", "--products", "app.txt", "--", "sh", "-c", "cat src.txt src.txt > app.txt")
	writeFile(t, filepath.Join(dir, "layout.yaml"), `expires: `+time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339)+`
functionaries:
  bob: {key: bob.pub}
steps:
  - name: build
    functionaries: [bob]
    threshold: 1
    materials: [ALLOW src.txt, DISALLOW *]
    products: [CREATE app.txt, ALLOW src.txt, DISALLOW *]
`)
	mustRun(t, dir, nil, ic, "layout", "build", "layout.yaml", "-o", "root.layout")
	mustRun(t, dir, nil, ic, "layout", "sign", "--file", "root.layout", "--key", "alice")
	mustRun(t, dir, nil, ic, "verify", "--layout", "root.layout", "--layout-key", "alice.pub", "--links-dir", links,
		"--work-dir", work, "--vsa", "vsa.json", "--key", "verifier", "--vsa-resource-uri", "app.txt")
	keyid := strings.TrimSpace(mustRun(t, dir, nil, ic, "key", "id", "verifier.pub").out)
	otherID := strings.TrimSpace(mustRun(t, dir, nil, ic, "key", "id", "other.pub").out)
	sum := strings.Fields(mustRun(t, work, nil, "sha256sum", "app.txt").out)[0]

	check := func(pub, id, digest string) result {
		args := []string{"verify-vsa", "--attestation-path", filepath.Join(dir, "vsa.json"),
			"--subject-digest", "sha256:" + digest, "--verifier-id", "https://github.com/intoto-ci/intoto-ci",
			"--resource-uri", "app.txt", "--verified-level", "SLSA_BUILD_LEVEL_1", "--public-key-path", pub}
		if id != "" {
			args = append(args, "--public-key-id", id)
		}
		return run(t, dir, nil, sv, args...)
	}
	good := check("verifier.pub", keyid, sum)
	if good.code != 0 {
		t.Fatalf("slsa-verifier verify-vsa: exit %d\n%s\n%s", good.code, good.out, good.err)
	}
	t.Logf("slsa-verifier verify-vsa printed: %s", strings.TrimSpace(good.out+" "+good.err))
	for name, r := range map[string]result{
		"another key":                check("other.pub", otherID, sum),
		"a digest it does not state": check("verifier.pub", keyid, strings.Repeat("0", 64)),
	} {
		if r.code == 0 {
			t.Errorf("slsa-verifier accepted %s:\n%s%s", name, r.out, r.err)
		} else {
			t.Logf("slsa-verifier refuses %s: %s", name, lastLine(r.out+r.err))
		}
	}
	nokeyid := check("verifier.pub", "", sum)
	t.Logf("slsa-verifier without --public-key-id: exit %d: %s", nokeyid.code, lastLine(nokeyid.out+nokeyid.err))
}
