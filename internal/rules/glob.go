package rules

import (
	"strings"
	"unicode/utf8"
)

// Glob is a compiled artifact pattern with the semantics of Python's fnmatch.fnmatchcase
// (CPython 3.11 fnmatch.translate, the library in-toto-python filters artifacts with):
//
//   - '*' matches any run of characters, '/' and newlines included;
//   - '?' matches exactly one character;
//   - '[seq]' matches one character in seq, '[!seq]' one character not in seq; a ']' right
//     after '[' or '[!' is literal; 'a-z' is a range; a '[' without a closing ']' is literal;
//     reversed ranges are dropped exactly as translate drops them (so '[b-a]' never matches);
//   - everything else is literal; backslash is not an escape character.
//
// Characters are Unicode code points. A byte that is not valid UTF-8 is one character,
// U+DC80–U+DCFF, like Python's surrogateescape decoding of file names.
//
// A Glob is immutable and safe for concurrent use. Compile never fails: every string is a
// pattern, as in Python.
type Glob struct {
	pattern string
	kind    globKind
	// lit is the whole pattern (globLiteral) or its literal prefix (globPrefixSuffix).
	lit string
	// suffix is the literal suffix (globPrefixSuffix).
	suffix string
	// general form: head STAR mid STAR mid … STAR tail; star reports whether any STAR exists.
	head, tail []tok
	mids       [][]tok
	star       bool
}

type globKind uint8

const (
	globLiteral      globKind = iota // no wildcard at all: string equality
	globPrefixSuffix                 // literal*literal (covers "*", "p*", "*s"), one star
	globGeneral
)

type tokKind uint8

const (
	tokLit   tokKind = iota // one literal character
	tokClass                // one character in (or, negated, not in) a set; '?' is an empty negated set
	tokStar
)

type tok struct {
	kind   tokKind
	r      rune // tokLit
	neg    bool
	ranges []runeRange // tokClass; single characters are lo == hi
	lit    string      // tokStar-free literal run (set on the first token of a literal segment only)
}

type runeRange struct{ lo, hi rune }

// decodeRune decodes one character of s like Python's surrogateescape: an invalid byte b
// becomes U+DC00+b. It returns size 0 only for an empty s.
func decodeRune(s string) (rune, int) {
	if s == "" {
		return 0, 0
	}
	if c := s[0]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return 0xDC00 + rune(s[0]), 1
	}
	return r, n
}

// decodeLastRune is decodeRune from the end of s.
func decodeLastRune(s string) (rune, int) {
	if s == "" {
		return 0, 0
	}
	if c := s[len(s)-1]; c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, n := utf8.DecodeLastRuneInString(s)
	if r == utf8.RuneError && n == 1 {
		return 0xDC00 + rune(s[len(s)-1]), 1
	}
	return r, n
}

func decodeAll(s string) []rune {
	out := make([]rune, 0, len(s))
	for s != "" {
		r, n := decodeRune(s)
		out = append(out, r)
		s = s[n:]
	}
	return out
}

// encodeRune is the inverse of decodeRune.
func encodeRune(b []byte, r rune) []byte {
	if r >= 0xDC80 && r <= 0xDCFF {
		return append(b, byte(r-0xDC00))
	}
	return utf8.AppendRune(b, r)
}

// CompileGlob compiles pattern once; match names with Glob.Match.
func CompileGlob(pattern string) *Glob {
	if !strings.ContainsAny(pattern, "*?[") {
		// No wildcard: every character is itself (an invalid byte decodes and encodes back to
		// itself), so the pattern is its own literal, with no tokens to build.
		return &Glob{pattern: pattern, kind: globLiteral, lit: pattern}
	}
	g := &Glob{pattern: pattern}
	toks := translate(decodeAll(pattern))

	// Split at stars: head STAR mid STAR … STAR tail.
	var segs [][]tok
	cur := []tok{}
	for _, t := range toks {
		if t.kind == tokStar {
			segs = append(segs, cur)
			cur = []tok{}
			g.star = true
			continue
		}
		cur = append(cur, t)
	}
	segs = append(segs, cur)
	g.head = segs[0]
	if g.star {
		g.tail = segs[len(segs)-1]
		g.mids = segs[1 : len(segs)-1]
	}
	// Byte-level fast paths are exact for literals that are valid UTF-8: such a literal starts
	// with a non-continuation byte and ends with a complete sequence, so every byte occurrence
	// of it in a name is also an occurrence character by character.
	for _, seg := range segs {
		if len(seg) > 0 && isLiteral(seg) {
			if lit := literalString(seg); utf8.ValidString(lit) {
				seg[0].lit = lit
			}
		}
	}

	switch {
	case !g.star && isLiteral(g.head):
		g.kind, g.lit = globLiteral, literalString(g.head)
	case g.star && len(g.mids) == 0 && fastLiteral(g.head) && fastLiteral(g.tail):
		g.kind, g.lit, g.suffix = globPrefixSuffix, literalString(g.head), literalString(g.tail)
	default:
		g.kind = globGeneral
	}
	return g
}

