package attack

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/wire"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// An artifact altered between the step that produced it and the step that consumes it: the consumer's
// link (honestly signed by its trusted functionary) reports the altered digest, which no longer
// matches the producer's product.
func TestProductAlteredAfterStep(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	c.writeLayout(t, c.baseLayout())
	c.fetch(t)
	c.build(t)
	harness.WriteFile(t, filepath.Join(c.work, "out.txt"), []byte("BACKDOOR\n"))
	c.pack(t)
	c.refused(t, "rules", "package", []string{"out.txt"})

	// The honest chain on the same layout verifies.
	h := newChain(t)
	h.writeLayout(t, h.baseLayout())
	h.honest(t)
	h.mustVerify(t)
}

// A material substituted before the step that uses it: build records (and bob signs) the substituted
// src.txt, which fetch never produced.
func TestMaterialSubstitutedBeforeStep(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	c.writeLayout(t, c.baseLayout())
	c.fetch(t)
	harness.WriteFile(t, filepath.Join(c.work, "src.txt"), []byte("evil source\n"))
	c.build(t)
	c.pack(t)
	c.refused(t, "rules", "build", []string{"src.txt"})
}

// A link signed by a key the layout does not list, under its own name and under the authorized
// functionary's file name.
func TestLinkFromUnauthorizedKey(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	c.writeLayout(t, c.baseLayout())
	c.fetch(t)
	c.buildAs(t, "carol")
	c.pack(t)
	c.refused(t, "threshold", "build", nil)

	// Renamed to bob's file name: the name proves nothing, the signature is carol's.
	if err := os.Rename(c.linkPath(t, "build", "carol"), c.linkPath(t, "build", "bob")); err != nil {
		t.Fatal(err)
	}
	rep := c.refused(t, "threshold", "build", nil)
	if !strings.Contains(rep.Rejections(), intoto.LinkFileName("build", c.key["bob"].ID())) {
		t.Errorf("the renamed file is not reported as rejected: %s", rep.Rejections())
	}
}

// threshold 2: both functionaries verify; one short is refused.
func TestThresholdShortByOne(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	l := c.baseLayout()
	l.Steps[1].PubKeys = append(l.Steps[1].PubKeys, c.key["carol"].ID())
	l.AddKey(c.key["carol"].Record())
	l.Steps[1].Threshold = 2
	c.writeLayout(t, l)
	c.fetch(t)
	c.build(t)
	c.buildAs(t, "carol")
	c.pack(t)
	c.mustVerify(t)
	if err := os.Remove(c.linkPath(t, "build", "carol")); err != nil {
		t.Fatal(err)
	}
	c.refused(t, "threshold", "build", []string{"2"})
}

// threshold 2 with one signer's link copied under the other functionary's file name, or re-signed by
// the same signer as a second, different link: one signer counts once.
func TestDuplicateLinkCountedOnce(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	l := c.baseLayout()
	l.Steps[1].PubKeys = append(l.Steps[1].PubKeys, c.key["carol"].ID())
	l.AddKey(c.key["carol"].Record())
	l.Steps[1].Threshold = 2
	c.writeLayout(t, l)
	c.honest(t)
	bobLink := c.linkPath(t, "build", "bob")
	copyTo := c.linkPath(t, "build", "carol")
	harness.WriteFile(t, copyTo, harness.ReadFile(t, bobLink))
	c.refused(t, "threshold", "build", nil)

	// Another name that is no functionary's and a second, distinct link by bob.
	if err := os.Remove(copyTo); err != nil {
		t.Fatal(err)
	}
	c.resign(t, bobLink, "bob", filepath.Join(c.links, "build.deadbeef.link"), func(l *intoto.Link) {
		l.ByProducts["stdout"] = "a second run"
	})
	c.refused(t, "threshold", "build", nil)
}

func TestExpiredLayout(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	l := c.baseLayout()
	l.Expires = time.Now().Add(-time.Minute).UTC().Format(intoto.ExpiresFormat)
	c.writeLayout(t, l)
	c.honest(t)
	c.refused(t, "expiry", "", []string{"expired"})
}

