package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"slices"
)

// errMalformed is returned by writePretty for a document that is not one JSON value.
var errMalformed = errors.New("encode envelope: the signed document is not valid JSON")

// maxPrettyDepth is encoding/json's nesting limit: a deeper document does not decode, so it has no
// pretty form.
const maxPrettyDepth = 10000

// writePretty writes doc as pretty(decodeGeneric(doc)) prints it, without the final newline and
// nested depth levels deep (its lines after the first indented by depth spaces): object keys sorted
// bytewise with the last of repeated keys kept, one-space indent, strings re-encoded without HTML
// escaping, numbers as written. It reads doc in place instead of decoding it into maps, which for a
// link of a million artifacts would take several times the document's size.
func writePretty(w *bufio.Writer, doc []byte, depth int) error {
	p := &prettyWriter{b: doc, w: w}
	end, err := p.value(p.ws(0), depth)
	if err != nil {
		return err
	}
	if p.ws(end) != len(doc) {
		return errMalformed
	}
	return nil
}

type prettyWriter struct {
	b       []byte
	w       *bufio.Writer
	scratch []byte
}

// at returns b[i], or 0 past the end.
func (p *prettyWriter) at(i int) byte { return at(p.b, i) }

// ws skips JSON whitespace from i.
func (p *prettyWriter) ws(i int) int { return spaceEnd(p.b, i) }

// str checks the string token starting at b[i] (stringToken) and returns the index after it; plain
// reports that pretty writes its bytes unchanged.
func (p *prettyWriter) str(i int) (end int, plain bool, err error) {
	end, plain, ok := stringToken(p.b, i)
	if !ok {
		return 0, false, errMalformed
	}
	return end, plain, nil
}

// decodeStr returns the value of the string token b[i:end] as encoding/json decodes it.
func (p *prettyWriter) decodeStr(i, end int, plain bool) ([]byte, error) {
	if plain {
		return p.b[i+1 : end-1], nil
	}
	var s string
	if err := json.Unmarshal(p.b[i:end], &s); err != nil {
		return nil, errMalformed
	}
	return []byte(s), nil
}

// writeStr writes the string token b[i:end] as pretty encodes its value.
func (p *prettyWriter) writeStr(i, end int, plain bool) error {
	if plain {
		_, err := p.w.Write(p.b[i:end])
		return err
	}
	v, err := p.decodeStr(i, end, plain)
	if err != nil {
		return err
	}
	return p.writeStrValue(v)
}

// writeStrValue writes the string v (a decoded value) as pretty encodes it.
func (p *prettyWriter) writeStrValue(v []byte) error {
	var err error
	if p.scratch, err = appendPrettyString(p.scratch[:0], string(v)); err != nil {
		return err
	}
	_, err = p.w.Write(p.scratch)
	return err
}

// number scans the number starting at b[i] (JSON's grammar) and returns the index after it.
func (p *prettyWriter) number(i int) (int, error) {
	end, _, ok := numberEnd(p.b, i)
	if !ok {
		return 0, errMalformed
	}
	return end, nil
}

// literal scans true, false or null at b[i].
func (p *prettyWriter) literal(i int) (int, error) {
	end, ok := literalEnd(p.b, i)
	if !ok {
		return 0, errMalformed
	}
	return end, nil
}

// scalar scans the string, number or literal at b[i] and writes it unless skip.
func (p *prettyWriter) scalar(i int, skip bool) (int, error) {
	var end int
	var err error
	switch c := p.at(i); {
	case c == '"':
		var plain bool
		if end, plain, err = p.str(i); err != nil || skip {
			return end, err
		}
		return end, p.writeStr(i, end, plain)
	case c == '-' || c >= '0' && c <= '9':
		end, err = p.number(i)
	case c == 't' || c == 'f' || c == 'n':
		end, err = p.literal(i)
	default:
		return 0, errMalformed
	}
	if err != nil || skip {
		return end, err
	}
	_, err = p.w.Write(p.b[i:end])
	return end, err
}

// member is one member of an object: its decoded key, the key token and where its value starts.
type member struct {
	key        []byte
	start, end int // the key token b[start:end]
	plain      bool
	value      int
}

// members calls f for each member of the object starting at b[i] (a brace), in document order, and
// returns the index after the object. f returns the index after the member's value.
func (p *prettyWriter) members(i int, f func(m member) (int, error)) (int, error) {
	j := p.ws(i + 1)
	if p.at(j) == '}' {
		return j + 1, nil
	}
	for {
		end, plain, err := p.str(j)
		if err != nil {
			return 0, err
		}
		key, err := p.decodeStr(j, end, plain)
		if err != nil {
			return 0, err
		}
		k := p.ws(end)
		if p.at(k) != ':' {
			return 0, errMalformed
		}
		if k, err = f(member{key: key, start: j, end: end, plain: plain, value: p.ws(k + 1)}); err != nil {
			return 0, err
		}
		switch k = p.ws(k); p.at(k) {
		case ',':
			j = p.ws(k + 1)
		case '}':
			return k + 1, nil
		default:
			return 0, errMalformed
		}
	}
}

