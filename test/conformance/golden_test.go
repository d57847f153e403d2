package conformance_test

import (
	"archive/tar"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// normalise replaces the machine-specific directories of a golden output with placeholders.
func normalise(s string, dirs map[string]string) string {
	for dir, name := range dirs {
		s = strings.ReplaceAll(s, dir, name)
	}
	return s
}

// golangDemo lays out in-toto-golang's demo chain: links in root/links, the delivered file in
// root/final.
func golangDemo(t *testing.T, delivered string) chainDirs {
	t.Helper()
	root := t.TempDir()
	d := chainDirs{root: root, links: filepath.Join(root, "links"), final: filepath.Join(root, "final")}
	for _, f := range []string{"write-code.b7d643de.link", "package.d3ffd108.link"} {
		copyFile(t, filepath.Join(golangDir, f), filepath.Join(d.links, f))
	}
	copyFile(t, delivered, filepath.Join(d.final, "foo.tar.gz"))
	return d
}

// makeTarball writes a foo.tar.gz holding foo.py with content and returns its path.
func makeTarball(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "foo.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "foo.py", Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// TestJSONReportGolden pins `intoto-ci verify --json` for in-toto-golang's demo chain: verified,
// refused by the inspection's rules (a tarball with another foo.py, so the report carries the rule
// trace) and refused by the inspection itself (a file that does not untar).
func TestJSONReportGolden(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, delivered string
		want            int
	}{
		{"verified", filepath.Join(golangDir, "foo.tar.gz"), 0},
		{"refused-rules", makeTarball(t, "print('not the reviewed code')\n"), 1},
		{"refused-inspection", filepath.Join(golangDir, "alice.pub"), 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d := golangDemo(t, tt.delivered)
			dir := verifyDir(t, d)
			got := run(t, dir, intotoCI(t), "verify", "--json", "--layout", filepath.Join(golangDir, "demo.layout"),
				"--layout-key", filepath.Join(golangDir, "alice.pub"), "--links-dir", d.links, "--work-dir", dir)
			wantExit(t, "intoto-ci", got, tt.want)
			checkGolden(t, "report-"+tt.name+".json",
				[]byte(normalise(got.stdout, map[string]string{golangDir: "$FIXTURES", d.root: "$ROOT", dir: "$WORK"})))
		})
	}
}

// badInput is one case of malformed or hostile input: intoto-ci must answer with exit 1 or 2 and one
// line on stderr that names the file, never a panic.
type badInput struct {
	name string
	// setup prepares dir (a fresh temp dir holding links/ with in-toto-golang's demo links and
	// foo.tar.gz) and returns intoto-ci's arguments.
	setup func(t *testing.T, dir string) []string
	want  int
	// names is what the message must name: the file, or for refusals the report names it (stdout)
	// and the one-line error on stderr gives the cause.
	names string
}

func verifyArgs(layout, key, links string) []string {
	return []string{"verify", "--layout", layout, "--layout-key", key, "--links-dir", links}
}

