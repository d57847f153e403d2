package artifact

import (
	"path/filepath"
	"strings"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// excluder matches gitignore-style patterns (python's pathspec "gitwildmatch") against base-relative
// names split into components, with go-git's gitignore semantics.
//
// in-toto-python matches names as plain strings without a trailing slash, for directories too, so a
// directory-only pattern ("build/") never matches a directory itself, only the paths below it; and a
// negated one ("!*/") re-includes everything below the top level. Matching every name as a non-directory
// reproduces that. When there is no negation, a directory matched by a directory-only pattern is
// pruned at once, since python would exclude each path below it anyway.
//
// Patterns without a slash match any component of a name. While walking, which of them matched a
// directory's components is carried down as a bit set (ancestors), so each entry costs one match per
// pattern on its own name instead of one per pattern per component; common shapes (literal, *suffix,
// prefix*, *infix*) avoid path.Match altogether. Patterns with a slash go to go-git.
type excluder struct {
	rules    []rule
	negation bool
}

type rule struct {
	include bool
	dirOnly bool
	glob    gitignore.Pattern // set for patterns containing a slash
	name    nameMatcher       // for the others
}

// ancestors records which rules matched some component of a directory's name (bit i for rule i).
type ancestors []uint64

func (a ancestors) has(i int) bool { return i/64 < len(a) && a[i/64]&(1<<(i%64)) != 0 }

type matchKind int

const (
	matchGlob     matchKind = iota // filepath.Match(pat, name)
	matchLiteral                   // name == lit
	matchSuffix                    // *lit
	matchPrefix                    // lit*
	matchContains                  // *lit*
	matchAll                       // *
)

type nameMatcher struct {
	kind matchKind
	lit  string
	pat  string
}

func (m nameMatcher) match(name string) bool {
	switch m.kind {
	case matchLiteral:
		return name == m.lit
	case matchSuffix:
		return strings.HasSuffix(name, m.lit)
	case matchPrefix:
		return strings.HasPrefix(name, m.lit)
	case matchContains:
		return strings.Contains(name, m.lit)
	case matchAll:
		return true
	}
	ok, err := filepath.Match(m.pat, name)
	return err == nil && ok
}

func compileName(pat string) nameMatcher {
	const meta = `*?[\`
	switch {
	case pat == "*":
		return nameMatcher{kind: matchAll}
	case !strings.ContainsAny(pat, meta):
		return nameMatcher{kind: matchLiteral, lit: pat}
	}
	if len(pat) >= 2 {
		inner := pat[1 : len(pat)-1]
		switch {
		case pat[0] == '*' && pat[len(pat)-1] == '*' && !strings.ContainsAny(inner, meta):
			return nameMatcher{kind: matchContains, lit: inner}
		case pat[0] == '*' && !strings.ContainsAny(pat[1:], meta):
			return nameMatcher{kind: matchSuffix, lit: pat[1:]}
		case pat[len(pat)-1] == '*' && !strings.ContainsAny(pat[:len(pat)-1], meta):
			return nameMatcher{kind: matchPrefix, lit: pat[:len(pat)-1]}
		}
	}
	return nameMatcher{kind: matchGlob, pat: pat}
}

func newExcluder(patterns []string) *excluder {
	e := &excluder{}
	for _, p := range patterns {
		p = strings.TrimRight(p, "\r\n")
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		p = bangClass(p)
		// Parse as go-git's ParsePattern does.
		var r rule
		body := p
		if strings.HasPrefix(body, "!") {
			r.include = true
			body = body[1:]
			e.negation = true
		}
		if !strings.HasSuffix(body, `\ `) {
			body = strings.TrimRight(body, " ")
		}
		if strings.HasSuffix(body, "/") {
			r.dirOnly = true
			body = body[:len(body)-1]
		}
		if strings.Contains(body, "/") {
			r.glob = gitignore.ParsePattern(p, nil)
		} else {
			r.name = compileName(body)
		}
		e.rules = append(e.rules, r)
	}
	return e
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

func (e *excluder) empty() bool { return len(e.rules) == 0 }

// ancestorsOf returns the rules matching some component of parts.
func (e *excluder) ancestorsOf(parts []string) ancestors {
	var a ancestors
	for _, p := range parts {
		a = e.extend(a, p)
	}
	return a
}

// extend returns the ancestors of a directory named parent/name, given parent's. It shares nothing
// with parent when it differs.
func (e *excluder) extend(parent ancestors, name string) ancestors {
	var out ancestors
	for i, r := range e.rules {
		if r.glob != nil || parent.has(i) || !r.name.match(name) {
			continue
		}
		if out == nil {
			out = make(ancestors, (len(e.rules)+63)/64)
			copy(out, parent)
		}
		out[i/64] |= 1 << (i % 64)
	}
	if out == nil {
		return parent
	}
	return out
}

// excludedAs evaluates the rules, last match wins, for parts (whose leading components have the
// given ancestors) as a directory or not.
func (e *excluder) excludedAs(anc ancestors, parts []string, isDir bool) bool {
	last := parts[len(parts)-1]
	for i := len(e.rules) - 1; i >= 0; i-- {
		r := &e.rules[i]
		var m bool
		if r.glob != nil {
			m = r.glob.Match(parts, isDir) != gitignore.NoMatch
		} else {
			m = anc.has(i) || (r.name.match(last) && (!r.dirOnly || isDir))
		}
		if m {
			return !r.include
		}
	}
	return false
}

// matchIn reports whether the entry parts (the last component inside a directory with ancestors anc)
// is excluded. parts is not retained.
func (e *excluder) matchIn(anc ancestors, parts []string, isDir bool) bool {
	if len(e.rules) == 0 {
		return false
	}
	if e.excludedAs(anc, parts, false) {
		return true
	}
	return isDir && !e.negation && e.excludedAs(anc, parts, true)
}

// match reports whether the forward-slash name is excluded.
func (e *excluder) match(name string, isDir bool) bool {
	if len(e.rules) == 0 {
		return false
	}
	parts := strings.Split(name, "/")
	return e.matchIn(e.ancestorsOf(parts[:len(parts)-1]), parts, isDir)
}
