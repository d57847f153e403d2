package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// refTranslate is a line-by-line port of CPython 3.11 fnmatch.translate: it returns the
// Python regular expression text. It is the independent reference Glob is fuzzed against.
func refTranslate(pattern string) string {
	pat := []rune(pattern)
	const star = "\x00STAR"
	var res []string
	i, n := 0, len(pat)
	for i < n {
		c := pat[i]
		i++
		switch c {
		case '*':
			if len(res) == 0 || res[len(res)-1] != star {
				res = append(res, star)
			}
		case '?':
			res = append(res, ".")
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
				res = append(res, `\[`)
				continue
			}
			stuff := string(pat[i:j])
			if !strings.Contains(stuff, "-") {
				stuff = strings.ReplaceAll(stuff, `\`, `\\`)
			} else {
				var chunks []string
				k := i + 1
				if pat[i] == '!' {
					k = i + 2
				}
				for {
					k = findRune(pat, '-', k, j)
					if k < 0 {
						break
					}
					chunks = append(chunks, string(pat[i:k]))
					i = k + 1
					k += 3
				}
				if chunk := string(pat[i:j]); chunk != "" {
					chunks = append(chunks, chunk)
				} else {
					chunks[len(chunks)-1] += "-"
				}
				for k := len(chunks) - 1; k > 0; k-- {
					a, b := []rune(chunks[k-1]), []rune(chunks[k])
					if a[len(a)-1] > b[0] {
						chunks[k-1] = string(a[:len(a)-1]) + string(b[1:])
						chunks = append(chunks[:k], chunks[k+1:]...)
					}
				}
				esc := make([]string, len(chunks))
				for x, s := range chunks {
					esc[x] = strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), "-", `\-`)
				}
				stuff = strings.Join(esc, "-")
			}
			stuff = regexp.MustCompile(`([&~|])`).ReplaceAllString(stuff, `\$1`)
			i = j + 1
			switch {
			case stuff == "":
				res = append(res, "(?!)")
			case stuff == "!":
				res = append(res, ".")
			default:
				if stuff[0] == '!' {
					stuff = "^" + stuff[1:]
				} else if stuff[0] == '^' || stuff[0] == '[' {
					stuff = `\` + stuff
				}
				res = append(res, "["+stuff+"]")
			}
		default:
			res = append(res, pyEscape(c))
		}
	}
	var out strings.Builder
	i, n = 0, len(res)
	for i < n && res[i] != star {
		out.WriteString(res[i])
		i++
	}
	for i < n {
		i++ // STAR
		if i == n {
			out.WriteString(".*")
			break
		}
		var fixed strings.Builder
		for i < n && res[i] != star {
			fixed.WriteString(res[i])
			i++
		}
		if i == n {
			out.WriteString(".*" + fixed.String())
		} else {
			out.WriteString("(?>.*?" + fixed.String() + ")")
		}
	}
	return `(?s:` + out.String() + `)\Z`
}

// pyEscape is re.escape for one character (Python 3.7+).
func pyEscape(c rune) string {
	if strings.ContainsRune("()[]{}?*+-|^$\\.&~# \t\n\r\v\f", c) {
		return `\` + string(c)
	}
	return string(c)
}

// refRegexp converts refTranslate's Python regex to an anchored Go regexp. Atomic groups
// become plain lazy groups (same language for a whole-string match), "(?!)" a class that never
// matches, and every literal a \x{…} escape; character classes are re-parsed the way Python's
// sre does it (a '-' between two items is a range).
func refRegexp(py string) (*regexp.Regexp, error) {
	rs := []rune(py)
	var b strings.Builder
	b.WriteString(`^`)
	lit := func(r rune) { fmt.Fprintf(&b, `\x{%x}`, r) }
	for i := 0; i < len(rs); {
		s := string(rs[i:])
		switch {
		case strings.HasPrefix(s, "(?s:"):
			b.WriteString("(?s:")
			i += 4
		case strings.HasPrefix(s, "(?>"):
			b.WriteString("(?:")
			i += 3
		case strings.HasPrefix(s, "(?!)"):
			b.WriteString(`[^\x00-\x{10FFFF}]`)
			i += 4
		case strings.HasPrefix(s, `\Z`) && i+2 == len(rs):
			b.WriteString(`\z`)
			i += 2
		case rs[i] == '\\':
			lit(rs[i+1])
			i += 2
		case rs[i] == '.' || rs[i] == '*' || rs[i] == '?' || rs[i] == ')':
			b.WriteRune(rs[i])
			i++
		case rs[i] == '[':
			i++
			neg := false
			if rs[i] == '^' {
				neg = true
				i++
			}
			var items []rune
			first := true
			var parts []string
			for first || rs[i] != ']' {
				first = false
				var r rune
				if rs[i] == '\\' {
					r, i = rs[i+1], i+2
				} else {
					r, i = rs[i], i+1
				}
				if rs[i] == '-' && rs[i+1] != ']' {
					var hi rune
					if rs[i+1] == '\\' {
						hi, i = rs[i+2], i+3
					} else {
						hi, i = rs[i+1], i+2
					}
					if r > hi {
						return nil, fmt.Errorf("bad character range %q", py)
					}
					parts = append(parts, fmt.Sprintf(`\x{%x}-\x{%x}`, r, hi))
					continue
				}
				items = append(items, r)
			}
			i++ // ']'
			for _, r := range items {
				parts = append(parts, fmt.Sprintf(`\x{%x}`, r))
			}
			b.WriteString("[")
			if neg {
				b.WriteString("^")
			}
			b.WriteString(strings.Join(parts, ""))
			b.WriteString("]")
		default:
			lit(rs[i])
			i++
		}
	}
	return regexp.Compile(b.String())
}

// refMatch is fnmatch.fnmatchcase through the regexp reference.
func refMatch(pattern, name string) (bool, error) {
	re, err := refRegexp(refTranslate(pattern))
	if err != nil {
		return false, err
	}
	return re.MatchString(name), nil
}
