package artifact

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
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

// TestCompare: match-products' comparison (moved from cli/sign.go).
func TestCompare(t *testing.T) {
	t.Parallel()
	d := func(c string) intoto.Digests { return intoto.Digests{"sha256": strings.Repeat(c, 64)} }
	recorded := intoto.NewArtifactSet(map[string]intoto.Digests{"same": d("a"), "gone": d("b"), "changed": d("c"), "z-gone": d("d")})
	local := intoto.NewArtifactSet(map[string]intoto.Digests{"same": d("a"), "new": d("e"), "changed": d("f")})
	onlyRec, onlyLocal, differ := Compare(recorded, local)
	if !slices.Equal(onlyRec, []string{"gone", "z-gone"}) || !slices.Equal(onlyLocal, []string{"new"}) || !slices.Equal(differ, []string{"changed"}) {
		t.Errorf("only recorded %q, only local %q, differ %q", onlyRec, onlyLocal, differ)
	}
	if a, b, c := Compare(local, local); a != nil || b != nil || c != nil {
		t.Errorf("a set against itself: %q %q %q", a, b, c)
	}
}
