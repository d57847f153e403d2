package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/layout"
	"github.com/intoto-ci/intoto-ci/internal/testutil/schema"
)

// roundTrip proposes a layout from the links in linksDir, builds it, signs it with a fresh owner key
// and verifies the very links it came from. It returns the proposal.
func roundTrip(t *testing.T, linksDir string, keys []string) string {
	t.Helper()
	dir := t.TempDir()
	newKey(t, dir, "owner")
	yamlPath := filepath.Join(dir, "layout.yaml")
	args := []string{"layout", "init", "--links-dir", linksDir, "-o", yamlPath}
	for _, k := range keys {
		args = append(args, "--key", k)
	}
	if r := invoke(t, nil, args...); r.code != 0 {
		t.Fatalf("layout init: exit %d\n%s", r.code, r.err)
	}
	proposal, err := os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, nil, "layout", "lint", yamlPath); r.code != ExitOK {
		t.Errorf("the proposal has lint findings (exit %d):\n%s\n%s", r.code, r.out, proposal)
	}
	rootLayout := filepath.Join(dir, "root.layout")
	if r := invoke(t, nil, "layout", "build", yamlPath, "-o", rootLayout); r.code != 0 {
		t.Fatalf("layout build: exit %d\n%s\n%s", r.code, r.err, proposal)
	}
	if r := invoke(t, nil, "layout", "sign", "--file", rootLayout, "--key", filepath.Join(dir, "owner")); r.code != 0 {
		t.Fatalf("layout sign: exit %d\n%s", r.code, r.err)
	}
	r := invoke(t, nil, "verify", "--layout", rootLayout, "--layout-key", filepath.Join(dir, "owner.pub"),
		"--links-dir", linksDir, "--work-dir", dir)
	if r.code != ExitOK {
		t.Fatalf("the proposal does not verify the run it came from: exit %d\n%s\n%s\n%s", r.code, r.out, r.err, proposal)
	}
	return string(proposal)
}

func TestLayoutInitRoundTripDemo(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	if r := invoke(t, nil, "demo", "--dir", root); r.code != 0 {
		t.Fatalf("demo: exit %d\n%s", r.code, r.err)
	}
	keys := filepath.Join(root, "keys")
	p := roundTrip(t, filepath.Join(root, "links"), []string{filepath.Join(keys, "bob.pub"), filepath.Join(keys, "carl.pub")})
	for _, want := range []string{"MATCH foo.py WITH PRODUCTS FROM write-code", "CREATE foo.tar.gz", "DISALLOW *", "bob:", "carl:"} {
		if !strings.Contains(p, want) {
			t.Errorf("proposal lacks %q:\n%s", want, p)
		}
	}
	if strings.Index(p, "name: write-code") > strings.Index(p, "name: package") {
		t.Errorf("steps not in dependency order:\n%s", p)
	}
}

