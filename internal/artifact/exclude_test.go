package artifact

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing/format/gitignore"
)

// referenceExcluded is the plain go-git evaluation the excluder's fast path must agree with.
func referenceExcluded(patterns []string, parts []string, isDir bool) bool {
	var ps []gitignore.Pattern
	neg := false
	for _, p := range patterns {
		if p == "" || strings.HasPrefix(p, "#") {
			continue
		}
		ps = append(ps, gitignore.ParsePattern(bangClass(p), nil))
		neg = neg || strings.HasPrefix(p, "!")
	}
	m := gitignore.NewMatcher(ps)
	return m.Match(parts, false) || (isDir && !neg && m.Match(parts, true))
}

var excludePatternSets = [][]string{
	{"*.link*", ".git", "*.pyc", "*~"},
	{"build/", "*.o", "!keep.o"},
	{"*", "!*/", "!*.go"},
	{"/dist", "src/**/gen", "**/tmp", "a/b"},
	{"[!a]*", "?x", "*.[ch]", "\\*lit"},
	{"b*", "!ba*", "*a", "x/", "!x/"},
	{"docs/**", "!docs/keep/", "gen*.go"},
	{"*.link*", ".git", "links/", "!links/readme"},
}

var excludeComponents = []string{"a", "b", "x", "ba", "build", "src", "gen", "tmp", "dist", "docs", "keep",
	"keep.o", "m.o", "f.go", "gen1.go", "s.link", "x.link.json", ".git", "c.pyc", "c~", "ax", "zx", "a.c", "*lit"}

// TestExcluderMatchesReference compares the fast path (ancestor bit sets, literal/suffix/prefix
// shortcuts) with go-git's matcher on random names, as directories and files, reached by walking.
func TestExcluderMatchesReference(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, patterns := range excludePatternSets {
		e := newExcluder(patterns)
		for range 3000 {
			parts := make([]string, 1+rng.IntN(4))
			for i := range parts {
				parts[i] = excludeComponents[rng.IntN(len(excludeComponents))]
			}
			isDir := rng.IntN(2) == 0
			want := referenceExcluded(patterns, parts, isDir)
			var anc ancestors
			for _, p := range parts[:len(parts)-1] {
				anc = e.extend(anc, p)
			}
			if got := e.matchIn(anc, parts, isDir); got != want {
				t.Errorf("patterns %q, %q dir=%v: got excluded=%v, want %v", patterns, parts, isDir, got, want)
			}
			if got := e.match(strings.Join(parts, "/"), isDir); got != want {
				t.Errorf("patterns %q, match(%q) dir=%v: got %v, want %v", patterns, parts, isDir, got, want)
			}
		}
	}
}

func TestCompileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pat  string
		kind matchKind
	}{
		{"*", matchAll}, {".git", matchLiteral}, {"*.pyc", matchSuffix}, {"gen*", matchPrefix},
		{"*.link*", matchContains}, {"*~", matchSuffix}, {"a?c", matchGlob}, {"*.[ch]", matchGlob},
		{`\*lit`, matchGlob}, {"**", matchContains},
	}
	for _, tc := range tests {
		if got := compileName(tc.pat).kind; got != tc.kind {
			t.Errorf("compileName(%q): got kind %d, want %d", tc.pat, got, tc.kind)
		}
	}
}
