package wire

import (
	"bytes"
	"encoding/binary"
	"strconv"
)

// Fast paths for the two costly reads of a large link: its canonical form (what a legacy signature
// covers) and its decoding. Both handle only the plain shape every implementation writes (ASCII
// strings without escapes; sorted, unique keys for canonical JSON; no unknown link fields) in one pass
// over the bytes, and report ok=false for anything else, which then takes the generic path. So their
// results are those of the generic path whenever they answer. The link decoder can also write the
// canonical form as it goes and account for nesting and repeated member names (see scanner.canon and
// scanner.strict), so that one pass over a legacy envelope does what four did (plainlink.go). The
// scanner reads through the token grammar of tokens.go, as the pretty writer and the checks do.

// scanner walks JSON bytes. Two modes add work to a link's decoding, for callers that read a signed
// file in one pass:
//
//   - canon makes linkObject append the link's canonical JSON to out as it decodes it. Members out of
//     order are put in order at the end; a command, byproducts or environment that fastCanonical would
//     refuse is written by genericCanonicalJSON. Anything else not of the canonical shape (artifact
//     names out of order, digest algorithms out of order, a value canonical JSON cannot hold) clears
//     canon and drops out: the caller then computes the canonical form the usual way.
//   - strict makes linkObject account for repeated member names and nesting. Outside the command,
//     byproducts and environment it refuses repeated names (and records the nesting); inside them too
//     when they have the canonical shape (sorted, hence unique, member names: what fastCanonical
//     accepts); when one has not (an escape in stdout, say), its value is listed in unchecked for the
//     caller to check. base is the nesting level of the link object in the document (1 for a
//     document of its own), and deepest the deepest nesting seen so far outside unchecked.
//
// A link's artifacts are always checked as Link.Validate checks them: a link the scanner accepts is
// valid, and anything else takes the generic path, which answers the same for a valid link.
type scanner struct {
	b []byte
	i int

	canon bool
	out   []byte

	strict    bool
	base      int
	deepest   int
	unchecked [][]byte
}

// nest records that the document nests level deep.
func (s *scanner) nest(level int) {
	if level > s.deepest {
		s.deepest = level
	}
}

// dropCanon gives up on the canonical form (see scanner.canon).
func (s *scanner) dropCanon() {
	s.canon, s.out = false, nil
}

// appendCanonicalSpan appends the canonical form of the plain value span to s.out, if canon is on,
// and returns the span's nesting (1 for a flat object or array, 0 for a scalar). ok is false when
// the span is not of the canonical shape (unsorted or repeated member names, anything fastCanonical
// refuses); the caller decides what that means.
func (s *scanner) appendCanonicalSpan(span []byte) (nesting int, ok bool) {
	sub := scanner{b: span}
	var out []byte
	if s.canon {
		out = s.out
	}
	out, ok = sub.canonValue(out, 0)
	if ok {
		sub.ws()
		ok = sub.i == len(span)
	}
	if !ok {
		return 0, false
	}
	if s.canon {
		s.out = out
	}
	return sub.deepest, true
}

// ws skips whitespace.
func (s *scanner) ws() { s.i = spaceEnd(s.b, s.i) }

// member reads an object member's name and the colon after it, with the whitespace around both; the
// value is next.
func (s *scanner) member() ([]byte, bool) {
	s.ws()
	name, ok := s.str()
	if !ok || !s.colon() {
		return nil, false
	}
	s.ws()
	return name, true
}

// colon consumes the ':' after a member name, and the whitespace before it.
func (s *scanner) colon() bool {
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != ':' {
		return false
	}
	s.i++
	return true
}

// more consumes what follows an object member or array element: whitespace, then the closing byte
// (more is false) or a comma (more is true). ok is false for anything else.
func (s *scanner) more(closing byte) (more, ok bool) {
	s.ws()
	if s.i >= len(s.b) {
		return false, false
	}
	switch s.b[s.i] {
	case closing:
		s.i++
		return false, true
	case ',':
		s.i++
		return true, true
	}
	return false, false
}

// str reads a plain string (printable ASCII, no escapes) and returns its contents.
func (s *scanner) str() ([]byte, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false
	}
	start := s.i + 1
	rest := s.b[start:]
	end := bytes.IndexByte(rest, '"')
	if end < 0 || !plainASCII(rest[:end]) {
		return nil, false
	}
	s.i = start + end + 1
	return rest[:end], true
}

// plainASCII tells whether b holds printable ASCII other than a backslash only, eight bytes at a
// time (a DSSE payload is one string of tens of MB).
func plainASCII(b []byte) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		below := (x - ones*0x20) &^ x & highs // some byte < 0x20
		above := ((x + ones) | x) & highs     // some byte > 0x7e
		y := x ^ (ones * '\\')
		backslash := (y - ones) &^ y & highs // some byte == '\\'
		if below|above|backslash != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c < 0x20 || c >= 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// integer reads a number in JSON syntax that is an integer fitting in 64 bits.
func (s *scanner) integer() ([]byte, bool) {
	end, integer, ok := numberEnd(s.b, s.i)
	if !ok || !integer {
		return nil, false
	}
	num := s.b[s.i:end]
	if _, err := strconv.ParseInt(string(num), 10, 64); err != nil {
		return nil, false
	}
	s.i = end
	return num, true
}

func (s *scanner) lit(word string) bool {
	if bytes.HasPrefix(s.b[s.i:], []byte(word)) {
		s.i += len(word)
		return true
	}
	return false
}