func TestBadInputGolden(t *testing.T) {
	t.Parallel()
	fixture := func(f string) string { return filepath.Join(golangDir, f) }
	demo := fixture("demo.layout")
	alice, alicePub := fixture("alice"), fixture("alice.pub")
	// signedLayout writes a layout document and signs it with alice (legacy).
	signedLayout := func(t *testing.T, dir, doc string) string {
		path := filepath.Join(dir, "edited.layout")
		harness.WriteFile(t, path, []byte(doc))
		mustRun(t, dir, intotoCI(t), "sign", "--file", path, "--key", alice, "--envelope", "legacy")
		return path
	}
	const future = `"expires":"2099-01-01T00:00:00Z"`
	cases := []badInput{
		{name: "malformed layout json", want: 2, names: "bad.layout", setup: func(t *testing.T, dir string) []string {
			harness.WriteFile(t, filepath.Join(dir, "bad.layout"), []byte(`{"signed": {"_type": "layout",`))
			return verifyArgs("bad.layout", alicePub, "links")
		}},
		{name: "malformed link json", want: 1, names: "write-code.b7d643de.link", setup: func(t *testing.T, dir string) []string {
			harness.WriteFile(t, filepath.Join(dir, "links", "write-code.b7d643de.link"), []byte(`{"signed": [`))
			return verifyArgs(demo, alicePub, "links")
		}},
		{name: "malformed key json", want: 2, names: "bad.pub", setup: func(t *testing.T, dir string) []string {
			harness.WriteFile(t, filepath.Join(dir, "bad.pub"), []byte(`{"keytype": "ed25519", "keyval": {"public": 7}}`))
			return verifyArgs(demo, "bad.pub", "links")
		}},
		{name: "unknown rule word", want: 2, names: "edited.layout", setup: func(t *testing.T, dir string) []string {
			layout := signedLayout(t, dir, `{"_type":"layout",`+future+`,"readme":"","keys":{},"inspect":[],
				"steps":[{"_type":"step","name":"s","threshold":1,"pubkeys":[],"expected_command":[],
				"expected_materials":[["FROBNICATE","foo"]],"expected_products":[]}]}`)
			return verifyArgs(layout, alicePub, "links")
		}},
		{name: "wrong layout signature", want: 1, names: "70ca5750", setup: func(t *testing.T, dir string) []string {
			doc := payloadOf(t, demo)
			doc["readme"] = "changed after signing"
			env := map[string]any{"signed": doc, "signatures": []any{map[string]any{
				"keyid": "70ca5750c2eda80b18f41f4ec5f92146789b5d68dd09577be422a0159bd13680",
				"sig":   strings.Repeat("ab", 256),
			}}}
			harness.WriteJSON(t, filepath.Join(dir, "edited.layout"), env)
			return verifyArgs("edited.layout", alicePub, "links")
		}},
		{name: "missing links", want: 1, names: "write-code", setup: func(t *testing.T, dir string) []string {
			mkdirs(t, filepath.Join(dir, "empty"))
			return verifyArgs(demo, alicePub, "empty")
		}},
		{name: "missing layout", want: 2, names: "nowhere.layout", setup: func(t *testing.T, dir string) []string {
			return verifyArgs("nowhere.layout", alicePub, "links")
		}},
		{name: "unreadable layout (a directory)", want: 2, names: "links", setup: func(t *testing.T, dir string) []string {
			return verifyArgs("links", alicePub, "links")
		}},
		{name: "layout symlink loop", want: 2, names: "loop.layout", setup: func(t *testing.T, dir string) []string {
			if err := os.Symlink("loop.layout", filepath.Join(dir, "loop.layout")); err != nil {
				t.Fatal(err)
			}
			return verifyArgs("loop.layout", alicePub, "links")
		}},
		{name: "link with a dotdot artifact name", want: 1, names: "write-code", setup: func(t *testing.T, dir string) []string {
			// A key-signed layout and link (carol) whose product is named ../foo.py.
			carol := golangKeyObjectOffline(t)
			layout := signedLayout(t, dir, `{"_type":"layout",`+future+`,"readme":"","inspect":[],
				"keys":{"`+carol+`":`+carolKeyJSON+`},
				"steps":[{"_type":"step","name":"write-code","threshold":1,"pubkeys":["`+carol+`"],"expected_command":[],
				"expected_materials":[],"expected_products":[["CREATE","foo.py"],["DISALLOW","*"]]}]}`)
			link := filepath.Join(dir, "write-code.unsigned")
			harness.WriteFile(t, link, []byte(`{"_type":"link","name":"write-code","command":[],"materials":{},
				"products":{"../foo.py":{"sha256":"`+sha256Hex(nil)+`"}},"byproducts":{},"environment":{}}`))
			mkdirs(t, filepath.Join(dir, "dotdot"))
			mustRun(t, dir, intotoCI(t), "sign", "--file", link, "--key", fixture("carol"), "--envelope", "legacy",
				"--output", filepath.Join(dir, "dotdot", "write-code."+carol[:8]+".link"))
			return verifyArgs(layout, alicePub, "dotdot")
		}},
		// Recording errors of --materials are input errors (exit 2); the same under --products exit 3 by
		// run's contract (the command ran, its link is lost).
		{name: "run materials outside the base path", want: 2, names: "../outside", setup: func(t *testing.T, dir string) []string {
			mkdirs(t, filepath.Join(dir, "base"))
			return []string{"run", "--step", "s", "--key", fixture("carol"), "--base-path", "base", "--materials", "../outside",
				"--links-dir", dir, "--no-command"}
		}},
		{name: "run materials symlink loop", want: 2, names: "loop", setup: func(t *testing.T, dir string) []string {
			mkdirs(t, filepath.Join(dir, "base"))
			if err := os.Symlink("loop", filepath.Join(dir, "base", "loop")); err != nil {
				t.Fatal(err)
			}
			return []string{"run", "--step", "s", "--key", fixture("carol"), "--base-path", "base", "--materials", "loop",
				"--links-dir", dir, "--no-command"}
		}},
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			for _, f := range []string{"write-code.b7d643de.link", "package.d3ffd108.link"} {
				copyFile(t, fixture(f), filepath.Join(dir, "links", f))
			}
			copyFile(t, fixture("foo.tar.gz"), filepath.Join(dir, "foo.tar.gz"))
			got := run(t, dir, intotoCI(t), tt.setup(t, dir)...)
			wantExit(t, "intoto-ci", got, tt.want)
			if strings.Contains(got.stderr, "panic") || strings.Contains(got.stderr, "goroutine ") {
				t.Fatalf("intoto-ci panicked:\n%s", got)
			}
			lines := strings.Split(strings.TrimRight(got.stderr, "\n"), "\n")
			if len(lines) != 1 || lines[0] == "" {
				t.Errorf("stderr has %d lines, want one:\n%s", len(lines), got.stderr)
			}
			if !strings.Contains(got.stderr, tt.names) && !(tt.want == 1 && strings.Contains(got.stdout, tt.names)) {
				t.Errorf("output does not name %q:\n%s", tt.names, got)
			}
			name := strings.NewReplacer(" ", "-", "(", "", ")", "").Replace(tt.name)
			checkGolden(t, "error-"+name+".txt",
				[]byte(normalise(got.stderr, map[string]string{golangDir: "$FIXTURES", dir: "$ROOT"})))
		})
	}
}

// carol's public key object (in-toto-golang's testdata carol.pub, ed25519), as `in-toto-golang key
// layout` prints it; kept here so the bad-input tests need no peer.
const carolKeyJSON = `{"keyid":"be6371bc627318218191ce0780fd3183cce6c36da02938a477d2e4dfae1804a6",` +
	`"keyid_hash_algorithms":["sha256","sha512"],"keytype":"ed25519",` +
	`"keyval":{"public":"393e671b200f964c49083d34a867f5d989ec1c69df7b66758fe471c8591b139c"},"scheme":"ed25519"}`

func golangKeyObjectOffline(t *testing.T) string {
	t.Helper()
	k := ed25519KeyObject(t, filepath.Join(golangDir, "carol.pub"))
	if !strings.Contains(carolKeyJSON, k.id()) {
		t.Fatalf("carol's keyid %s is not the one in-toto-golang prints", k.id())
	}
	return k.id()
}
