package artifact

import (
	"context"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func sum256(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func sum512(s string) string {
	h := sha512.Sum512([]byte(s))
	return hex.EncodeToString(h[:])
}

// writeTree creates files (name → content) under dir; a content starting with "->" makes a symlink.
func writeTree(t testing.TB, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if strings.HasSuffix(name, "/") {
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// names returns the recorded names, sorted.
func names(a map[string]intoto.Digests) []string {
	var out []string
	for n := range a {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// record returns what Record records, as a name → digests map.
func record(t testing.TB, paths []string, opts Options) map[string]intoto.Digests {
	t.Helper()
	got, err := Record(context.Background(), paths, opts)
	if err != nil {
		t.Fatalf("Record(%q): %v", paths, err)
	}
	return got.Map()
}

func TestRecordNamesAndDigests(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.txt":           "a",
		"src/b.go":        "b",
		"src/deep/c.c":    "c",
		"empty":           "",
		"src/sub/d e.txt": "d",
	})
	tests := []struct {
		name  string
		paths []string
		want  []string
	}{
		{"dot", []string{"."}, []string{"a.txt", "empty", "src/b.go", "src/deep/c.c", "src/sub/d e.txt"}},
		{"dot slash", []string{"./src/"}, []string{"src/b.go", "src/deep/c.c", "src/sub/d e.txt"}},
		{"file", []string{"src/b.go"}, []string{"src/b.go"}},
		{"dot dot inside", []string{"src/../a.txt"}, []string{"a.txt"}},
		{"absolute inside", []string{filepath.Join(dir, "src", "deep")}, []string{"src/deep/c.c"}},
		{"overlap", []string{".", "src", "src/b.go"}, []string{"a.txt", "empty", "src/b.go", "src/deep/c.c", "src/sub/d e.txt"}},
		{"missing skipped", []string{"nope", "a.txt"}, []string{"a.txt"}},
		{"none", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// Each worker sorts what it recorded and the lists are merged: the names must not depend
			// on how many lists there are, duplicates among them included.
			for _, workers := range []int{1, 2, 3, 7} {
				got := record(t, tc.paths, Options{BasePath: dir, Workers: workers})
				if diff := cmp.Diff(tc.want, names(got)); diff != "" {
					t.Errorf("Workers=%d: names (-want +got):\n%s", workers, diff)
				}
			}
		})
	}
	got := record(t, []string{"."}, Options{BasePath: dir})
	if d := got["src/b.go"]; !cmp.Equal(d, intoto.Digests{"sha256": sum256("b")}) {
		t.Errorf("got digests %v, want sha256 of %q", d, "b")
	}
	if d := got["empty"]["sha256"]; d != sum256("") {
		t.Errorf("got empty-file digest %s, want %s", d, sum256(""))
	}
}

func TestRecordRefusesOutsideBase(t *testing.T) {
	t.Parallel()
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"secret": "s"})
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"ws/a":        "a",
		"ws/out-file": "->" + filepath.Join(outside, "secret"),
		"ws/out-dir":  "->" + outside,
	})
	base := filepath.Join(dir, "ws")
	for _, p := range []string{"..", "../ws/../..", outside, "out-file", "out-dir", "out-dir/secret"} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			_, err := Record(context.Background(), []string{p}, Options{BasePath: base})
			if !errors.Is(err, ErrOutsideBase) {
				t.Errorf("got %v, want ErrOutsideBase", err)
			}
		})
	}
	// Met while walking, such symlinks are skipped, with or without following directory symlinks.
	for _, follow := range []bool{false, true} {
		got := record(t, []string{"."}, Options{BasePath: base, FollowSymlinks: follow})
		if diff := cmp.Diff([]string{"a"}, names(got)); diff != "" {
			t.Errorf("follow=%v: names (-want +got):\n%s", follow, diff)
		}
	}
}

