package rules

import (
	"encoding/json"
	"os"
	"testing"
	"unicode/utf8"
)

func TestGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pattern, input string
		want                 bool
	}{
		{"star matches everything", "*", "a/b/c", true},
		{"star matches empty", "*", "", true},
		{"star crosses slash", "src/*", "src/a/b.go", true},
		{"star crosses newline", "a*b", "a\nb", true},
		{"suffix", "*.go", "x/y.go", true},
		{"suffix miss", "*.go", "x/y.goo", false},
		{"prefix and suffix do not overlap", "ab*ba", "aba", false},
		{"prefix and suffix", "ab*ba", "abba", true},
		{"question is one character", "a?c", "abc", true},
		{"question is one code point", "?", "é", true},
		{"question matches slash", "a?b", "a/b", true},
		{"question needs a character", "a?", "a", false},
		{"class", "[abc]x", "bx", true},
		{"class miss", "[abc]x", "dx", false},
		{"negated class", "[!abc]x", "dx", true},
		{"negated class miss", "[!abc]x", "ax", false},
		{"caret is literal", "[^a]", "^", true},
		{"caret does not negate", "[^a]", "b", false},
		{"range", "[a-c]", "b", true},
		{"range miss", "[a-c]", "d", false},
		{"leading bracket literal", "[]]", "]", true},
		{"negated leading bracket", "[!]]", "a", true},
		{"unclosed bracket literal", "a[b", "a[b", true},
		{"lone bracket", "[", "[", true},
		{"reversed range never matches", "[b-a]", "a", false},
		{"reversed range then bang matches all", "[b-a!]", "z", true},
		{"trailing hyphen literal", "[a-]", "-", true},
		{"leading hyphen literal", "[-a]", "-", true},
		{"backslash is literal", `a\b`, `a\b`, true},
		{"backslash does not escape", `\*`, `\anything`, true},
		{"backslash does not escape star", `\*`, `*`, false},
		{"backslash in class", `[\]`, `\`, true},
		{"set operators literal", "[a&&b]", "&", true},
		{"posix class is not special", "[[:alpha:]]", ":]", true},
		{"posix class is not special miss", "[[:alpha:]]", "b", false},
		{"star question star", "*?*", "", false},
		{"middle segment leftmost", "*a*a*a*b", "aaab", true},
		{"middle segment miss", "*a*a*a*b", "aab", false},
		{"case sensitive", "A*", "abc", false},
		{"empty pattern", "", "", true},
		{"empty pattern miss", "", "a", false},
		{"invalid utf8 byte is one character", "?", "\xff", true},
		{"invalid utf8 literal", "a\xffb", "a\xffb", true},
		{"invalid byte never joins a sequence", "\xe2*", "\xe2\x82\xac", false},
		{"euro is one character", "?", "\xe2\x82\xac", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := CompileGlob(tt.pattern).Match(tt.input); got != tt.want {
				t.Errorf("CompileGlob(%q).Match(%q) = %v, want %v", tt.pattern, tt.input, got, tt.want)
			}
			if utf8.ValidString(tt.pattern) && utf8.ValidString(tt.input) {
				ref, err := refMatch(tt.pattern, tt.input)
				if err != nil {
					t.Fatalf("reference: %v", err)
				}
				if ref != tt.want {
					t.Errorf("reference match(%q, %q) = %v, want %v", tt.pattern, tt.input, ref, tt.want)
				}
			}
		})
	}
}

func TestGlobFastPaths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern  string
		kind     globKind
		all, lit bool
	}{
		{"*", globPrefixSuffix, true, false},
		{"**", globPrefixSuffix, true, false},
		{"a/b", globLiteral, false, true},
		{"a[b", globLiteral, false, true},
		{"src/*", globPrefixSuffix, false, false},
		{"*.go", globPrefixSuffix, false, false},
		{"a*b", globPrefixSuffix, false, false},
		{"*a*", globGeneral, false, false},
		{"a?", globGeneral, false, false},
		{"\xff*", globGeneral, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			t.Parallel()
			g := CompileGlob(tt.pattern)
			if g.kind != tt.kind || g.MatchesAll() != tt.all || g.IsLiteral() != tt.lit {
				t.Errorf("CompileGlob(%q): kind %d all %v literal %v, want %d %v %v",
					tt.pattern, g.kind, g.MatchesAll(), g.IsLiteral(), tt.kind, tt.all, tt.lit)
			}
		})
	}
}

// TestGlobPython checks the verdicts python's fnmatch.fnmatchcase gave (testdata/gen.py).
func TestGlobPython(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Pattern, Name string
		Match         bool
	}
	readJSON(t, "testdata/fnmatch.json", &cases)
	if len(cases) == 0 {
		t.Fatal("no cases")
	}
	for _, c := range cases {
		if got := CompileGlob(c.Pattern).Match(c.Name); got != c.Match {
			t.Errorf("CompileGlob(%q).Match(%q) = %v, want %v (python)", c.Pattern, c.Name, got, c.Match)
		}
		if ref, err := refMatch(c.Pattern, c.Name); err != nil || ref != c.Match {
			t.Errorf("reference match(%q, %q) = %v, %v, want %v (python)", c.Pattern, c.Name, ref, err, c.Match)
		}
	}
}

func FuzzGlob(f *testing.F) {
	var cases []struct{ Pattern, Name string }
	readJSON(f, "testdata/fnmatch.json", &cases)
	for i, c := range cases {
		if i%7 == 0 {
			f.Add(c.Pattern, c.Name)
		}
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := CompileGlob(pattern).Match(name) // must not panic on any input
		if !utf8.ValidString(pattern) || !utf8.ValidString(name) || len(pattern) > 64 {
			return
		}
		want, err := refMatch(pattern, name)
		if err != nil {
			t.Skipf("reference cannot express %q: %v", pattern, err)
		}
		if got != want {
			t.Errorf("CompileGlob(%q).Match(%q) = %v, reference (fnmatch.translate) says %v", pattern, name, got, want)
		}
	})
}

func readJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}