func interopKeys(t *testing.T, dir string) []string {
	t.Helper()
	pubs, err := filepath.Glob(filepath.Join(dir, "*.pub"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pubs {
		if _, err := keys.Load(p); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// layoutKeys writes the public keys a layout lists (in-toto-golang ships some only there).
func layoutKeys(t *testing.T, path string) []string {
	t.Helper()
	l, err := layout.ReadAny(path)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	var out []string
	for id, k := range l.Keys {
		pem, err := keys.FromRecord(k).PublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, id[:8]+".pub")
		if err := os.WriteFile(p, pem, 0o644); err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func copyLinks(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	files, err := filepath.Glob(filepath.Join(src, "*.link"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestLayoutInitRoundTripInterop(t *testing.T) {
	t.Parallel()
	golangDir := filepath.Join("..", "..", "testdata", "interop", "in-toto-golang")
	pythonDir := filepath.Join("..", "..", "testdata", "interop", "in-toto-python")
	for _, tt := range []struct {
		name, links string
		keys        []string
		want        []string
	}{
		// All of in-toto-golang's links at once: the demo chain, the DSSE chain, and more.
		{"golang", golangDir, append(append(append(interopKeys(t, golangDir), interopKeys(t, filepath.Join(pythonDir, "demo_files"))...),
			layoutKeys(t, filepath.Join(golangDir, "demo.layout"))...), layoutKeys(t, filepath.Join(golangDir, "dsse-only.root.layout"))...), []string{"MATCH demo-project/foo.py WITH PRODUCTS FROM update-version-dsse",
			"MODIFY demo-project/foo.py", "MATCH foo.py WITH PRODUCTS FROM write-code"}},
		{"python", filepath.Join(pythonDir, "demo_files"), interopKeys(t, filepath.Join(pythonDir, "demo_files")),
			[]string{"MATCH foo.py WITH PRODUCTS FROM write-code", "CREATE foo.tar.gz"}},
		{"python dsse", filepath.Join(pythonDir, "demo_dsse_files"), interopKeys(t, filepath.Join(pythonDir, "demo_files")),
			[]string{"MATCH foo.py WITH PRODUCTS FROM write-code"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := roundTrip(t, copyLinks(t, tt.links), tt.keys)
			for _, want := range tt.want {
				if !strings.Contains(p, want) {
					t.Errorf("proposal lacks %q:\n%s", want, p)
				}
			}
		})
	}
}

func TestLayoutBuildErrorsAndLint(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("expires: 2030-01-01\nsteps:\n  - name: build\n    treshold: 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := invoke(t, nil, "layout", "build", bad, "-o", filepath.Join(dir, "x.layout"))
	if r.code != ExitUsage || !strings.Contains(r.err, `line 4: steps[0]: unknown key "treshold"`) {
		t.Errorf("bad yaml: exit %d, stderr %q; want 2 and the line", r.code, r.err)
	}
	lint := filepath.Join("..", "layout", "testdata", "lint.yaml")
	r = invoke(t, nil, "layout", "lint", "--json", lint)
	if r.code != ExitRefused {
		t.Errorf("lint with findings: exit %d, want 1", r.code)
	}
	var findings []layout.Finding
	if err := json.Unmarshal([]byte(r.out), &findings); err != nil || len(findings) == 0 {
		t.Errorf("lint --json: %v %q", err, r.out)
	}
}

// A refusal names the rule, the artifact and the step, on stderr and in the text report.
func TestRefusalNamesRuleArtifactStep(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	if r := c.build(t, "cd "+c.work+" && cp in.txt out.txt && echo x > evil.sh"); r.code != 0 {
		t.Fatalf("build: %d %s", r.code, r.err)
	}
	r := c.verify(t)
	if r.code != ExitRefused {
		t.Fatalf("got exit %d, want 1\n%s", r.code, r.out)
	}
	for _, out := range []string{r.err, r.out} {
		for _, want := range []string{`"DISALLOW *"`, `"evil.sh"`, `"build"`} {
			if !strings.Contains(out, want) {
				t.Errorf("refusal lacks %s:\n%s", want, out)
			}
		}
	}
	if !strings.Contains(r.out, "✗ DISALLOW *") {
		t.Errorf("text report lacks the rule trace:\n%s", r.out)
	}
	junit := filepath.Join(c.dir, "junit.xml")
	r = c.verify(t, "--report", "markdown", "--report", "junit", "--report-file", junit)
	if data, err := os.ReadFile(junit); err != nil || !strings.Contains(string(data), "<failure") {
		t.Errorf("junit report file: %v\n%s", err, data)
	} else {
		schema.JUnit(t, junit, data)
	}
	if !strings.Contains(r.out, "### ❌") {
		t.Errorf("markdown report missing:\n%s", r.out)
	}
	// The last format goes to the file only: the log keeps the readable reports.
	if strings.Contains(r.out, "<testsuite") {
		t.Errorf("junit XML printed on stdout although --report-file took it:\n%s", r.out)
	}
	// With one --report, stdout and the file both get it (the action's step summary relies on it).
	md := filepath.Join(c.dir, "summary.md")
	r = c.verify(t, "--report", "markdown", "--report-file", md)
	if data, err := os.ReadFile(md); err != nil || !strings.Contains(r.out, "### ❌") || string(data) != r.out {
		t.Errorf("one --report with --report-file: stdout %q, file %q (%v), want the same markdown in both", r.out, data, err)
	}
}

// TestLayoutPeerGolang: a key-only layout built from YAML and signed by intoto-ci is pure in-toto v1.0:
// in-toto-golang's own verifier accepts it with the links of the demo run.
func TestLayoutPeerGolang(t *testing.T) {
	t.Parallel()
	bin, err := exec.LookPath("in-toto-golang")
	if err != nil {
		t.Skip("in-toto-golang is not installed")
	}
	root := t.TempDir()
	if r := invoke(t, nil, "demo", "--dir", root); r.code != 0 {
		t.Fatalf("demo: exit %d\n%s", r.code, r.err)
	}
	keys := filepath.Join(root, "keys")
	yamlPath := filepath.Join(root, "layout.yaml")
	if r := invoke(t, nil, "layout", "init", "--links-dir", filepath.Join(root, "links"), "-o", yamlPath,
		"--key", filepath.Join(keys, "bob.pub"), "--key", filepath.Join(keys, "carl.pub")); r.code != 0 {
		t.Fatalf("layout init: exit %d\n%s", r.code, r.err)
	}
	layoutPath := filepath.Join(root, "peer.layout")
	if r := invoke(t, nil, "layout", "sign", "--file", yamlPath, "--output", layoutPath, "--key", filepath.Join(keys, "alice")); r.code != 0 {
		t.Fatalf("layout sign: exit %d\n%s", r.code, r.err)
	}
	cmd := exec.Command(bin, "verify", "-l", layoutPath, "-k", filepath.Join(keys, "alice.pub"), "-d", filepath.Join(root, "links"))
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("in-toto-golang verify: %v\n%s", err, out)
	}
}