func TestRecordSymlinks(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"real/f":       "f",
		"real/g/h":     "h",
		"link-file":    "->real/f",
		"link-dir":     "->real",
		"broken":       "->nowhere",
		"real/loop":    "->..",
		"real/g/up":    "->../../real",
		"real/self":    "->self",
		"chain":        "->link-file",
		"real/g/sibl":  "->../../other",
		"other/o":      "o",
		"other/back":   "->../real/g",
		"real/selfdir": "->.",
	})
	t.Run("no follow", func(t *testing.T) {
		t.Parallel()
		got := record(t, []string{"."}, Options{BasePath: dir})
		want := []string{"chain", "link-file", "other/o", "real/f", "real/g/h"}
		if diff := cmp.Diff(want, names(got)); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
		if got["link-file"]["sha256"] != sum256("f") || got["chain"]["sha256"] != sum256("f") {
			t.Errorf("got %v, want symlinks hashed as their target", got)
		}
	})
	t.Run("dir symlink as argument is walked", func(t *testing.T) {
		t.Parallel()
		got := record(t, []string{"link-dir"}, Options{BasePath: dir})
		want := []string{"link-dir/f", "link-dir/g/h"}
		if diff := cmp.Diff(want, names(got)); diff != "" {
			t.Errorf("names (-want +got):\n%s", diff)
		}
	})
	t.Run("follow terminates", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		set, err := Record(ctx, []string{"."}, Options{BasePath: dir, FollowSymlinks: true})
		if err != nil {
			t.Fatal(err)
		}
		got := set.Map()
		for _, n := range []string{"link-dir/f", "link-dir/g/h", "real/g/sibl/o", "other/back/h"} {
			if _, ok := got[n]; !ok {
				t.Errorf("missing %q in %v", n, names(got))
			}
		}
		if len(got) > 40 {
			t.Errorf("got %d names, want a bounded walk: %v", len(got), names(got))
		}
	})
}

