package differential

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

var (
	flagN       = flag.Int("diff.n", 2500, "number of generated cases (more with a larger value)")
	flagSeed    = flag.Uint64("diff.seed", 20260601, "seed of the case generator")
	flagBudget  = flag.Duration("diff.budget", 90*time.Second, "stop generating new cases after this long (0: no limit)")
	flagHostile = flag.Int("diff.hostile", 40, "one drawn artifact name in this many has a leading '/' or a backslash")
	flagKeep    = flag.Bool("diff.keep", false, "keep the generated case directories (their path is logged)")
)

// python is the reference interpreter: Debian's in-toto 1.3.1 lives in /usr/lib/python3/dist-packages.
const python = "/usr/bin/python3"

func needPython(t *testing.T) {
	t.Helper()
	err := exec.Command(python, "-c", "import in_toto.verifylib; assert in_toto.__version__ == '1.3.1'").Run()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("in-toto-python 1.3.1 not importable by %s (apt-get install -y in-toto): %v", python, err)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// verdict is what one implementation concluded: "pass", or "refuse" with the stage, or "crash".
type verdict struct {
	Verdict string `json:"verdict"`
	Error   string `json:"error"`
	Message string `json:"message"`
	stage   string
}

// pythonStage maps in-toto-python's exception classes to intoto-ci's stages.
func pythonStage(class string) string {
	switch class {
	case "ThresholdVerificationError", "LinkNotFoundError":
		return "threshold"
	case "RuleVerificationError":
		return "rules"
	case "SignatureVerificationError":
		return "signature"
	case "LayoutExpiredError":
		return "expiry"
	}
	return "other:" + class
}

// goStage folds intoto-ci's stages into python's classes (python's threshold error covers both a
// missing link and links that disagree).
func goStage(s verify.Stage) string {
	if s == verify.StageConsistency {
		return "threshold"
	}
	return string(s)
}

type keyset struct {
	owner *keys.Key
	funcs []*keys.Key
}

func newKeys(t *testing.T) *keyset {
	t.Helper()
	k := &keyset{}
	var err error
	if k.owner, err = keys.Generate(keys.KeyTypeED25519); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		f, err := keys.Generate(keys.KeyTypeED25519)
		if err != nil {
			t.Fatal(err)
		}
		k.funcs = append(k.funcs, f)
	}
	return k
}

// write signs the case's layout and links (legacy envelopes, as python 1.3.1 reads) into dir.
func (k *keyset) write(t *testing.T, c *genCase, dir string) {
	t.Helper()
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2030-01-01T00:00:00Z", Keys: map[string]*intoto.Key{},
		Steps: c.Steps, Inspections: []*intoto.Inspection{}}
	for _, f := range k.funcs {
		l.AddKey(f.Record())
	}
	mustWrite(t, filepath.Join(dir, "root.layout"), sign(t, l, k.owner))
	for _, s := range c.Steps {
		for f, link := range c.Links[s.Name] {
			mustWrite(t, filepath.Join(dir, intoto.LinkFileName(s.Name, k.funcs[f].ID())), sign(t, link, k.funcs[f]))
		}
	}
}

func sign(t *testing.T, doc any, key *keys.Key) []byte {
	t.Helper()
	data, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	out, err := envelope.SignLegacy(data, key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func mustWrite(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// reference runs pyverify.py over dirs in one python process.
func reference(t *testing.T, owner *keys.Key, dirs []string) []verdict {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, filepath.Join("testdata", "pyverify.py"))
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	cmd.Stderr = os.Stderr
	var in strings.Builder
	pub := owner.Public()
	pub.KeyID = pub.ID()
	keyDict := map[string]*keys.Key{pub.KeyID: pub}
	for _, d := range dirs {
		line, err := json.Marshal(map[string]any{"dir": d, "keys": keyDict})
		if err != nil {
			t.Fatal(err)
		}
		in.Write(line)
		in.WriteByte('\n')
	}
	cmd.Stdin = strings.NewReader(in.String())
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pyverify.py: %v", err)
	}
	var res []verdict
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v verdict
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatalf("pyverify.py output %q: %v", sc.Text(), err)
		}
		if v.Verdict == "refuse" {
			v.stage = pythonStage(v.Error)
		}
		res = append(res, v)
	}
	if len(res) != len(dirs) {
		t.Fatalf("pyverify.py answered %d of %d cases", len(res), len(dirs))
	}
	return res
}

