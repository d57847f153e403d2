package wire

import "bytes"

// The token grammar every reader in this package shares: where whitespace, a string, a number and a
// literal end. The one-pass scanner (scanner.go, linkscan.go), the pretty writer (pretty.go) and the
// structural checks (checks.go) are walkers over these functions, each adding only what it does with
// the tokens: decode a link, re-indent a document, count nesting or member names.

// at returns b[i], or 0 (never valid where a token is expected) past the end.
func at(b []byte, i int) byte {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// spaceEnd returns the index of the first byte at or after i that is not JSON whitespace.
func spaceEnd(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index of the quote that closes the string whose opening quote is b[i]: the
// first one not escaped by an odd run of backslashes. It does not check what is between. ok is false
// for an unterminated string.
func stringEnd(b []byte, i int) (end int, ok bool) {
	for {
		j := bytes.IndexByte(b[i+1:], '"')
		if j < 0 {
			return 0, false
		}
		i += 1 + j
		n := 0
		for b[i-1-n] == '\\' { // stops at the opening quote at the latest
			n++
		}
		if n%2 == 0 {
			return i, true
		}
	}
}

// stringToken checks the string token starting at b[i] (a quote) as JSON's grammar has it (escapes,
// no control characters) and returns the index after it; plain reports that its bytes are its value
// (printable ASCII, no escapes). ok is false for anything that is not a string token.
func stringToken(b []byte, i int) (end int, plain, ok bool) {
	if at(b, i) != '"' {
		return 0, false, false
	}
	plain = true
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return j + 1, plain, true
		case c == '\\':
			plain = false
			j++
			switch at(b, j) {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				for k := j + 1; k <= j+4; k++ {
					if c := at(b, k); (c < '0' || c > '9') && (c < 'a' || c > 'f') && (c < 'A' || c > 'F') {
						return 0, false, false
					}
				}
				j += 4
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		case c >= 0x80:
			plain = false
		}
	}
	return 0, false, false
}

// numberEnd returns the index after the number starting at b[i] (JSON's grammar); integer reports
// that it has neither fraction nor exponent. ok is false when no number starts at i.
func numberEnd(b []byte, i int) (end int, integer, ok bool) {
	digits := func(j int) (int, bool) {
		k := j
		for c := at(b, k); c >= '0' && c <= '9'; c = at(b, k) {
			k++
		}
		return k, k > j
	}
	j := i
	if at(b, j) == '-' {
		j++
	}
	switch c := at(b, j); {
	case c == '0':
		j++
	case c >= '1' && c <= '9':
		j, _ = digits(j)
	default:
		return 0, false, false
	}
	integer = true
	if at(b, j) == '.' {
		integer = false
		if j, ok = digits(j + 1); !ok {
			return 0, false, false
		}
	}
	if c := at(b, j); c == 'e' || c == 'E' {
		integer = false
		j++
		if c := at(b, j); c == '+' || c == '-' {
			j++
		}
		if j, ok = digits(j); !ok {
			return 0, false, false
		}
	}
	return j, integer, true
}

// literalEnd returns the index after the true, false or null at b[i].
func literalEnd(b []byte, i int) (int, bool) {
	for _, lit := range []string{"true", "false", "null"} {
		if bytes.HasPrefix(b[i:], []byte(lit)) {
			return i + len(lit), true
		}
	}
	return 0, false
}
