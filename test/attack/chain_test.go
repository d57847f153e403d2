package attack

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

// chain is a key-signed three-step supply chain built with the real binary:
// fetch (bob) creates src.txt; build (bob) turns src.txt into out.txt; package (dave) tars out.txt
// into app.tar. alice owns the layout; carol is a key the layout does not know.
type chain struct {
	dir, keys, links, work, layout string
	key                            map[string]*keys.Key
}

func newChain(t *testing.T) *chain {
	t.Helper()
	dir := t.TempDir()
	c := &chain{dir: dir, keys: filepath.Join(dir, "keys"), links: filepath.Join(dir, "links"),
		work: filepath.Join(dir, "work"), layout: filepath.Join(dir, "root.layout"), key: map[string]*keys.Key{}}
	for _, d := range []string{c.keys, c.links, c.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range []string{"alice", "bob", "carol", "dave"} {
		c.key[n] = harness.Key(t, c.keys, n)
	}
	return c
}

func (c *chain) keyPath(name string) string { return filepath.Join(c.keys, name) }

// id8 is the link-file short id of a key.
func (c *chain) id8(name string) string { return c.key[name].ID()[:8] }

// baseLayout is the honest layout of the chain; tests mutate it before writing.
func (c *chain) baseLayout() *intoto.Layout {
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: time.Now().Add(24 * time.Hour).UTC().Format(intoto.ExpiresFormat),
		Keys: map[string]*intoto.Key{}}
	bob, dave := l.AddKey(c.key["bob"].Record()), l.AddKey(c.key["dave"].Record())
	l.Steps = []*intoto.Step{{
		Type: intoto.TypeStep, Name: "fetch", Threshold: 1, PubKeys: []string{bob},
		ExpectedMaterials: []intoto.Rule{{"DISALLOW", "*"}},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "src.txt"}, {"DISALLOW", "*"}},
		ExpectedCommand:   []string{},
	}, {
		Type: intoto.TypeStep, Name: "build", Threshold: 1, PubKeys: []string{bob},
		ExpectedMaterials: []intoto.Rule{{"MATCH", "src.txt", "WITH", "PRODUCTS", "FROM", "fetch"}, {"DISALLOW", "*"}},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "out.txt"}, {"ALLOW", "src.txt"}, {"DISALLOW", "*"}},
		ExpectedCommand:   []string{},
	}, {
		Type: intoto.TypeStep, Name: "package", Threshold: 1, PubKeys: []string{dave},
		ExpectedMaterials: []intoto.Rule{{"MATCH", "out.txt", "WITH", "PRODUCTS", "FROM", "build"}, {"ALLOW", "src.txt"}, {"DISALLOW", "*"}},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "app.tar"}, {"ALLOW", "out.txt"}, {"ALLOW", "src.txt"}, {"DISALLOW", "*"}},
		ExpectedCommand:   []string{},
	}}
	l.Inspections = []*intoto.Inspection{}
	return l
}

// writeLayout writes l as a bare document and signs it through the CLI with the signers' keys.
func (c *chain) writeLayout(t *testing.T, l *intoto.Layout, signers ...string) {
	t.Helper()
	if len(signers) == 0 {
		signers = []string{"alice"}
	}
	harness.WriteJSON(t, c.layout, l)
	args := []string{"sign", "--file", c.layout}
	for _, s := range signers {
		args = append(args, "--key", c.keyPath(s))
	}
	harness.Must(t, args...)
}

// run wraps script (run in the work dir) as step, signing with key, recording the given work-dir
// relative materials and products ("." = the whole work dir).
func (c *chain) run(t *testing.T, step, key, linksDir string, materials, products []string, script string) harness.Result {
	t.Helper()
	if linksDir == "" {
		linksDir = c.links
	}
	args := []string{"run", "--step", step, "--key", c.keyPath(key), "--base-path", c.work, "--links-dir", linksDir}
	for _, m := range materials {
		args = append(args, "--materials", filepath.Join(c.work, m))
	}
	for _, p := range products {
		args = append(args, "--products", filepath.Join(c.work, p))
	}
	args = append(args, "--", "sh", "-c", script)
	return harness.Run(t, harness.Cmd{Args: args, Dir: c.work})
}

