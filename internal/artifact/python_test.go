package artifact

import (
	"encoding/json"
	"os"
	"os/exec"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// pythonRecord runs in-toto-python's record_artifacts_as_dict (Debian's in-toto 1.3.1) or skips.
func pythonRecord(t *testing.T, paths []string, base string, excludes, lstrip []string, follow, normalize bool) map[string]intoto.Digests {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3")
	}
	if err := exec.Command(py, "-c", "import in_toto.runlib").Run(); err != nil {
		t.Skip("in-toto-python not installed (apt-get install in-toto)")
	}
	args, err := json.Marshal(map[string]any{
		"paths": paths, "base": base, "excludes": excludes, "lstrip": lstrip, "follow": follow, "normalize": normalize,
	})
	if err != nil {
		t.Fatal(err)
	}
	script := `
import json, sys
from in_toto.runlib import record_artifacts_as_dict
a = json.loads(sys.argv[1])
print(json.dumps(record_artifacts_as_dict(a["paths"], exclude_patterns=a["excludes"], base_path=a["base"],
    follow_symlink_dirs=a["follow"], normalize_line_endings=a["normalize"], lstrip_paths=a["lstrip"])))
`
	cmd := exec.Command(py, "-c", script, string(args))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("in-toto-python: %v", err)
	}
	var got map[string]intoto.Digests
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("in-toto-python output: %v", err)
	}
	return got
}

// TestRecordMatchesPython records the same trees with in-toto-python and compares names and digests.
func TestRecordMatchesPython(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{
		"README.md":                  "readme\r\n",
		"src/main.go":                "package main\r\nfunc main() {}\r",
		"src/util/u.go":              "package util\n",
		"src/util/u.pyc":             "pyc",
		"src/util/u.go~":             "backup",
		".git/HEAD":                  "ref: refs/heads/main\n",
		"vendor/.git/x":              "x",
		"build.abcd1234.link":        "{}",
		"links/x.link.sigstore.json": "{}",
		"dist/app":                   "app",
		"dist/lib/l.so":              "so",
		"docs/build/b":               "b",
		"build/o":                    "o",
		"cache/skip.tmp":             "t",
		"cache/keep.dat":             "d",
		"lnk/file":                   "->../src/util/u.go",
		"lnk/dir":                    "->../dist",
		"lnk/broken":                 "->../nope",
		"name with space/f":          "f",
		"uni/\u00e9t\u00e9":          "summer",
	})
	tests := []struct {
		name      string
		paths     []string
		excludes  []string
		lstrip    []string
		follow    bool
		normalize bool
	}{
		{name: "defaults", paths: []string{"."}},
		{name: "several paths", paths: []string{"src", "./dist/", "README.md", "missing"}},
		{name: "excludes", paths: []string{"."}, excludes: []string{"/build", "*.tmp", "lib/", "*.md", "lnk"}},
		{name: "negation", paths: []string{"cache", "src"}, excludes: []string{"*", "!*.dat", "!*/", "!*.go"}},
		{name: "double star", paths: []string{"."}, excludes: []string{"**/util", "docs/**", "dist/**/l.so", ".git"}},
		{name: "classes", paths: []string{"src", "cache", "dist"}, excludes: []string{"[!c]*.go", "?ache/s*", "lib"}},
		{name: "dir only", paths: []string{"."}, excludes: []string{"build/", "src/util/", "*.link*"}},
		{name: "lstrip", paths: []string{"dist", "src/util/u.go"}, lstrip: []string{"dist/", "src/"}},
		{name: "follow", paths: []string{"."}, follow: true},
		{name: "normalize", paths: []string{"README.md", "src"}, normalize: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want := pythonRecord(t, tc.paths, dir, tc.excludes, tc.lstrip, tc.follow, tc.normalize)
			opts := Options{
				BasePath: dir, Excludes: tc.excludes, DefaultExcludes: len(tc.excludes) == 0,
				LStripPaths: tc.lstrip, FollowSymlinks: tc.follow, NormalizeLineEndings: tc.normalize,
			}
			got := record(t, tc.paths, opts)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("intoto-ci vs in-toto-python (-python +ours):\n%s", diff)
			}
		})
	}
}
