package artifact

import (
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

// Compare sets recorded artifacts (a link's products) beside local ones: the names only in recorded,
// only in local, and in both with digests that do not agree, each sorted.
func Compare(recorded, local intoto.ArtifactSet) (onlyRecorded, onlyLocal, differ []string) {
	for name, d := range recorded.All() {
		ld, ok := local.Lookup(name)
		switch {
		case !ok:
			onlyRecorded = append(onlyRecorded, name)
		case !d.Agree(ld):
			differ = append(differ, name)
		}
	}
	for _, name := range local.Names() {
		if _, ok := recorded.Index(name); !ok {
			onlyLocal = append(onlyLocal, name)
		}
	}
	sort.Strings(onlyRecorded)
	sort.Strings(onlyLocal)
	sort.Strings(differ)
	return onlyRecorded, onlyLocal, differ
}
