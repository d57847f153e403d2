package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/linkfile"
	"github.com/intoto-ci/intoto-ci/internal/oci/ggcr"
	"github.com/intoto-ci/intoto-ci/internal/sigstore"
	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
)

// result is what one in-process invocation produced.
type result struct {
	code     int
	out, err string
}

// invoke runs intoto-ci in-process with an environment of its own (nothing from the test process).
func invoke(t testing.TB, environ map[string]string, args ...string) result {
	t.Helper()
	return invokeWith(t, sigstore.Backend{}, environ, args...)
}

// invokeWith is invoke with kb doing the keyless work (invoke: sigstore-go in this process).
func invokeWith(t testing.TB, kb keyless.Backend, environ map[string]string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	var list []string
	for k, v := range environ {
		list = append(list, k+"="+v)
	}
	if _, ok := environ["PATH"]; !ok {
		list = append(list, "PATH="+os.Getenv("PATH"))
	}
	e := &env{
		stdio:    Stdio{In: strings.NewReader(""), Out: &out, Err: &errb},
		getenv:   func(k string) string { return environ[k] },
		environ:  func() []string { return list },
		keyless:  kb,
		registry: ggcr.New(ggcr.Options{Keychain: ggcr.Keychain(ci.RegistryCredentials(func(k string) string { return environ[k] }))}),
	}
	code := mainEnv(context.Background(), args, e)
	return result{code: code, out: out.String(), err: errb.String()}
}

// chain is a key-signed two-step supply chain built with the real commands.
type chain struct {
	dir, keys, links, work, layout string
}

func newKey(t testing.TB, dir, name string) *keys.Key {
	t.Helper()
	if r := invoke(t, nil, "key", "generate", "-o", filepath.Join(dir, name)); r.code != 0 {
		t.Fatalf("key generate %s: exit %d: %s", name, r.code, r.err)
	}
	k, err := keys.Load(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// writeLayout writes and signs (with alice) a layout: build creates out.txt from in.txt.
func writeLayout(t testing.TB, c *chain, bob *keys.Key, expires time.Time, mutate func(*intoto.Layout)) {
	t.Helper()
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: expires.UTC().Format(intoto.ExpiresFormat)}
	id := l.AddKey(bob.Record())
	l.Steps = []*intoto.Step{{
		Type: intoto.TypeStep, Name: "build", Threshold: 1, PubKeys: []string{id},
		ExpectedMaterials: []intoto.Rule{{"ALLOW", "in.txt"}, {"DISALLOW", "*"}},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "out.txt"}, {"ALLOW", "in.txt"}, {"DISALLOW", "*"}},
		ExpectedCommand:   []string{"sh", "-c", "cp in.txt out.txt"},
	}}
	l.Inspections = []*intoto.Inspection{}
	if mutate != nil {
		mutate(l)
	}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.layout, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, nil, "sign", "--file", c.layout, "--key", filepath.Join(c.keys, "alice")); r.code != 0 {
		t.Fatalf("sign layout: exit %d: %s", r.code, r.err)
	}
}

