package artifact

import (
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// excluder matches gitignore-style patterns (python's pathspec "gitwildmatch") against base-relative
// names split into components.
//
// in-toto-python matches names as plain strings without a trailing slash, for directories too, so a
// directory-only pattern ("build/") never matches a directory itself, only the paths below it; and a
// negated one ("!*/") re-includes everything below the top level. Matching every name as a non-directory
// reproduces that. When there is no negation, a directory matched by a directory-only pattern is
// pruned at once, since python would exclude each path below it anyway.
type excluder struct {
	m        gitignore.Matcher // nil when there are no patterns
	negation bool
}

func newExcluder(patterns []string) *excluder {
	var ps []gitignore.Pattern
	neg := false
	for _, p := range patterns {
		p = strings.TrimRight(p, "\r\n")
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(bangClass(p), nil))
		neg = neg || strings.HasPrefix(p, "!")
	}
	if len(ps) == 0 {
		return &excluder{}
	}
	return &excluder{m: gitignore.NewMatcher(ps), negation: neg}
}

// bangClass rewrites gitignore's negated character class "[!…]" into "[^…]", the only form Go's
// path.Match (used by go-git) understands; pathspec does the same translation.
func bangClass(p string) string {
	if !strings.Contains(p, "[!") {
		return p
	}
	b := []byte(p)
	for i := 0; i < len(b)-1; i++ {
		switch {
		case b[i] == '\\':
			i++ // skip the escaped byte
		case b[i] == '[' && b[i+1] == '!':
			b[i+1] = '^'
		}
	}
	return string(b)
}

// match reports whether the forward-slash name is excluded.
func (e *excluder) match(name string, isDir bool) bool {
	if e.m == nil {
		return false
	}
	return e.matchParts(strings.Split(name, "/"), isDir)
}

// matchParts is match for a name already split; parts is not retained.
func (e *excluder) matchParts(parts []string, isDir bool) bool {
	if e.m == nil {
		return false
	}
	if e.m.Match(parts, false) {
		return true
	}
	return isDir && !e.negation && e.m.Match(parts, true)
}