func TestLayoutSignatureStrippedOrWrongOwner(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	c.writeLayout(t, c.baseLayout())
	c.honest(t)
	c.mustVerify(t)
	signed := harness.ReadFile(t, c.layout)

	t.Run("stripped", func(t *testing.T) {
		for _, env := range []string{"dsse", "legacy"} {
			l := c.baseLayout()
			harness.WriteJSON(t, c.layout, l)
			harness.Must(t, "sign", "--file", c.layout, "--key", c.keyPath("alice"), "--envelope", env)
			var doc map[string]any
			mustUnmarshal(t, harness.ReadFile(t, c.layout), &doc)
			doc["signatures"] = []any{}
			harness.WriteJSON(t, c.layout, doc)
			c.refused(t, "signature", "", nil)
		}
	})
	t.Run("bare document", func(t *testing.T) {
		harness.WriteJSON(t, c.layout, c.baseLayout())
		r := harness.IC(t, "verify", "--layout", c.layout, "--layout-key", c.keyPath("alice.pub"), "--links-dir", c.links)
		if r.Code == 0 {
			t.Fatalf("an unsigned layout verified: %s", r)
		}
	})
	t.Run("wrong owner", func(t *testing.T) {
		c.writeLayout(t, c.baseLayout(), "carol")
		c.refused(t, "signature", "", nil)
	})
	t.Run("owner plus another", func(t *testing.T) {
		// A layout weakened and re-signed by carol, with alice's old signature kept beside it.
		l := c.baseLayout()
		l.Steps[1].ExpectedMaterials = []intoto.Rule{{"ALLOW", "*"}}
		harness.WriteJSON(t, c.layout, l)
		harness.Must(t, "sign", "--file", c.layout, "--key", c.keyPath("carol"))
		var forged, orig map[string]any
		mustUnmarshal(t, harness.ReadFile(t, c.layout), &forged)
		mustUnmarshal(t, signed, &orig)
		forged["signatures"] = append(forged["signatures"].([]any), orig["signatures"].([]any)...)
		harness.WriteJSON(t, c.layout, forged)
		c.refused(t, "signature", "", nil)
	})
}

// Artifact names that no honest recorder writes, inside a link signed by the step's functionary: "..",
// ".", empty segments, absolute paths, backslashes, NUL, CR and LF. Each could name another file to a
// consumer that reads names as paths (GHSA-vrxp-mg9f-hwf3), and "src/../dist/app" passes "ALLOW src/*":
// verify refuses the link at its step, naming the name, whatever the rules say (issue 12; see
// docs/divergences.md). The honest chain on the same loose layout verifies.
func TestHostileArtifactNames(t *testing.T) {
	t.Parallel()
	hostile := []string{"src/../out.txt", "../out.txt", "/etc/passwd", "out.txt\x00.png", `sub\..\..\out.txt`, "./out.txt",
		"sub//out.txt", "out.txt\r", "out.txt\n", "src/.", "out.txt/"}
	c := newChain(t)
	l := c.baseLayout()
	l.Steps[1].ExpectedProducts = []intoto.Rule{{"CREATE", "out.txt"}, {"ALLOW", "src*"}, {"ALLOW", "*"}}
	c.writeLayout(t, l)
	c.honest(t)
	c.mustVerify(t)
	honest := harness.ReadFile(t, c.linkPath(t, "build", "bob"))
	for _, name := range hostile {
		harness.WriteFile(t, c.linkPath(t, "build", "bob"), honest)
		c.resign(t, c.linkPath(t, "build", "bob"), "bob", c.linkPath(t, "build", "bob"), func(l *intoto.Link) {
			l.Products = withArtifact(l.Products, name, digest("evil"))
		})
		rep := c.refused(t, "names", "build", nil)
		if strings.Join(rep.Failure.Artifacts, "\n") != name || !strings.Contains(rep.Failure.Reason, strconv.Quote(name)) {
			t.Errorf("got refused artifacts %q (%s), want %q named", rep.Failure.Artifacts, rep.Failure.Reason, name)
		}
	}
	// The same names as materials of package, where MATCH out.txt would not consume them.
	honestPack := harness.ReadFile(t, c.linkPath(t, "package", "dave"))
	for _, name := range hostile[:3] {
		harness.WriteFile(t, c.linkPath(t, "package", "dave"), honestPack)
		c.resign(t, c.linkPath(t, "package", "dave"), "dave", c.linkPath(t, "package", "dave"), func(l *intoto.Link) {
			l.Materials = withArtifact(l.Materials, name, digest("evil"))
		})
		harness.WriteFile(t, c.linkPath(t, "build", "bob"), honest)
		c.refused(t, "names", "package", []string{name})
	}
}