func newChain(t testing.TB) (*chain, *keys.Key) {
	t.Helper()
	dir := t.TempDir()
	c := &chain{dir: dir, keys: filepath.Join(dir, "keys"), links: filepath.Join(dir, "links"),
		work: filepath.Join(dir, "work"), layout: filepath.Join(dir, "root.layout")}
	for _, d := range []string{c.keys, c.links, c.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	newKey(t, c.keys, "alice")
	bob := newKey(t, c.keys, "bob")
	if err := os.WriteFile(filepath.Join(c.work, "in.txt"), []byte("input\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return c, bob
}

// build runs the build step of the chain with bob's key and returns the invocation's result.
func (c *chain) build(t testing.TB, script string) result {
	t.Helper()
	return invoke(t, nil, "run", "--step", "build", "--key", filepath.Join(c.keys, "bob"),
		"--base-path", c.work, "--materials", filepath.Join(c.work, "in.txt"),
		"--products", c.work, "--links-dir", c.links, "--", "sh", "-c", script)
}

func (c *chain) verify(t testing.TB, extra ...string) result {
	t.Helper()
	args := append([]string{"verify", "--layout", c.layout, "--layout-key", filepath.Join(c.keys, "alice.pub"),
		"--links-dir", c.links, "--work-dir", c.work}, extra...)
	return invoke(t, nil, args...)
}

func TestRunReturnsCommandExitCodeAndRecordsIt(t *testing.T) {
	t.Parallel()
	c, _ := newChain(t)
	r := c.build(t, "cd "+c.work+" && cp in.txt out.txt && echo to-stdout && echo to-stderr >&2 && exit 7")
	if r.code != 7 {
		t.Fatalf("got exit %d, want the command's 7 (stderr: %s)", r.code, r.err)
	}
	if !strings.Contains(r.out, "to-stdout") || !strings.Contains(r.err, "to-stderr") {
		t.Errorf("command output not streamed: stdout %q stderr %q", r.out, r.err)
	}
	matches, err := filepath.Glob(filepath.Join(c.links, "build.*.link"))
	if err != nil || len(matches) != 1 {
		t.Fatalf("got links %v (%v), want one build link", matches, err)
	}
	l, err := linkfile.ReadLink(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	if got := l.ByProducts["return-value"]; got != float64(7) {
		t.Errorf("got return-value %v, want 7", got)
	}
	if got := l.ByProducts["stdout"]; got != "to-stdout\n" {
		t.Errorf("got recorded stdout %q, want %q", got, "to-stdout\n")
	}
	if _, ok := l.Products.Lookup("out.txt"); !ok {
		t.Errorf("products %v lack out.txt", l.Products)
	}
	if _, ok := l.Materials.Lookup("in.txt"); !ok {
		t.Errorf("materials %v lack in.txt", l.Materials)
	}
}

func TestVerifyExitCodes(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	if r := c.build(t, "cd "+c.work+" && cp in.txt out.txt"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.err)
	}
	if r := c.verify(t); r.code != ExitOK {
		t.Fatalf("honest chain: got exit %d, want 0\n%s%s", r.code, r.out, r.err)
	}

	// The product is altered after its step; a refusal must come from the rules.
	if err := os.WriteFile(filepath.Join(c.work, "out.txt"), []byte("evil\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := c.build(t, "cd "+c.work+" && echo evil > out.txt"); r.code != 0 {
		t.Fatalf("re-run: exit %d", r.code)
	}
	// Re-signed by bob, the chain still verifies: nothing downstream checks out.txt's content.
	if r := c.verify(t); r.code != ExitOK {
		t.Fatalf("re-signed honest chain: got exit %d, want 0: %s", r.code, r.out)
	}

	// A layout that is expired is refused (exit 1) with the reason.
	writeLayout(t, c, bob, time.Now().Add(-time.Hour), nil)
	r := c.verify(t)
	if r.code != ExitRefused || !strings.Contains(r.out, "expire") {
		t.Fatalf("expired layout: got exit %d, want 1 with an expiry reason\n%s", r.code, r.out)
	}

	// Unreadable input is exit 2, with one line naming the file.
	r = invoke(t, nil, "verify", "--layout", filepath.Join(c.dir, "missing.layout"),
		"--layout-key", filepath.Join(c.keys, "alice.pub"), "--links-dir", c.links)
	if r.code != ExitUsage || !strings.Contains(r.err, "missing.layout") || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
		t.Fatalf("missing layout: got exit %d and %q, want 2 and one line naming the file", r.code, r.err)
	}
	if err := os.WriteFile(filepath.Join(c.dir, "bad.layout"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	r = invoke(t, nil, "verify", "--layout", filepath.Join(c.dir, "bad.layout"),
		"--layout-key", filepath.Join(c.keys, "alice.pub"), "--links-dir", c.links)
	if r.code != ExitUsage || !strings.Contains(r.err, "bad.layout") {
		t.Fatalf("malformed layout: got exit %d and %q, want 2 naming the file", r.code, r.err)
	}
	// No pinned layout owner is a usage error: an unpinned layout proves nothing.
	r = invoke(t, nil, "verify", "--layout", c.layout, "--links-dir", c.links)
	if r.code != ExitUsage {
		t.Fatalf("unpinned layout: got exit %d, want 2", r.code)
	}
}

func TestVerifyRefusesProductAlteredAfterStep(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	// An inspection checks that what is shipped is what build produced.
	writeLayout(t, c, bob, time.Now().Add(time.Hour), func(l *intoto.Layout) {
		l.Inspections = []*intoto.Inspection{{
			Type: intoto.TypeInspection, Name: "check", Run: []string{"true"},
			ExpectedMaterials: []intoto.Rule{{"MATCH", "out.txt", "WITH", "PRODUCTS", "FROM", "build"}, {"ALLOW", "in.txt"}, {"DISALLOW", "*"}},
			ExpectedProducts:  []intoto.Rule{{"ALLOW", "*"}},
		}}
	})
	if r := c.build(t, "cd "+c.work+" && cp in.txt out.txt"); r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.err)
	}
	if r := c.verify(t); r.code != ExitOK {
		t.Fatalf("honest chain: got exit %d, want 0\n%s", r.code, r.out)
	}
	if err := os.WriteFile(filepath.Join(c.work, "out.txt"), []byte("evil\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := c.verify(t, "--json")
	if r.code != ExitRefused {
		t.Fatalf("altered product: got exit %d, want 1\n%s", r.code, r.out)
	}
	var rep struct {
		Verified bool
		Failure  struct {
			Stage, Step string
			Hints       []string
		}
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatalf("json report: %v\n%s", err, r.out)
	}
	if rep.Verified || rep.Failure.Stage != "rules" || rep.Failure.Step != "check" {
		t.Errorf("got verified=%v failure %+v, want a rules refusal at step check", rep.Verified, rep.Failure)
	}
	// The refusal says why the MATCH did not hold, not only that DISALLOW * caught the leftover.
	if len(rep.Failure.Hints) != 1 || !strings.Contains(rep.Failure.Hints[0], `digest differs from "out.txt" in the products of "build"`) {
		t.Errorf("got hints %q, want one saying out.txt's digest differs from build's product", rep.Failure.Hints)
	}
}

func TestRunWithoutLinkSignerFailsBeforeCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	r := invoke(t, nil, "run", "--step", "s", "--key", filepath.Join(dir, "nope"), "--links-dir", dir,
		"--", "sh", "-c", "touch "+marker)
	if r.code != ExitUsage || !strings.Contains(r.err, "nope") {
		t.Fatalf("got exit %d %q, want 2 naming the key file", r.code, r.err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although its link could never be signed")
	}
}

func TestKeylessSignFailureKeepsCommandResultAndUnsignedLink(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// A closed port: Fulcio refuses the connection; the command itself succeeds.
	environ := map[string]string{"SIGSTORE_ID_TOKEN": "not-a-real-token"}
	r := invoke(t, environ, "run", "--step", "s", "--signing", "keyless", "--fulcio-url", "http://127.0.0.1:1",
		"--rekor-url", "http://127.0.0.1:1", "--service-timeout", "2s", "--links-dir", dir,
		"--", "sh", "-c", "echo hello; env")
	if r.code != ExitFailure {
		t.Fatalf("got exit %d, want 3 (command ok, link unsigned)\n%s", r.code, r.err)
	}
	if !strings.Contains(r.out, "hello") {
		t.Errorf("command output lost: %q", r.out)
	}
	if strings.Contains(r.out, "SIGSTORE_ID_TOKEN") || strings.Contains(r.out, "not-a-real-token") {
		t.Errorf("the wrapped command saw the identity token:\n%s", r.out)
	}
	if strings.Contains(r.err, "not-a-real-token") {
		t.Errorf("the token was logged: %s", r.err)
	}
	if _, err := os.Stat(linkfile.UnsignedPath(dir, "s")); err != nil {
		t.Errorf("unsigned link not kept: %v", err)
	}
	if !strings.Contains(r.err, "fulcio") {
		t.Errorf("error does not name the failing service: %s", r.err)
	}
	// Another job may not sign what it did not witness.
	other := map[string]string{"SIGSTORE_ID_TOKEN": "x", "GITLAB_CI": "true", "CI_PIPELINE_ID": "99", "CI_JOB_ID": "7"}
	r = invoke(t, other, "sign", "--signing", "keyless", "--fulcio-url", "http://127.0.0.1:1",
		"--rekor-url", "http://127.0.0.1:1", "--file", linkfile.UnsignedPath(dir, "s"))
	if r.code != ExitUsage || !strings.Contains(r.err, "another job") {
		t.Fatalf("sign in another job: got exit %d %q, want 2 refusing it", r.code, r.err)
	}

	// In this job, a kept link that run could not have written is refused before any signing: a step
	// name that escapes the directory, a payload of another step, an unclean artifact name. The
	// honest one gets as far as Fulcio (closed here: exit 3, kept for another try).
	kept, err := linkfile.ReadUnsigned(linkfile.UnsignedPath(dir, "s"))
	if err != nil {
		t.Fatal(err)
	}
	sign := func(u linkfile.Unsigned) result {
		t.Helper()
		data, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, ".t.link-unsigned.json")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return invoke(t, environ, "sign", "--signing", "keyless", "--fulcio-url", "http://127.0.0.1:1",
			"--rekor-url", "http://127.0.0.1:1", "--service-timeout", "1s", "--file", path)
	}
	escape, another := *kept, *kept
	escape.Step = "../escape"
	another.Step = "release"
	unclean := *kept
	stmt := strings.Replace(string(kept.Bytes()), `"predicateType"`, `"subject":[{"name":"src/../x","digest":{"sha256":"`+
		strings.Repeat("0", 64)+`"}}],"predicateType"`, 1)
	unclean.Payload = base64.StdEncoding.EncodeToString([]byte(stmt))
	for what, tc := range map[string]struct {
		u    linkfile.Unsigned
		want string
	}{"escaping step": {escape, `"../escape"`}, "another step": {another, `not "release"`}, "unclean name": {unclean, `"src/../x"`}} {
		if r := sign(tc.u); r.code != ExitRefused || !strings.Contains(r.err, "not signed") || !strings.Contains(r.err, tc.want) {
			t.Errorf("sign of a kept link with an %s: got exit %d %q, want 1 naming %s", what, r.code, r.err, tc.want)
		}
	}
	if r := sign(*kept); r.code != ExitFailure || !strings.Contains(r.err, "another try") {
		t.Errorf("sign of the honest kept link: got exit %d %q, want 3 from fulcio", r.code, r.err)
	}
}

func TestSignAppendsLayoutSignature(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	newKey(t, c.keys, "dana")
	if r := invoke(t, nil, "sign", "--file", c.layout, "--key", filepath.Join(c.keys, "dana")); r.code != 0 {
		t.Fatalf("append signature: exit %d: %s", r.code, r.err)
	}
	data, err := os.ReadFile(c.layout)
	if err != nil {
		t.Fatal(err)
	}
	s, err := envelope.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Signatures) != 2 {
		t.Fatalf("got %d signatures, want 2", len(s.Signatures))
	}
	if r := c.build(t, "cd "+c.work+" && cp in.txt out.txt"); r.code != 0 {
		t.Fatal(r.err)
	}
	r := c.verify(t, "--layout-key", filepath.Join(c.keys, "dana.pub"))
	if r.code != ExitOK {
		t.Fatalf("two pinned owners who both signed: got exit %d\n%s", r.code, r.out)
	}
	newKey(t, c.keys, "eve")
	r = c.verify(t, "--layout-key", filepath.Join(c.keys, "eve.pub"))
	if r.code != ExitRefused {
		t.Fatalf("pinned owner who did not sign: got exit %d, want 1\n%s", r.code, r.out)
	}
}

func TestDemo(t *testing.T) {
	t.Parallel()
	r := invoke(t, nil, "demo", "--dir", t.TempDir())
	if r.code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	if !strings.Contains(r.out, "VERIFIED") || !strings.Contains(r.out, "REFUSED") {
		t.Errorf("demo output lacks the verdicts:\n%s", r.out)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no step", []string{"run", "--key", "k", "--", "true"}, "--step is required"},
		{"no command", []string{"run", "--step", "s", "--key", "k"}, "no command to run"},
		{"bad signing", []string{"run", "--step", "s", "--signing", "magic", "--", "true"}, "--signing must be key or keyless"},
		{"slash in step", []string{"run", "--step", "../x", "--key", "k", "--", "true"}, "plain name"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad report", []string{"verify", "--layout", "l", "--layout-key", "k", "--report", "pdf"}, "--report must be"},
		{"bad param", []string{"verify", "--layout", "l", "--layout-key", "k", "--param", "novalue"}, "want name=value"},
		{"attach without image", []string{"attach", "--layout", "l", "--layout-key", "k"}, "--image is required"},
		{"attach without layout", []string{"attach", "--image", "127.0.0.1:1/a:v1", "--layout-key", "k"}, "--layout is required"},
		{"image step without image", []string{"verify", "--layout", "l", "--layout-key", "k", "--image-step", "s"}, "--image-step needs --image"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := invoke(t, nil, tc.args...)
			if r.code != ExitUsage {
				t.Errorf("got exit %d, want 2", r.code)
			}
			if !strings.Contains(r.err, tc.want) {
				t.Errorf("got stderr %q, want it to contain %q", r.err, tc.want)
			}
		})
	}
}

func TestRecordStartStop(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), func(l *intoto.Layout) { l.Steps[0].ExpectedCommand = []string{} })
	key := filepath.Join(c.keys, "bob")
	if r := invoke(t, nil, "record", "start", "--step", "build", "--key", key, "--base-path", c.work,
		"--materials", filepath.Join(c.work, "in.txt"), "--links-dir", c.links); r.code != 0 {
		t.Fatalf("record start: exit %d: %s", r.code, r.err)
	}
	// The step happens outside intoto-ci, between start and stop.
	if err := os.WriteFile(filepath.Join(c.work, "out.txt"), []byte("input\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Another job may not finish what this one started.
	other := map[string]string{"GITLAB_CI": "true", "CI_PIPELINE_ID": "5", "CI_JOB_ID": "6"}
	r := invoke(t, other, "record", "stop", "--step", "build", "--key", key, "--base-path", c.work,
		"--products", c.work, "--links-dir", c.links)
	if r.code != ExitUsage || !strings.Contains(r.err, "another job") {
		t.Fatalf("record stop in another job: got exit %d %q, want 2", r.code, r.err)
	}
	r = invoke(t, nil, "record", "stop", "--step", "build", "--key", key, "--base-path", c.work,
		"--products", c.work, "--links-dir", c.links)
	if r.code != 0 {
		t.Fatalf("record stop: exit %d: %s", r.code, r.err)
	}
	if _, err := os.Stat(linkfile.UnfinishedPath(c.links, "build")); err == nil {
		t.Error("the unfinished link was left behind")
	}
	if r := c.verify(t); r.code != ExitOK {
		t.Fatalf("recorded chain: got exit %d, want 0\n%s", r.code, r.out)
	}
	r = invoke(t, nil, "record", "stop", "--step", "build", "--key", key, "--links-dir", c.links)
	if r.code != ExitUsage || !strings.Contains(r.err, "record start") {
		t.Fatalf("stop without start: got exit %d %q, want 2 pointing at record start", r.code, r.err)
	}
}

func TestCommitBinding(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	build := func(extra ...string) {
		t.Helper()
		args := append([]string{"run", "--step", "build", "--key", filepath.Join(c.keys, "bob"), "--base-path", c.work,
			"--materials", filepath.Join(c.work, "in.txt"), "--products", c.work, "--links-dir", c.links}, extra...)
		args = append(args, "--", "sh", "-c", "cp "+filepath.Join(c.work, "in.txt")+" "+filepath.Join(c.work, "out.txt"))
		if r := invoke(t, nil, args...); r.code != 0 {
			t.Fatalf("run: exit %d: %s", r.code, r.err)
		}
	}
	const commit = "0123456789abcdef0123456789abcdef01234567"
	build("--commit", commit)
	if r := c.verify(t, "--commit", commit); r.code != ExitOK {
		t.Fatalf("link recorded at the expected commit: got exit %d\n%s", r.code, r.out)
	}
	r := c.verify(t, "--commit", "fedcba9876543210fedcba9876543210fedcba98", "--json")
	var rep struct {
		Failure struct{ Stage, Reason string }
	}
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if r.code != ExitRefused || rep.Failure.Stage != "runbinding" || !strings.Contains(rep.Failure.Reason, commit) {
		t.Fatalf("link of another commit: got exit %d %+v, want 1 at runbinding naming %s", r.code, rep.Failure, commit)
	}
	build() // the same step recorded without a commit replaces the link
	r = c.verify(t, "--commit", commit, "--json")
	if err := json.Unmarshal([]byte(r.out), &rep); err != nil {
		t.Fatal(err)
	}
	if r.code != ExitRefused || !strings.Contains(rep.Failure.Reason, "shows no commit") {
		t.Fatalf("link without a commit: got exit %d %+v, want 1 saying it shows no commit", r.code, rep.Failure)
	}
}

// A signed link with an object member given twice is refused, even where the signature still verifies
// (canonical JSON keeps the last duplicate, so an unsigned first one rides along for readers that keep
// the first).
func TestDuplicateMemberRefused(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	r := invoke(t, nil, "run", "--step", "build", "--key", filepath.Join(c.keys, "bob"), "--envelope", "legacy",
		"--base-path", c.work, "--materials", filepath.Join(c.work, "in.txt"), "--products", c.work,
		"--links-dir", c.links, "--", "sh", "-c", "cp "+filepath.Join(c.work, "in.txt")+" "+filepath.Join(c.work, "out.txt"))
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.err)
	}
	if r := c.verify(t); r.code != ExitOK {
		t.Fatalf("honest legacy link: got exit %d\n%s", r.code, r.out)
	}
	path := mustGlob(t, filepath.Join(c.links, "build.*.link"))[0]
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(string(data), `"signed":`)
	j := strings.Index(string(data[i:]), "{")
	if i < 0 || j < 0 {
		t.Fatalf("not a legacy envelope: %s", data)
	}
	at := i + j + 1
	forged := string(data[:at]) + `"products":{"evil.sh":{"sha256":"` + strings.Repeat("0", 64) + `"}},` + string(data[at:])
	if err := os.WriteFile(path, []byte(forged), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := envelope.Parse([]byte(forged))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyKey(bob.Public()); err != nil {
		t.Fatalf("the forged file must still carry a valid signature for this test to mean anything: %v", err)
	}
	r = c.verify(t, "--json")
	if r.code != ExitRefused || !strings.Contains(r.out, "duplicate") {
		t.Fatalf("link with a duplicate member: got exit %d, want 1 naming the duplicate\n%s", r.code, r.out)
	}
}

// TestMain removes the intoto-ci binaries some tests build (buildtest) to run intoto-ci-sigstore.
func TestMain(m *testing.M) { os.Exit(buildtest.Main(m)) }
