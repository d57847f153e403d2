// Chains made by each peer must verify with intoto-ci, chains made by intoto-ci must verify with each
// peer, and tampered copies must be refused by all three. Tests that need a missing peer skip, except
// under CI=true where they fail.
package conformance_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/fixture"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
	"github.com/secure-systems-lab/go-securesystemslib/cjson"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// Paths of the interop vectors copied from the reference implementations (see testdata/interop/NOTICE).
var (
	golangDir = mustAbs(filepath.Join("..", "..", "testdata", "interop", "in-toto-golang"))
	pythonDir = mustAbs(filepath.Join("..", "..", "testdata", "interop", "in-toto-python"))
)

// mustAbs makes a fixture path absolute: the commands under test run in other directories.
func mustAbs(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		panic(err) // only when the working directory is gone
	}
	return abs
}

func TestMain(m *testing.M) {
	flag.Parse()
	os.Exit(buildtest.Main(m))
}

// intotoCI returns the path of an intoto-ci binary built from this checkout.
func intotoCI(t testing.TB) string {
	t.Helper()
	return buildtest.IntotoCI(t)
}

// peerInstall says how .ci/setup installs the peers.
const peerInstall = "apt-get install -y in-toto; go install github.com/in-toto/in-toto-golang@v0.11.0"

func needPython(t testing.TB) {
	t.Helper()
	for _, n := range []string{"in-toto-run", "in-toto-sign", "in-toto-verify", "in-toto-keygen"} {
		fixture.Tool(t, peerInstall, n)
	}
}

func golangBin(t testing.TB) string {
	t.Helper()
	return fixture.Tool(t, peerInstall, "in-toto-golang")
}

// result is what one command did.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
}

// run executes a program in dir and returns its exit code and output; it fails the test only when
// the program cannot be started or is killed by a signal.
func run(t testing.TB, dir, prog string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PYTHONDONTWRITEBYTECODE=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		res.code = exit.ExitCode()
	default:
		t.Fatalf("%s %s: %v\n%s", filepath.Base(prog), strings.Join(args, " "), err, res)
	}
	return res
}

// mustRun is run that fails the test unless the program exits 0.
func mustRun(t testing.TB, dir, prog string, args ...string) result {
	t.Helper()
	res := run(t, dir, prog, args...)
	if res.code != 0 {
		t.Fatalf("%s %s: %s", filepath.Base(prog), strings.Join(args, " "), res)
	}
	return res
}

func mkdirs(t testing.TB, dirs ...string) {
	t.Helper()
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	harness.WriteFile(t, dst, harness.ReadFile(t, src))
}

// onlyFile returns the one file matching pattern, failing otherwise.
func onlyFile(t testing.TB, pattern string) string {
	t.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 1 {
		t.Fatalf("files matching %s: %q, want exactly one", pattern, m)
	}
	return m[0]
}

func sha256Hex(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// keyObject is a securesystemslib public key object as layouts carry it.
type keyObject map[string]any

func (k keyObject) id() string { return k["keyid"].(string) }

// withKeyID adds the keyid computed as the peers do: sha256 of the canonical JSON of the object
// without keyid (and without a private part).
func withKeyID(t testing.TB, k keyObject) keyObject {
	t.Helper()
	bare := keyObject{}
	for f, v := range k {
		if f != "keyid" {
			bare[f] = v
		}
	}
	data, err := cjson.EncodeCanonical(bare)
	if err != nil {
		t.Fatal(err)
	}
	bare["keyid"] = sha256Hex(data)
	return bare
}

// ed25519KeyObject reads a PEM (PKIX) ed25519 public key and returns its key object.
func ed25519KeyObject(t testing.TB, pubPEM string) keyObject {
	t.Helper()
	block, _ := pem.Decode(harness.ReadFile(t, pubPEM))
	if block == nil {
		t.Fatalf("%s: no PEM block", pubPEM)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", pubPEM, err)
	}
	ed, ok := pub.(ed25519.PublicKey)
	if !ok {
		t.Fatalf("%s: %T, want an ed25519 key", pubPEM, pub)
	}
	return withKeyID(t, keyObject{
		"keytype":               "ed25519",
		"scheme":                "ed25519",
		"keyid_hash_algorithms": []any{"sha256", "sha512"},
		"keyval":                map[string]any{"public": hex.EncodeToString(ed)},
	})
}

// writeSSLibPub writes k as a securesystemslib JSON public key file (what in-toto-python 1.3.1 reads
// with -t ed25519).
func writeSSLibPub(t testing.TB, k keyObject, path string) {
	t.Helper()
	harness.WriteJSON(t, path, map[string]any{
		"keytype": k["keytype"], "scheme": k["scheme"],
		"keyid_hash_algorithms": k["keyid_hash_algorithms"], "keyval": k["keyval"],
	})
}

// pythonKeyObjects asks in-toto-python's securesystemslib for the key objects of public key files
// (types rsa, ed25519 or ecdsa, as in-toto-verify -t takes them): the reference's own keyids.
func pythonKeyObjects(t testing.TB, dir string, files, types []string) []keyObject {
	t.Helper()
	script := `import json, sys
from securesystemslib.interface import import_publickeys_from_file
n = len(sys.argv) // 2
files, types = sys.argv[1:1 + n], sys.argv[1 + n:]
keys = import_publickeys_from_file(files, types)
by_file = []
for f, ty in zip(files, types):
    k = import_publickeys_from_file([f], [ty])
    by_file.append(list(k.values())[0])
print(json.dumps(by_file))
`
	args := append([]string{"-c", script}, files...)
	args = append(args, types...)
	res := mustRun(t, dir, "/usr/bin/python3", args...)
	var out []keyObject
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("python key objects: %v\n%s", err, res)
	}
	return out
}