func (c *chain) mustRun(t *testing.T, step, key string, materials, products []string, script string) {
	t.Helper()
	if r := c.run(t, step, key, "", materials, products, script); r.Code != 0 {
		t.Fatalf("run %s: %s", step, r)
	}
}

func (c *chain) fetch(t *testing.T) {
	c.mustRun(t, "fetch", "bob", nil, []string{"."}, "echo source > src.txt")
}
func (c *chain) build(t *testing.T) { c.buildAs(t, "bob") }
func (c *chain) pack(t *testing.T) {
	c.mustRun(t, "package", "dave", []string{"."}, []string{"."}, "tar cf app.tar out.txt")
}
func (c *chain) honest(t *testing.T) { c.fetch(t); c.build(t); c.pack(t) }

func (c *chain) buildAs(t *testing.T, key string) {
	t.Helper()
	c.mustRun(t, "build", key, []string{"src.txt"}, []string{"."}, "tr a-z A-Z < src.txt > out.txt")
}

// verify runs `verify --json` on the chain and returns the result and its report.
func (c *chain) verify(t *testing.T, extra ...string) (harness.Result, *harness.Report) {
	t.Helper()
	args := append([]string{"verify", "--json", "--layout", c.layout, "--layout-key", c.keyPath("alice.pub"),
		"--links-dir", c.links, "--work-dir", c.work}, extra...)
	r := harness.IC(t, args...)
	if r.Code != 0 && r.Code != 1 {
		t.Fatalf("verify: want a verdict (exit 0 or 1): %s", r)
	}
	return r, harness.ParseReport(t, r)
}

// mustVerify asserts the chain verifies.
func (c *chain) mustVerify(t *testing.T, extra ...string) {
	t.Helper()
	r, rep := c.verify(t, extra...)
	if r.Code != 0 || !rep.Verified {
		t.Fatalf("honest chain: got %s, want verified", r)
	}
}

// refused asserts a refusal at stage for step, whose reason (or a rejected file's) mentions each of
// the given words.
func (c *chain) refused(t *testing.T, stage, step string, words []string, extra ...string) *harness.Report {
	t.Helper()
	r, rep := c.verify(t, extra...)
	if r.Code != 1 || rep.Verified || rep.Failure == nil {
		t.Fatalf("tampered chain: got %s, want exit 1 refused", r)
	}
	if rep.Failure.Stage != stage || rep.Failure.Step != step {
		t.Fatalf("got refusal at stage %q step %q (%s), want stage %q step %q", rep.Failure.Stage, rep.Failure.Step, rep.Failure.Reason, stage, step)
	}
	why := rep.Failure.Reason + " | " + strings.Join(rep.Failure.Artifacts, " ") + " | " + rep.Rejections()
	for _, w := range words {
		if !strings.Contains(why, w) {
			t.Errorf("refusal %q does not mention %q", why, w)
		}
	}
	return rep
}

// linkPath returns the single link file of step signed by key in dir (default the links dir).
func (c *chain) linkPath(t *testing.T, step, key string) string {
	t.Helper()
	return filepath.Join(c.links, intoto.LinkFileName(step, c.key[key].ID()))
}

// resign decodes the link at path, lets mutate change it, and signs the result through the CLI with
// key (an authorized functionary's key: the forgery is validly signed), writing it to dst.
func (c *chain) resign(t *testing.T, path, key, dst string, mutate func(*intoto.Link)) {
	t.Helper()
	l, err := wire.DecodeLink(harness.Payload(t, path))
	if err != nil {
		t.Fatal(err)
	}
	mutate(l)
	bare := filepath.Join(c.dir, "bare.link.json")
	data, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, bare, data)
	harness.Must(t, "sign", "--file", bare, "--key", c.keyPath(key), "--output", dst)
}

// digest returns the sha256 artifact entry of content.
func digest(content string) intoto.Digests {
	sum := sha256.Sum256([]byte(content))
	return intoto.Digests{"sha256": hex.EncodeToString(sum[:])}
}

// withArtifact returns s with name's digest set to d (added or replaced): how a tampering test
// changes a link's artifacts before re-signing it.
func withArtifact(s intoto.ArtifactSet, name string, d intoto.Digests) intoto.ArtifactSet {
	m := s.Map()
	m[name] = d
	return intoto.NewArtifactSet(m)
}