// ours verifies one case directory with intoto-ci's verify package.
func ours(t *testing.T, owner *keys.Key, dir string) verdict {
	t.Helper()
	res, err := verify.Verify(context.Background(), verify.Options{
		LayoutPath: filepath.Join(dir, "root.layout"), LayoutKeys: []*intoto.Key{owner.Record()},
		LinksDir: dir, WorkDir: dir, Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		return verdict{Verdict: "error", Message: err.Error()}
	}
	if res.Verified {
		return verdict{Verdict: "pass"}
	}
	return verdict{Verdict: "refuse", stage: goStage(res.Failure.Stage), Message: res.Failure.Error()}
}

// documented tells whether a disagreement is one of the divergences documented in
// docs/divergences.md, where python is wrong. It returns the divergence's title, or "".
func documented(c *genCase, py, go_ verdict) string {
	// "python crashes on MATCH … IN … with absolute or backslash names": python raises KeyError;
	// the case must contain such a name.
	if py.Verdict == "crash" && py.Error == "KeyError" && c.Hostile {
		return "python crashes on MATCH IN with absolute or backslash names"
	}
	// "Artifact names must be clean relative slash paths": intoto-ci refuses a link holding one at
	// its step, before the rules; python judges it by the rules.
	if go_.Verdict == "refuse" && go_.stage == string(verify.StageArtifactNames) && c.Hostile {
		return "artifact names must be clean relative slash paths"
	}
	return ""
}

func TestDifferential(t *testing.T) {
	needPython(t)
	t.Parallel()
	k := newKeys(t)
	root := t.TempDir()
	if *flagKeep {
		var err error
		if root, err = os.MkdirTemp("", "intoto-ci-differential-"); err != nil {
			t.Fatal(err)
		}
		t.Logf("cases kept in %s", root)
	}
	start := time.Now()
	const chunk = 250
	counts := map[string]int{}
	done := 0
	for done < *flagN {
		if *flagBudget > 0 && time.Since(start) > *flagBudget {
			t.Logf("time budget %s spent after %d cases", *flagBudget, done)
			break
		}
		var cases []*genCase
		var dirs []string
		for i := done; i < min(done+chunk, *flagN); i++ {
			c := generate(*flagSeed, uint64(i), []string{k.funcs[0].ID(), k.funcs[1].ID()}, max(*flagHostile, 1))
			dir := filepath.Join(root, fmt.Sprintf("case-%06d", i))
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			k.write(t, c, dir)
			cases, dirs = append(cases, c), append(dirs, dir)
		}
		py := reference(t, k.owner, dirs)
		for i, c := range cases {
			got := ours(t, k.owner, dirs[i])
			counts[py[i].Verdict+" "+py[i].stage]++
			if got.Verdict == py[i].Verdict && got.stage == py[i].stage {
				continue
			}
			if d := documented(c, py[i], got); d != "" {
				counts["documented divergence: "+d+"; intoto-ci "+got.Verdict+" "+got.stage]++
				continue
			}
			t.Errorf("case %d (seed %d, %s): python %s %s (%s %s), intoto-ci %s %s (%s)\nsteps: %s",
				c.Seed, *flagSeed, dirs[i], py[i].Verdict, py[i].stage, py[i].Error, py[i].Message,
				got.Verdict, got.stage, got.Message, describe(c))
		}
		if !*flagKeep {
			for _, d := range dirs {
				if err := os.RemoveAll(d); err != nil {
					t.Fatal(err)
				}
			}
		}
		done += len(cases)
	}
	t.Logf("%d cases in %s: %v", done, time.Since(start).Round(time.Millisecond), counts)
	if counts["pass "] == 0 || counts["refuse rules"] == 0 || counts["refuse threshold"] == 0 {
		t.Errorf("the generator does not reach every verdict: %v", counts)
	}
}

func describe(c *genCase) string {
	var b strings.Builder
	for _, s := range c.Steps {
		fmt.Fprintf(&b, "\n  %s threshold %d materials %q products %q", s.Name, s.Threshold, s.ExpectedMaterials, s.ExpectedProducts)
		for f, l := range c.Links[s.Name] {
			fmt.Fprintf(&b, "\n    link by f%d: materials %v products %v", f, artNames(l.Materials), artNames(l.Products))
		}
	}
	return b.String()
}

func artNames(a intoto.ArtifactSet) string {
	var parts []string
	for n, d := range a.All() {
		parts = append(parts, n+"="+d.Digests()["sha256"][:1])
	}
	return strings.Join(sortStrings(parts), ",")
}

func sortStrings(s []string) []string {
	slices.Sort(s)
	return s
}