// golangKeyObject asks in-toto-golang for the key object of a PEM public key.
func golangKeyObject(t testing.TB, pub string) keyObject {
	t.Helper()
	res := mustRun(t, ".", golangBin(t), "key", "layout", pub)
	_, obj, ok := strings.Cut(res.stdout, ": ")
	if !ok {
		t.Fatalf("in-toto-golang key layout %s: %q", pub, res.stdout)
	}
	var k keyObject
	if err := json.Unmarshal([]byte(obj), &k); err != nil {
		t.Fatalf("in-toto-golang key layout %s: %v", pub, err)
	}
	return k
}

// keysOf is the layout's "keys" map.
func keysOf(ks ...keyObject) map[string]any {
	m := map[string]any{}
	for _, k := range ks {
		m[k.id()] = k
	}
	return m
}

func ids(ks ...keyObject) []any {
	out := []any{}
	for _, k := range ks {
		out = append(out, k.id())
	}
	return out
}

func rule(words ...string) []any {
	out := make([]any, len(words))
	for i, w := range words {
		out[i] = w
	}
	return out
}

// chainSpec describes the demo supply chain every conformance case uses: write-code creates foo.py,
// package turns it into foo.tar.gz, the inspection untar unpacks foo.tar.gz and checks foo.py.
type chainSpec struct {
	keys          []keyObject
	writeCode     []keyObject // functionaries of write-code
	pkg           []keyObject // functionaries of package
	pkgThreshold  int         // 0 = 1
	packageCmd    []string
	expires       time.Time
	inspectionRun []string
}

func demoLayout(s chainSpec) map[string]any {
	threshold := s.pkgThreshold
	if threshold == 0 {
		threshold = 1
	}
	cmd := []any{}
	for _, c := range s.packageCmd {
		cmd = append(cmd, c)
	}
	insp := []any{}
	for _, c := range s.inspectionRun {
		insp = append(insp, c)
	}
	if s.expires.IsZero() {
		s.expires = time.Now().UTC().Add(30 * 24 * time.Hour)
	}
	return map[string]any{
		"_type":   "layout",
		"expires": s.expires.UTC().Format("2006-01-02T15:04:05Z"),
		"readme":  "intoto-ci conformance chain",
		"keys":    keysOf(s.keys...),
		"steps": []any{
			map[string]any{
				"_type": "step", "name": "write-code", "threshold": 1, "pubkeys": ids(s.writeCode...),
				"expected_command":   []any{},
				"expected_materials": []any{},
				"expected_products":  []any{rule("CREATE", "foo.py"), rule("DISALLOW", "*")},
			},
			map[string]any{
				"_type": "step", "name": "package", "threshold": threshold, "pubkeys": ids(s.pkg...),
				"expected_command": cmd,
				"expected_materials": []any{
					rule("MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"), rule("DISALLOW", "*"),
				},
				"expected_products": []any{
					rule("CREATE", "foo.tar.gz"), rule("ALLOW", "foo.py"), rule("DISALLOW", "*"),
				},
			},
		},
		"inspect": []any{
			map[string]any{
				"_type": "inspection", "name": "untar", "run": insp,
				"expected_materials": []any{
					rule("MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"), rule("DISALLOW", "*"),
				},
				"expected_products": []any{
					rule("MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"),
					rule("MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"),
					rule("DISALLOW", "*"),
				},
			},
		},
	}
}

// chainDirs is the file system of one case: keys, the functionaries' work tree, the links and the
// verification directory (which holds only the delivered foo.tar.gz; inspections run there).
type chainDirs struct {
	root, keys, work, links, final string
}

func newChainDirs(t testing.TB) chainDirs {
	t.Helper()
	root := t.TempDir()
	d := chainDirs{
		root:  root,
		keys:  filepath.Join(root, "keys"),
		work:  filepath.Join(root, "work"),
		links: filepath.Join(root, "links"),
		final: filepath.Join(root, "final"),
	}
	mkdirs(t, d.keys, d.work, d.links, d.final)
	harness.WriteFile(t, filepath.Join(d.work, "foo.py"), []byte("print('hello from the conformance chain')\n"))
	return d
}

