package artifact

import (
	"path/filepath"
	"strings"
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