func TestRecordExcludes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"a.txt":                   "",
		"b.pyc":                   "",
		"c~":                      "",
		"step.1234abcd.link":      "",
		".git/HEAD":               "",
		"sub/.git/config":         "",
		"sub/x.log":               "",
		"sub/keep.log":            "",
		"build/out.bin":           "",
		"docs/build/readme":       "",
		"links/other.link.json":   "",
		"links/readme":            "",
		"abc":                     "",
		"abd":                     "",
		"node_modules/m/index.js": "",
	})
	tests := []struct {
		name  string
		paths []string
		opts  Options
		want  []string
	}{
		{"defaults", []string{"."}, Options{DefaultExcludes: true}, []string{
			"a.txt", "abc", "abd", "build/out.bin", "docs/build/readme", "links/readme",
			"node_modules/m/index.js", "sub/keep.log", "sub/x.log"}},
		{"none", []string{"sub"}, Options{}, []string{"sub/.git/config", "sub/keep.log", "sub/x.log"}},
		{"negation", []string{"sub"}, Options{Excludes: []string{"*.log", "!keep.log", ".git"}}, []string{"sub/keep.log"}},
		{"anchored", []string{"."}, Options{Excludes: []string{"/build", "*.*", ".git", "c~", "node_modules/"}},
			[]string{"abc", "abd", "docs/build/readme", "links/readme"}},
		{"bang class", []string{"abc", "abd"}, Options{Excludes: []string{"ab[!c]"}}, []string{"abc"}},
		{"argument under excluded dir", []string{"node_modules/m/index.js", "a.txt"}, Options{Excludes: []string{"node_modules"}}, []string{"a.txt"}},
		{"exclude dirs", []string{"."}, Options{DefaultExcludes: true, ExcludeDirs: []string{"links", filepath.Join(dir, "build")}}, []string{
			"a.txt", "abc", "abd", "docs/build/readme", "node_modules/m/index.js", "sub/keep.log", "sub/x.log"}},
		{"exclude dir as argument", []string{"links/readme"}, Options{ExcludeDirs: []string{"links"}}, nil},
		{"exclude dir is the base", []string{"sub"}, Options{ExcludeDirs: []string{".", dir}, Excludes: []string{".git"}},
			[]string{"sub/keep.log", "sub/x.log"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.opts.BasePath = dir
			got := record(t, tc.paths, tc.opts)
			if diff := cmp.Diff(tc.want, names(got)); diff != "" {
				t.Errorf("names (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordLStrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"dist/app": "x", "dist/lib/l": "l", "app": "y", "src/lib/l": "m"})
	got := record(t, []string{"dist"}, Options{BasePath: dir, LStripPaths: []string{"dist/"}})
	if diff := cmp.Diff([]string{"app", "lib/l"}, names(got)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	// Plain string prefixes, as both peers; but where they record "/app" for "dist", intoto-ci
	// refuses: an absolute name is no artifact name (TestRecordRefusesUnrepresentableNames).
	_, err := Record(context.Background(), []string{"dist/app"}, Options{BasePath: dir, LStripPaths: []string{"dist"}})
	if !errors.Is(err, intoto.ErrArtifactName) {
		t.Errorf("lstrip dist of dist/app: got %v, want ErrArtifactName", err)
	}
	_, err = Record(context.Background(), []string{"."}, Options{BasePath: dir, LStripPaths: []string{"dist/"}})
	if !errors.Is(err, ErrNameCollision) || !strings.Contains(err.Error(), `"dist/app"`) {
		t.Errorf("got %v, want a collision naming dist/app", err)
	}
	_, err = Record(context.Background(), []string{"dist", "src"}, Options{BasePath: dir, LStripPaths: []string{"dist/", "src/"}})
	if !errors.Is(err, ErrNameCollision) {
		t.Errorf("got %v, want ErrNameCollision", err)
	}
	_, err = Record(context.Background(), []string{"."}, Options{BasePath: dir, LStripPaths: []string{"dist", "dist/lib"}})
	if err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Errorf("got %v, want an error about overlapping prefixes", err)
	}
}

func TestRecordAlgorithms(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "hello"})
	got := record(t, []string{"f"}, Options{BasePath: dir, Algorithms: []string{"sha512", "sha256", "sha512"}})
	want := map[string]intoto.Digests{"f": {"sha256": sum256("hello"), "sha512": sum512("hello")}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, alg := range []string{"md5", "sha1", "SHA256", "sha384"} {
		_, err := Record(context.Background(), []string{"f"}, Options{BasePath: dir, Algorithms: []string{alg}})
		if !errors.Is(err, ErrUnsupportedAlgorithm) {
			t.Errorf("%s: got %v, want ErrUnsupportedAlgorithm", alg, err)
		}
	}
}

func TestRecordLineEndingFixtures(t *testing.T) {
	t.Parallel()
	fixtures := []string{"line-ending-linux", "line-ending-macos", "line-ending-mixed", "line-ending-windows"}
	norm := record(t, fixtures, Options{BasePath: "testdata", NormalizeLineEndings: true})
	raw := record(t, fixtures, Options{BasePath: "testdata"})
	want := norm["line-ending-linux"]["sha256"]
	if want != raw["line-ending-linux"]["sha256"] {
		t.Errorf("normalising changed a file with LF endings only")
	}
	distinct := map[string]bool{}
	for _, f := range fixtures {
		if got := norm[f]["sha256"]; got != want {
			t.Errorf("%s: got %s, want %s (same as line-ending-linux)", f, got, want)
		}
		distinct[raw[f]["sha256"]] = true
	}
	if len(distinct) != len(fixtures) {
		t.Errorf("without normalisation got %d distinct digests, want %d", len(distinct), len(fixtures))
	}
}

// TestNormalizeStreaming checks chunked normalisation against the whole-content reference
// (replace CRLF, then CR), including CRs that fall on chunk boundaries.
func TestNormalizeStreaming(t *testing.T) {
	t.Parallel()
	inputs := []string{"", "\r", "\n", "\r\n", "\r\r\n", "a\rb\r\nc\n\r", "\r\r\r", "x\r", "\n\r\n\r"}
	for _, in := range inputs {
		want := sum256(strings.ReplaceAll(strings.ReplaceAll(in, "\r\n", "\n"), "\r", "\n"))
		for split := 0; split <= len(in); split++ {
			for split2 := split; split2 <= len(in); split2++ {
				h := newHasher([]string{SHA256}, true)
				h.reset()
				h.update([]byte(in[:split]))
				h.update([]byte(in[split:split2]))
				h.update([]byte(in[split2:]))
				if got := h.digests()["sha256"]; got != want {
					t.Errorf("%q split at %d,%d: got %s, want %s", in, split, split2, got, want)
				}
			}
		}
	}
	// A CR at the last byte of a full read buffer.
	dir := t.TempDir()
	content := strings.Repeat("a", bufSize-1) + "\r\n" + strings.Repeat("b", bufSize-1) + "\r" + "c\r"
	writeTree(t, dir, map[string]string{"f": content})
	got := record(t, []string{"f"}, Options{BasePath: dir, NormalizeLineEndings: true})
	want := sum256(strings.ReplaceAll(strings.ReplaceAll(content, "\r\n", "\n"), "\r", "\n"))
	if got["f"]["sha256"] != want {
		t.Errorf("got %s, want %s", got["f"]["sha256"], want)
	}
}

// makeTree creates nDirs directories with filesPerDir files of size bytes (varying), deterministically.
func makeTree(t testing.TB, dir string, nDirs, filesPerDir, size int) {
	t.Helper()
	buf := make([]byte, size+size/4+8)
	for i := range buf {
		buf[i] = byte(i*7 + i/13)
	}
	for d := 0; d < nDirs; d++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%03d", d%37), fmt.Sprintf("e%04d", d))
		if err := os.MkdirAll(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		for f := 0; f < filesPerDir; f++ {
			n := size + (d+f)%(size/4+1)
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%05d.dat", f)), buf[d%7:d%7+n], 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestRecordDeterministicAcrossWorkers(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeTree(t, dir, 40, 30, 300)
	writeTree(t, dir, map[string]string{"big": strings.Repeat("z", 3*bufSize+17), "l": "->big"})
	opts := Options{BasePath: dir, Algorithms: []string{"sha256", "sha512"}}
	opts.Workers = 1
	one := record(t, []string{"."}, opts)
	for _, w := range []int{2, 8, 33} {
		opts.Workers = w
		got := record(t, []string{"."}, opts)
		if diff := cmp.Diff(one, got); diff != "" {
			t.Errorf("Workers=%d differs from Workers=1 (-1 +%d):\n%s", w, w, diff)
		}
	}
	if len(one) != 40*30+2 {
		t.Errorf("got %d files, want %d", len(one), 40*30+2)
	}
}

func TestRecordCancelled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeTree(t, dir, 20, 20, 100)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Record(ctx, []string{"."}, Options{BasePath: dir}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

func TestRecordProgress(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	makeTree(t, dir, 10, 10, 100)
	var mu sync.Mutex
	var lastFiles int
	var lastBytes int64
	record(t, []string{"."}, Options{BasePath: dir, Progress: func(f int, b int64) {
		mu.Lock()
		defer mu.Unlock()
		lastFiles, lastBytes = f, b
	}})
	if lastFiles != 100 || lastBytes <= 0 {
		t.Errorf("got final progress %d files %d bytes, want 100 files", lastFiles, lastBytes)
	}
}

func TestRecordErrors(t *testing.T) {
	t.Parallel()
	if _, err := Record(context.Background(), []string{"."}, Options{BasePath: "/nonexistent/base"}); err == nil ||
		!strings.Contains(err.Error(), "/nonexistent/base") {
		t.Errorf("got %v, want an error naming the base path", err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "f"})
	if _, err := Record(context.Background(), []string{"."}, Options{BasePath: filepath.Join(dir, "f")}); err == nil {
		t.Errorf("got nil, want an error for a base path that is a file")
	}
}

// A file whose name no link may hold, found by walking, named on the command line, or made by
// left-stripping, is an error naming it: Record never returns such a name.
func TestRecordRefusesUnrepresentableNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		files  map[string]string
		paths  []string
		lstrip []string
		want   string
	}{
		{name: "backslash walked", files: map[string]string{`d/a\b`: "x"}, paths: []string{"d"}, want: `"d/a\\b"`},
		{name: "newline walked", files: map[string]string{"d/a\nb": "x"}, paths: []string{"."}, want: `"d/a\nb"`},
		{name: "carriage return named", files: map[string]string{"a\r": "x"}, paths: []string{"a\r"}, want: `"a\r"`},
		{name: "lstrip leaves an absolute name", files: map[string]string{"src/a": "x"}, paths: []string{"src"}, lstrip: []string{"src"}, want: `"src/a" after --lstrip-paths`},
		{name: "lstrip leaves an empty segment", files: map[string]string{"src/x/a": "x"}, paths: []string{"src"}, lstrip: []string{"src/x"}, want: "is absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			var paths []string
			for _, p := range tc.paths {
				paths = append(paths, filepath.Join(dir, p))
			}
			got, err := Record(context.Background(), paths, Options{BasePath: dir, LStripPaths: tc.lstrip})
			if !errors.Is(err, intoto.ErrArtifactName) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, %v; want an ErrArtifactName naming %s", got.Names(), err, tc.want)
			}
		})
	}
	// The benign control: the same trees with plain names record.
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"src/a": "x", "d/ab": "y"})
	got := record(t, []string{filepath.Join(dir, "src"), filepath.Join(dir, "d")}, Options{BasePath: dir, LStripPaths: []string{"src/"}})
	if diff := cmp.Diff([]string{"a", "d/ab"}, names(got)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