// A symlink in the recorded tree that points outside it is never recorded and never read, with or
// without --follow-symlinks, whether it is found by walking or named on the command line.
func TestSymlinkOutsideTreeNotRecorded(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	secret := filepath.Join(c.dir, "secret.txt")
	harness.WriteFile(t, secret, []byte("TOP SECRET\n"))
	harness.WriteFile(t, filepath.Join(c.dir, "outside", "file.txt"), []byte("TOP SECRET\n"))
	harness.WriteFile(t, filepath.Join(c.work, "in.txt"), []byte("in\n"))
	for old, name := range map[string]string{secret: "leak.txt", filepath.Join(c.dir, "outside"): "leakdir", "/etc": "etc", "../secret.txt": "rel.txt"} {
		if err := os.Symlink(old, filepath.Join(c.work, name)); err != nil {
			t.Fatal(err)
		}
	}
	for _, follow := range []bool{false, true} {
		for _, what := range [][]string{{"."}, {"leak.txt", "leakdir", "rel.txt", "in.txt"}} {
			args := []string{"run", "--step", "s", "--key", c.keyPath("bob"), "--base-path", c.work, "--links-dir", c.links}
			if follow {
				args = append(args, "--follow-symlinks")
			}
			for _, p := range what {
				args = append(args, "--materials", filepath.Join(c.work, p), "--products", filepath.Join(c.work, p))
			}
			args = append(args, "--", "true")
			r := harness.Run(t, harness.Cmd{Args: args, Dir: c.work})
			path := filepath.Join(c.links, intoto.LinkFileName("s", c.key["bob"].ID()))
			if r.Code != 0 {
				// Refusing to record is safe too, as long as no link claims the outside files.
				if _, err := os.Stat(path); err == nil {
					t.Fatalf("run failed but wrote a link: %s", r)
				}
				continue
			}
			l, err := wire.DecodeLink(harness.Payload(t, path))
			if err != nil {
				t.Fatal(err)
			}
			for _, set := range []intoto.ArtifactSet{l.Materials, l.Products} {
				arts := set.Map()
				if _, ok := arts["in.txt"]; !ok && len(what) > 1 {
					t.Errorf("follow=%v %v: in.txt not recorded: %v", follow, what, arts)
				}
				for name, d := range arts {
					if d["sha256"] == digest("TOP SECRET\n")["sha256"] || strings.Contains(name, "..") ||
						strings.HasPrefix(name, "/") || strings.HasPrefix(name, "etc") || strings.HasPrefix(name, "leak") {
						t.Errorf("follow=%v %v: recorded %q (%v) from outside the tree", follow, what, name, d)
					}
				}
			}
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// The inspection's exit code and its time limit are enforced.
func TestInspectionFailsOrHangs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		run     []string
		extra   []string
		timeout bool
	}{
		{name: "passes", run: []string{"true"}},
		{name: "fails", run: []string{"sh", "-c", "exit 3"}},
		{name: "hangs", run: []string{"sleep", "600"}, extra: []string{"--inspection-timeout", "2s"}, timeout: true},
		{name: "hangs in a grandchild", run: []string{"sh", "-c", "sleep 600 & wait"}, extra: []string{"--inspection-timeout", "2s"}, timeout: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChain(t)
			l := c.baseLayout()
			l.Inspections = []*intoto.Inspection{{Type: intoto.TypeInspection, Name: "check", Run: tc.run,
				ExpectedMaterials: []intoto.Rule{}, ExpectedProducts: []intoto.Rule{}}}
			c.writeLayout(t, l)
			c.honest(t)
			start := time.Now()
			if tc.name == "passes" {
				c.mustVerify(t)
				return
			}
			rep := c.refused(t, "inspection", "check", nil, tc.extra...)
			if time.Since(start) > 2*time.Minute {
				t.Errorf("a hanging inspection held verify for %s", time.Since(start))
			}
			for _, s := range rep.Steps {
				if s.Name == "check" && (s.Inspection == nil || s.Inspection.TimedOut != tc.timeout) {
					t.Errorf("inspection report %+v, want timed_out %v", s.Inspection, tc.timeout)
				}
			}
		})
	}
}

func mustUnmarshal(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatal(err)
	}
}

