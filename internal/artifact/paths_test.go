package artifact

import (
	"path/filepath"
	"testing"
)

// TestOutside: paths outside the base path are found before recording (moved from cli's checkPaths).
func TestOutside(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	for _, c := range []struct {
		paths []string
		want  string
	}{
		{[]string{".", "a/b", "a/../c", filepath.Join(base, "x"), "..x"}, ""},
		{[]string{"a", "../b"}, "../b"},
		{[]string{".."}, ".."},
		{[]string{"a/../../b"}, "a/../../b"},
		{[]string{filepath.Dir(base)}, filepath.Dir(base)},
	} {
		got, abs, err := Outside(base, c.paths)
		if err != nil || got != c.want || abs != base {
			t.Errorf("%q: outside %q (base %s, %v), want %q", c.paths, got, abs, err, c.want)
		}
	}
}