// deliver copies the packaged foo.tar.gz into the verification directory.
func (d chainDirs) deliver(t testing.TB) {
	t.Helper()
	copyFile(t, filepath.Join(d.work, "foo.tar.gz"), filepath.Join(d.final, "foo.tar.gz"))
}

// packageCmd is the package step's command, run in the work directory.
var packageCmd = []string{"tar", "--mtime=2020-01-01", "--owner=0", "--group=0", "-czf", "foo.tar.gz", "foo.py"}

// verifyDir returns a fresh verification directory holding a copy of what was delivered: inspections
// write there, so every verifier gets its own.
func verifyDir(t testing.TB, d chainDirs) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(d.final)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		copyFile(t, filepath.Join(d.final, e.Name()), filepath.Join(dir, e.Name()))
	}
	return dir
}

// verifiers: each returns the exit code of one implementation's verify command, run in a fresh
// verification directory.

func verifyIntotoCI(t testing.TB, d chainDirs, layout string, layoutKeys ...string) result {
	t.Helper()
	dir := verifyDir(t, d)
	args := []string{"verify", "--json", "--layout", layout, "--links-dir", d.links, "--work-dir", dir}
	for _, k := range layoutKeys {
		args = append(args, "--layout-key", k)
	}
	return run(t, dir, intotoCI(t), args...)
}

// verifyPython runs in-toto-verify; keys are (file, type) pairs.
func verifyPython(t testing.TB, d chainDirs, layout string, keys, types []string) result {
	t.Helper()
	needPython(t)
	args := []string{"--layout", layout, "--link-dir", d.links, "--layout-keys"}
	args = append(args, keys...)
	args = append(args, "--key-types")
	args = append(args, types...)
	return run(t, verifyDir(t, d), "in-toto-verify", args...)
}

func verifyGolang(t testing.TB, d chainDirs, layout string, layoutKeys ...string) result {
	t.Helper()
	args := []string{"verify", "--layout", layout, "--link-dir", d.links}
	for _, k := range layoutKeys {
		args = append(args, "--layout-keys", k)
	}
	return run(t, verifyDir(t, d), golangBin(t), args...)
}

// wantExit asserts one verifier's verdict.
func wantExit(t testing.TB, who string, got result, want int) {
	t.Helper()
	if got.code != want {
		t.Errorf("%s: got exit %d, want %d\n%s", who, got.code, want, got)
	}
}

// wantRefused asserts that intoto-ci refused (exit 1) at the given stage of its JSON report
// ("signature", "threshold", "rules", …), so a refusal for another reason does not pass the test.
func wantRefused(t testing.TB, got result, stage string) {
	t.Helper()
	wantExit(t, "intoto-ci", got, 1)
	var report struct {
		Verified bool `json:"verified"`
		Failure  struct {
			Stage string `json:"stage"`
		} `json:"failure"`
	}
	if err := json.Unmarshal([]byte(got.stdout), &report); err != nil {
		t.Fatalf("intoto-ci --json: %v\n%s", err, got)
	}
	if report.Verified || report.Failure.Stage != stage {
		t.Errorf("intoto-ci: refused at stage %q, want %q\n%s", report.Failure.Stage, stage, got)
	}
}

// linkPayload returns the link JSON inside a legacy or DSSE envelope file and whether it was DSSE.
func linkPayload(t testing.TB, path string) (map[string]any, bool) {
	t.Helper()
	var env struct {
		Signed  map[string]any `json:"signed"`
		Payload []byte         `json:"payload"`
	}
	if err := json.Unmarshal(harness.ReadFile(t, path), &env); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if env.Signed != nil {
		return env.Signed, false
	}
	var m map[string]any
	if err := json.Unmarshal(env.Payload, &m); err != nil {
		t.Fatalf("%s payload: %v", path, err)
	}
	return m, true
}

// setProductHash rewrites the sha256 of one artifact of a link payload.
func setProductHash(t testing.TB, link map[string]any, name, digest string) {
	t.Helper()
	products, _ := link["products"].(map[string]any)
	a, ok := products[name].(map[string]any)
	if !ok {
		t.Fatalf("link has no product %q: %v", name, link["products"])
	}
	a["sha256"] = digest
}

func goldenPath(name string) string { return filepath.Join("testdata", "golden", name) }

// checkGolden compares got with the golden file (rewritten with -update).
func checkGolden(t testing.TB, name string, got []byte) {
	t.Helper()
	path := goldenPath(name)
	if *update {
		harness.WriteFile(t, path, got)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./test/conformance -run %s -update)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (rerun with -update if intended):\ngot:\n%s\nwant:\n%s", t.Name(), path, got, want)
	}
}