// fastCanonical re-encodes raw in canonical JSON if it has the plain shape; ok=false otherwise.
func fastCanonical(raw []byte) ([]byte, bool) {
	s := &scanner{b: raw}
	out := make([]byte, 0, len(raw))
	s.ws()
	out, ok := s.canonValue(out, 0)
	if !ok {
		return nil, false
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, false
	}
	return out, true
}

func (s *scanner) canonValue(out []byte, depth int) ([]byte, bool) {
	if s.i >= len(s.b) || depth > 200 {
		return nil, false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		v, ok := s.str()
		if !ok {
			return nil, false
		}
		out = append(out, '"')
		out = append(out, v...)
		return append(out, '"'), true
	case c == '{':
		s.nest(depth + 1)
		s.i++
		out = append(out, '{')
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == '}' {
			s.i++
			return append(out, '}'), true
		}
		var prev []byte
		for n := 0; ; n++ {
			s.ws()
			k, ok := s.str()
			if !ok || (n > 0 && bytes.Compare(k, prev) <= 0) {
				return nil, false
			}
			prev = k
			if n > 0 {
				out = append(out, ',')
			}
			out = append(out, '"')
			out = append(out, k...)
			out = append(out, '"', ':')
			if !s.colon() {
				return nil, false
			}
			s.ws()
			if out, ok = s.canonValue(out, depth+1); !ok {
				return nil, false
			}
			more, ok := s.more('}')
			if !ok {
				return nil, false
			}
			if !more {
				return append(out, '}'), true
			}
		}
	case c == '[':
		s.nest(depth + 1)
		s.i++
		out = append(out, '[')
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == ']' {
			s.i++
			return append(out, ']'), true
		}
		for n := 0; ; n++ {
			if n > 0 {
				out = append(out, ',')
			}
			s.ws()
			var ok bool
			if out, ok = s.canonValue(out, depth+1); !ok {
				return nil, false
			}
			more, ok := s.more(']')
			if !ok {
				return nil, false
			}
			if !more {
				return append(out, ']'), true
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		num, ok := s.integer()
		if !ok {
			return nil, false
		}
		return append(out, num...), true
	case s.lit("true"):
		return append(out, "true"...), true
	case s.lit("false"):
		return append(out, "false"...), true
	case s.lit("null"):
		return append(out, "null"...), true
	}
	return nil, false
}

// algName is string(b) without allocating a copy for the usual algorithm names.
func algName(b []byte) string {
	switch string(b) {
	case "sha256":
		return "sha256"
	case "sha512":
		return "sha512"
	case "sha384":
		return "sha384"
	case "sha1":
		return "sha1"
	}
	return string(b)
}

// skip moves past one value without validating it (the caller has encoding/json decode the span,
// which does): strings honour backslash escapes, brackets nest.
func (s *scanner) skip() bool {
	depth := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '"':
			end, ok := stringEnd(s.b, s.i)
			if !ok {
				return false
			}
			s.i = end + 1
		case '{', '[':
			depth++
			s.i++
		case '}', ']':
			if depth == 0 {
				return true
			}
			depth--
			s.i++
		case ',':
			if depth == 0 {
				return true
			}
			s.i++
		default:
			s.i++
		}
		if depth == 0 {
			// a scalar ends at ',', '}', ']' or whitespace; a closed string or container ends here
			if c := s.b[s.i-1]; c == '"' || c == '}' || c == ']' {
				return true
			}
		}
	}
	return depth == 0
}

// lowerHex tells whether v is non-empty lowercase hex of whole bytes (what Digests.validate accepts).
func lowerHex(v []byte) bool {
	if len(v) == 0 || len(v)%2 != 0 {
		return false
	}
	for _, c := range v {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// PlainObjectMembers splits a JSON object with the plain shape (keys and strings of printable ASCII
// without escapes, integers, true, false, null, nesting at most 200 deep) into its members, in
// document order: the keys, and the raw values as sub-slices of data without surrounding whitespace.
// Keys may repeat. ok=false for anything else, valid JSON or not: the caller then decodes data with
// encoding/json, which gives the same members for the plain shape.
func PlainObjectMembers(data []byte) (keys []string, vals [][]byte, ok bool) {
	s := &scanner{b: data}
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, nil, false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
	} else {
		for {
			k, ok := s.member()
			if !ok {
				return nil, nil, false
			}
			start := s.i
			if !s.plainValue(1) {
				return nil, nil, false
			}
			keys, vals = append(keys, string(k)), append(vals, data[start:s.i:s.i])
			more, ok := s.more('}')
			if !ok {
				return nil, nil, false
			}
			if !more {
				break
			}
		}
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, nil, false
	}
	return keys, vals, true
}

// plainValue moves past one value of the plain shape, validating it.
func (s *scanner) plainValue(depth int) bool {
	if s.i >= len(s.b) || depth > 200 {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		_, ok := s.str()
		return ok
	case c == '{' || c == '[':
		end := byte('}')
		if c == '[' {
			end = ']'
		}
		s.i++
		s.ws()
		if s.i < len(s.b) && s.b[s.i] == end {
			s.i++
			return true
		}
		for {
			s.ws()
			if c == '{' {
				if _, ok := s.str(); !ok {
					return false
				}
				if !s.colon() {
					return false
				}
				s.ws()
			}
			if !s.plainValue(depth + 1) {
				return false
			}
			more, ok := s.more(end)
			if !ok {
				return false
			}
			if !more {
				return true
			}
		}
	case c == '-' || (c >= '0' && c <= '9'):
		_, ok := s.integer()
		return ok
	}
	return s.lit("true") || s.lit("false") || s.lit("null")
}