// The package step is delegated to a sublayout signed by dave, whose one step "tar" bob performs.
func TestSublayoutSwapped(t *testing.T) {
	t.Parallel()
	setup := func(t *testing.T) (*chain, string, *intoto.Layout) {
		c := newChain(t)
		c.writeLayout(t, c.baseLayout())
		c.fetch(t)
		c.build(t)
		sub := &intoto.Layout{Type: intoto.TypeLayout, Expires: time.Now().Add(time.Hour).UTC().Format(intoto.ExpiresFormat),
			Keys: map[string]*intoto.Key{}, Inspections: []*intoto.Inspection{}}
		bob := sub.AddKey(c.key["bob"].Record())
		sub.Steps = []*intoto.Step{{Type: intoto.TypeStep, Name: "tar", Threshold: 1, PubKeys: []string{bob},
			ExpectedMaterials: []intoto.Rule{{"ALLOW", "*"}}, ExpectedProducts: []intoto.Rule{{"CREATE", "app.tar"}, {"ALLOW", "*"}},
			ExpectedCommand: []string{}}}
		subDir := filepath.Join(c.links, "package."+c.id8("dave"))
		if r := c.run(t, "tar", "bob", subDir, []string{"."}, []string{"."}, "tar cf app.tar out.txt"); r.Code != 0 {
			t.Fatalf("run tar: %s", r)
		}
		return c, subDir, sub
	}
	signSub := func(t *testing.T, c *chain, sub *intoto.Layout, key string) {
		bare := filepath.Join(c.dir, "sub.layout")
		harness.WriteJSON(t, bare, sub)
		harness.Must(t, "sign", "--file", bare, "--key", c.keyPath(key), "--output", filepath.Join(c.links, "package."+c.id8("dave")+".link"))
	}

	t.Run("honest", func(t *testing.T) {
		t.Parallel()
		c, _, sub := setup(t)
		signSub(t, c, sub, "dave")
		c.mustVerify(t)
	})
	t.Run("sublayout signed by another key", func(t *testing.T) {
		t.Parallel()
		c, _, sub := setup(t)
		// carol's permissive sublayout put where dave's belongs.
		sub.Steps[0].ExpectedProducts = []intoto.Rule{{"ALLOW", "*"}}
		signSub(t, c, sub, "carol")
		c.refused(t, "threshold", "package", nil)
	})
	t.Run("inner link from another key", func(t *testing.T) {
		t.Parallel()
		c, subDir, sub := setup(t)
		signSub(t, c, sub, "dave")
		link := filepath.Join(subDir, intoto.LinkFileName("tar", c.key["bob"].ID()))
		c.resign(t, link, "carol", link, func(l *intoto.Link) { l.Products = withArtifact(l.Products, "app.tar", digest("evil tarball")) })
		c.refused(t, "sublayout", "package", nil)
	})
	t.Run("inner links swapped for another delegation's", func(t *testing.T) {
		t.Parallel()
		c, subDir, sub := setup(t)
		signSub(t, c, sub, "dave")
		// Links recorded for a sublayout of carol's, moved under dave's delegation.
		other := filepath.Join(c.links, "package."+c.id8("carol"))
		if err := os.Rename(subDir, other); err != nil {
			t.Fatal(err)
		}
		c.refused(t, "sublayout", "package", nil)
	})
}

// Limits against denial of service: a link beyond any configured cap is ignored with a warning naming
// the cap (so its step is refused at the threshold stage), a layout beyond one is an input error.
func TestLimits(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	c.writeLayout(t, c.baseLayout())
	c.honest(t)
	c.mustVerify(t)
	for _, tc := range []struct{ flag, word string }{
		{"--max-artifacts=2", "artifacts"},
	} {
		rep := c.refused(t, "threshold", "build", nil, tc.flag)
		if !strings.Contains(strings.Join(rep.Warnings, "\n"), tc.word) {
			t.Errorf("%s: warnings %q do not say why the link was ignored", tc.flag, rep.Warnings)
		}
	}
	// The file size cap covers the layout too: too small a cap is an input error naming it.
	r := harness.IC(t, "verify", "--layout", c.layout, "--layout-key", c.keyPath("alice.pub"), "--links-dir", c.links, "--max-file-size=100")
	if r.Code != 2 || !strings.Contains(r.Err, "larger than 100 bytes") {
		t.Errorf("--max-file-size=100: got %s, want exit 2 naming the cap", r)
	}
	// A second signature (carol's) on bob's build link; a cap of one refuses it.
	harness.Must(t, "sign", "--file", c.linkPath(t, "build", "bob"), "--key", c.keyPath("carol"))
	c.mustVerify(t)
	rep := c.refused(t, "threshold", "build", nil, "--max-signatures=1")
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "signatures") {
		t.Errorf("warnings %q do not name the signature cap", rep.Warnings)
	}
	// A link nested deeper than the default cap (64), validly signed by bob, is ignored; a lower cap
	// set by flag applies too.
	honest := harness.ReadFile(t, c.linkPath(t, "build", "bob"))
	c.resign(t, c.linkPath(t, "build", "bob"), "bob", c.linkPath(t, "build", "bob"), func(l *intoto.Link) {
		var v any = "leaf"
		for range 100 {
			v = []any{v}
		}
		l.ByProducts["deep"] = v
	})
	rep = c.refused(t, "threshold", "build", nil)
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), "nested deeper") {
		t.Errorf("warnings %q do not name the depth cap", rep.Warnings)
	}
	harness.WriteFile(t, c.linkPath(t, "build", "bob"), honest)
	c.mustVerify(t, "--max-json-depth=10")

	// A deeply nested layout is refused before decoding.
	deep := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	harness.WriteFile(t, c.layout, []byte(`{"signatures":[],"signed":`+deep+`}`))
	r = harness.IC(t, "verify", "--layout", c.layout, "--layout-key", c.keyPath("alice.pub"), "--links-dir", c.links)
	if r.Code != 2 || !strings.Contains(r.Err, "nested deeper") {
		t.Errorf("deep layout: got %s, want exit 2 naming the depth cap", r)
	}
}