// String returns the pattern as written.
func (g *Glob) String() string { return g.pattern }

// IsLiteral reports whether the pattern has no wildcard, i.e. matches only itself.
func (g *Glob) IsLiteral() bool { return g.kind == globLiteral }

// MatchesAll reports whether the pattern matches every name ("*", "**", …).
func (g *Glob) MatchesAll() bool {
	return g.kind == globPrefixSuffix && g.lit == "" && g.suffix == ""
}

// Match reports whether name matches the whole pattern.
func (g *Glob) Match(name string) bool {
	switch g.kind {
	case globLiteral:
		return name == g.lit
	case globPrefixSuffix:
		return len(name) >= len(g.lit)+len(g.suffix) &&
			strings.HasPrefix(name, g.lit) && strings.HasSuffix(name, g.suffix)
	}
	rest, ok := matchSeg(g.head, name)
	if !ok {
		return false
	}
	if !g.star {
		return rest == ""
	}
	for _, mid := range g.mids {
		if rest, ok = findSeg(mid, rest); !ok {
			return false
		}
	}
	return matchSuffix(g.tail, rest)
}

// fastLiteral reports whether seg is empty or a literal usable at byte level.
func fastLiteral(seg []tok) bool {
	return len(seg) == 0 || seg[0].lit != ""
}

func isLiteral(seg []tok) bool {
	for _, t := range seg {
		if t.kind != tokLit {
			return false
		}
	}
	return true
}

func literalString(seg []tok) string {
	b := make([]byte, 0, len(seg))
	for _, t := range seg {
		b = encodeRune(b, t.r)
	}
	return string(b)
}

// matchSeg matches seg at the start of s and returns the rest of s.
func matchSeg(seg []tok, s string) (string, bool) {
	if len(seg) > 0 && seg[0].lit != "" {
		if !strings.HasPrefix(s, seg[0].lit) {
			return "", false
		}
		return s[len(seg[0].lit):], true
	}
	for i := range seg {
		r, n := decodeRune(s)
		if n == 0 || !seg[i].matches(r) {
			return "", false
		}
		s = s[n:]
	}
	return s, true
}

// findSeg finds the leftmost match of seg in s and returns what follows it. Leftmost is
// right for a segment between two stars (it is what translate's atomic "(?>.*?seg)" does).
func findSeg(seg []tok, s string) (string, bool) {
	if len(seg) > 0 && seg[0].lit != "" {
		i := strings.Index(s, seg[0].lit)
		if i < 0 {
			return "", false
		}
		return s[i+len(seg[0].lit):], true
	}
	for {
		if rest, ok := matchSeg(seg, s); ok {
			return rest, true
		}
		_, n := decodeRune(s)
		if n == 0 {
			return "", false
		}
		s = s[n:]
	}
}

// matchSuffix matches seg against the end of s; every token is one character.
func matchSuffix(seg []tok, s string) bool {
	if len(seg) > 0 && seg[0].lit != "" {
		return strings.HasSuffix(s, seg[0].lit)
	}
	for i := len(seg) - 1; i >= 0; i-- {
		r, n := decodeLastRune(s)
		if n == 0 || !seg[i].matches(r) {
			return false
		}
		s = s[:len(s)-n]
	}
	return true
}

func (t *tok) matches(r rune) bool {
	if t.kind == tokLit {
		return r == t.r
	}
	in := false
	for _, rg := range t.ranges {
		if rg.lo <= r && r <= rg.hi {
			in = true
			break
		}
	}
	return in != t.neg
}

