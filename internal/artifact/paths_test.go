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
	m := Compare(recorded, local)
	if !slices.Equal(m.OnlyRecorded, []string{"gone", "z-gone"}) || !slices.Equal(m.OnlyLocal, []string{"new"}) || !slices.Equal(m.Differ, []string{"changed"}) {
		t.Errorf("mismatch %+v", m)
	}
	want := []string{"only-in-link gone", "only-in-link z-gone", "only-local new", "differ changed"}
	if m.None() || !slices.Equal(m.Lines(), want) || m.Summary() != "2 only in link, 1 only local, 1 differ" {
		t.Errorf("report %q, summary %q", m.Lines(), m.Summary())
	}
	if m := Compare(local, local); !m.None() || m.Lines() != nil {
		t.Errorf("a set against itself: %+v", m)
	}
}
