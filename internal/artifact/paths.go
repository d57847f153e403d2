package artifact

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Outside returns the first of paths that lies outside basePath, lexically ("" when none does), and
// basePath made absolute. Such a path can never be recorded, since artifacts are named relative to the
// base path; paths that escape through symlinks are caught, and refused, when recorded.
func Outside(basePath string, paths []string) (outside, absBase string, err error) {
	base, err := filepath.Abs(basePath)
	if err != nil {
		return "", "", err
	}
	for _, p := range paths {
		abs := p
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(base, p)
		}
		rel, err := filepath.Rel(base, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return p, base, nil
		}
	}
	return "", base, nil
}

// Mismatch is how recorded artifacts (a link's products) differ from local ones: the names only in
// recorded, only local, and in both with digests that do not agree, each sorted.
type Mismatch struct {
	OnlyRecorded, OnlyLocal, Differ []string
}

// Compare sets recorded artifacts beside local ones.
func Compare(recorded, local intoto.ArtifactSet) *Mismatch {
	m := &Mismatch{}
	for name, d := range recorded.All() {
		ld, ok := local.Lookup(name)
		switch {
		case !ok:
			m.OnlyRecorded = append(m.OnlyRecorded, name)
		case !d.Agree(ld):
			m.Differ = append(m.Differ, name)
		}
	}
	for _, name := range local.Names() {
		if _, ok := recorded.Index(name); !ok {
			m.OnlyLocal = append(m.OnlyLocal, name)
		}
	}
	sort.Strings(m.OnlyRecorded)
	sort.Strings(m.OnlyLocal)
	sort.Strings(m.Differ)
	return m
}

// None tells whether the sets agree.
func (m *Mismatch) None() bool { return len(m.OnlyRecorded)+len(m.OnlyLocal)+len(m.Differ) == 0 }

// Lines are match-products' report: one "only-in-link NAME", "only-local NAME" or "differ NAME" line
// each, in that order.
func (m *Mismatch) Lines() []string {
	var out []string
	for _, g := range []struct {
		label string
		names []string
	}{{"only-in-link", m.OnlyRecorded}, {"only-local", m.OnlyLocal}, {"differ", m.Differ}} {
		for _, n := range g.names {
			out = append(out, g.label+" "+n)
		}
	}
	return out
}

// Summary counts each kind: "1 only in link, 0 only local, 2 differ".
func (m *Mismatch) Summary() string {
	return fmt.Sprintf("%d only in link, %d only local, %d differ", len(m.OnlyRecorded), len(m.OnlyLocal), len(m.Differ))
}