// translate mirrors CPython 3.11 fnmatch.translate token by token, including its handling of
// '-' inside brackets and its removal of reversed ranges, but produces tokens instead of a
// regular expression.
func translate(pat []rune) []tok {
	var res []tok
	i, n := 0, len(pat)
	for i < n {
		c := pat[i]
		i++
		switch c {
		case '*':
			if len(res) == 0 || res[len(res)-1].kind != tokStar {
				res = append(res, tok{kind: tokStar})
			}
		case '?':
			res = append(res, tok{kind: tokClass, neg: true})
		case '[':
			j := i
			if j < n && pat[j] == '!' {
				j++
			}
			if j < n && pat[j] == ']' {
				j++
			}
			for j < n && pat[j] != ']' {
				j++
			}
			if j >= n {
				res = append(res, tok{kind: tokLit, r: '['})
				continue
			}
			res = append(res, classToken(pat, i, j))
			i = j + 1
		default:
			res = append(res, tok{kind: tokLit, r: c})
		}
	}
	return res
}

// classToken builds the token of the bracket expression pat[i:j] (between '[' and ']').
func classToken(pat []rune, i, j int) tok {
	var chunks [][]rune
	if !containsRune(pat[i:j], '-') {
		chunks = [][]rune{pat[i:j]}
	} else {
		k := i + 1
		if pat[i] == '!' {
			k = i + 2
		}
		for {
			k = findRune(pat, '-', k, j)
			if k < 0 {
				break
			}
			chunks = append(chunks, pat[i:k])
			i = k + 1
			k += 3
		}
		if chunk := pat[i:j]; len(chunk) > 0 {
			chunks = append(chunks, chunk)
		} else {
			last := chunks[len(chunks)-1]
			chunks[len(chunks)-1] = append(append([]rune{}, last...), '-')
		}
		// Remove empty ranges, as translate does ("invalid in RE").
		for k := len(chunks) - 1; k > 0; k-- {
			prev, next := chunks[k-1], chunks[k]
			if len(prev) == 0 || len(next) == 0 { // unreachable in CPython; never panic
				continue
			}
			if prev[len(prev)-1] > next[0] {
				merged := append(append([]rune{}, prev[:len(prev)-1]...), next[1:]...)
				chunks[k-1] = merged
				chunks = append(chunks[:k], chunks[k+1:]...)
			}
		}
	}

	total := len(chunks) - 1
	for _, ch := range chunks {
		total += len(ch)
	}
	if total <= 0 { // empty range: never matches
		return tok{kind: tokClass}
	}
	if total == 1 && len(chunks[0]) == 1 && chunks[0][0] == '!' { // negated empty range: any character
		return tok{kind: tokClass, neg: true}
	}
	t := tok{kind: tokClass}
	if len(chunks[0]) > 0 && chunks[0][0] == '!' {
		t.neg = true
		chunks[0] = chunks[0][1:]
	}
	// Chunks joined by '-' form ranges between the last character of one chunk and the first
	// of the next; every other character (a '-' inside a chunk included) is literal.
	for c, ch := range chunks {
		from, to := 0, len(ch)
		if c > 0 && len(ch) > 0 && len(chunks[c-1]) > 0 {
			prev := chunks[c-1]
			t.ranges = append(t.ranges, runeRange{prev[len(prev)-1], ch[0]})
			from = 1
		} else if c > 0 {
			// A chunk boundary without a character on one side leaves a literal '-'.
			t.ranges = append(t.ranges, runeRange{'-', '-'})
		}
		if c < len(chunks)-1 && to > from {
			to--
		}
		for _, r := range ch[from:to] {
			t.ranges = append(t.ranges, runeRange{r, r})
		}
	}
	return t
}

func containsRune(rs []rune, r rune) bool {
	for _, x := range rs {
		if x == r {
			return true
		}
	}
	return false
}

// findRune is Python's str.find(r, start, end) on a rune slice.
func findRune(rs []rune, r rune, start, end int) int {
	if end > len(rs) {
		end = len(rs)
	}
	for k := max(start, 0); k < end; k++ {
		if rs[k] == r {
			return k
		}
	}
	return -1
}