// elements is members for the array starting at b[i] (a bracket); f gets where each element starts.
func (p *prettyWriter) elements(i int, f func(start int) (int, error)) (int, error) {
	j := p.ws(i + 1)
	if p.at(j) == ']' {
		return j + 1, nil
	}
	for {
		k, err := f(j)
		if err != nil {
			return 0, err
		}
		switch k = p.ws(k); p.at(k) {
		case ',':
			j = p.ws(k + 1)
		case ']':
			return k + 1, nil
		default:
			return 0, errMalformed
		}
	}
}

// skip returns the index after the value starting at b[i], checking it.
func (p *prettyWriter) skip(i, depth int) (int, error) {
	if depth > maxPrettyDepth {
		return 0, errMalformed
	}
	switch p.at(i) {
	case '{':
		return p.members(i, func(m member) (int, error) { return p.skip(m.value, depth+1) })
	case '[':
		return p.elements(i, func(start int) (int, error) { return p.skip(start, depth+1) })
	}
	return p.scalar(i, true)
}

// newline writes a line break and depth levels of indent.
func (p *prettyWriter) newline(depth int) error {
	if err := p.w.WriteByte('\n'); err != nil {
		return err
	}
	const spaces = "                                                                "
	for depth > 0 {
		n := min(depth, len(spaces))
		if _, err := p.w.WriteString(spaces[:n]); err != nil {
			return err
		}
		depth -= n
	}
	return nil
}

// value writes the value starting at b[i], whose first line is at depth levels of indent, and returns
// the index after it.
func (p *prettyWriter) value(i, depth int) (int, error) {
	if depth > maxPrettyDepth {
		return 0, errMalformed
	}
	switch p.at(i) {
	case '{':
		return p.object(i, depth)
	case '[':
		n := 0
		end, err := p.elements(i, func(start int) (int, error) {
			sep := byte(',')
			if n == 0 {
				sep = '['
			}
			n++
			if err := p.w.WriteByte(sep); err != nil {
				return 0, err
			}
			if err := p.newline(depth + 1); err != nil {
				return 0, err
			}
			return p.value(start, depth+1)
		})
		if err != nil {
			return 0, err
		}
		if n == 0 {
			_, err = p.w.WriteString("[]")
			return end, err
		}
		if err := p.newline(depth); err != nil {
			return 0, err
		}
		return end, p.w.WriteByte(']')
	}
	return p.scalar(i, false)
}

// object writes the object starting at b[i]. Its members are written as they come when their keys are
// already in order (what a link's artifacts are), which one pass without output checks; otherwise their
// positions are sorted first.
func (p *prettyWriter) object(i, depth int) (int, error) {
	n := 0
	var prev []byte
	sorted := true
	end, err := p.members(i, func(m member) (int, error) {
		if n > 0 && bytes.Compare(prev, m.key) >= 0 {
			sorted = false
		}
		prev = m.key
		n++
		return p.skip(m.value, depth+1)
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		_, err = p.w.WriteString("{}")
		return end, err
	}
	first := true
	write := func(m member) (int, error) {
		sep := byte(',')
		if first {
			sep, first = '{', false
		}
		if err := p.w.WriteByte(sep); err != nil {
			return 0, err
		}
		if err := p.newline(depth + 1); err != nil {
			return 0, err
		}
		var err error
		if m.plain {
			_, err = p.w.Write(p.b[m.start:m.end])
		} else {
			err = p.writeStrValue(m.key)
		}
		if err != nil {
			return 0, err
		}
		if _, err := p.w.WriteString(": "); err != nil {
			return 0, err
		}
		return p.value(m.value, depth+1)
	}
	if sorted {
		if _, err := p.members(i, write); err != nil {
			return 0, err
		}
	} else {
		var all []member
		if _, err := p.members(i, func(m member) (int, error) {
			all = append(all, m)
			return p.skip(m.value, depth+1)
		}); err != nil {
			return 0, err
		}
		// A repeated key decodes to its last value: keep the last of each run of equal keys.
		slices.SortStableFunc(all, func(a, b member) int { return bytes.Compare(a.key, b.key) })
		for k, m := range all {
			if k+1 < len(all) && bytes.Equal(m.key, all[k+1].key) {
				continue
			}
			if _, err := write(m); err != nil {
				return 0, err
			}
		}
	}
	if err := p.newline(depth); err != nil {
		return 0, err
	}
	return end, p.w.WriteByte('}')
}
