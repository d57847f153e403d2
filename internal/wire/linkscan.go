package wire

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// The one-pass link decoder: the scanner reading a v0.9 link (and, in its canon and strict modes,
// writing its canonical form and accounting for nesting and repeated member names as it goes).

// fastDecodeLink decodes a valid link with the plain shape: only the seven known fields, each at most
// once, artifacts as plain strings with well-formed digests. ok=false sends the caller to the generic
// decoder.
func fastDecodeLink(data []byte) (*intoto.Link, bool) {
	return fastDecodeLinkScan(&scanner{b: data})
}

func fastDecodeLinkScan(s *scanner) (*intoto.Link, bool) {
	s.ws()
	l, ok := s.linkObject()
	if !ok {
		return nil, false
	}
	s.ws()
	if s.i != len(s.b) {
		return nil, false
	}
	return l, true
}

// canonMember is where one link member's canonical `"name":value` sits in scanner.out.
type canonMember struct {
	name       string
	start, end int
}

// linkObject reads the link object at s.i and leaves s.i just past its closing brace: each member
// once (linkMember), its value into the link (linkValue), and, in canon mode, the members' canonical
// form put in order at the end.
func (s *scanner) linkObject() (*intoto.Link, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	s.i++
	s.nest(s.base)
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		return nil, false
	}
	var l intoto.Link
	var seen [len(intoto.LinkFields)]bool
	var members [len(intoto.LinkFields)]canonMember
	canonStart := len(s.out)
	if s.canon {
		s.out = append(s.out, '{')
	}
	for n := 0; ; n++ {
		f, ok := s.linkMember(&seen)
		if !ok {
			return nil, false
		}
		if s.canon {
			if n > 0 {
				s.out = append(s.out, ',')
			}
			members[n] = canonMember{name: intoto.LinkFields[f], start: len(s.out)}
			s.out = appendPlainString(s.out, intoto.LinkFields[f])
			s.out = append(s.out, ':')
		}
		if !s.linkValue(&l, f) {
			return nil, false
		}
		if s.canon {
			members[n].end = len(s.out)
		}
		more, ok := s.more('}')
		if !ok {
			return nil, false
		}
		if !more {
			if s.canon {
				s.out = append(s.out, '}')
				s.sortCanonMembers(canonStart, members[:n+1])
			}
			return &l, true
		}
	}
}

// linkMember reads a link member's name and the colon after it, and returns the name's index in
// intoto.LinkFields; ok=false for an unknown name or one seen before.
func (s *scanner) linkMember(seen *[len(intoto.LinkFields)]bool) (int, bool) {
	k, ok := s.member()
	if !ok {
		return 0, false
	}
	for f, name := range intoto.LinkFields {
		if string(k) == name {
			if seen[f] {
				return 0, false
			}
			seen[f] = true
			return f, true
		}
	}
	return 0, false
}

// linkValue reads the value of the link member intoto.LinkFields[f] into l.
func (s *scanner) linkValue(l *intoto.Link, f int) bool {
	var ok bool
	switch intoto.LinkFields[f] {
	case "_type":
		l.Type, ok = s.plainStringValue()
	case "name":
		l.Name, ok = s.plainStringValue()
	case "materials":
		l.Materials, ok = s.artifactSet()
	case "products":
		l.Products, ok = s.artifactSet()
	case "command":
		ok = s.smallValue(&l.Command)
	case "byproducts":
		ok = s.smallValue(&l.ByProducts)
	default:
		ok = s.smallValue(&l.Environment)
	}
	return ok
}

// plainStringValue reads a plain string (written to out as it is, in canon mode).
func (s *scanner) plainStringValue() (string, bool) {
	v, ok := s.str()
	if !ok {
		return "", false
	}
	if s.canon {
		s.out = append(s.out, '"')
		s.out = append(s.out, v...)
		s.out = append(s.out, '"')
	}
	return string(v), true
}

// appendPlainString appends a plain string (no character JSON escapes) in quotes.
func appendPlainString(b []byte, v string) []byte {
	b = append(b, '"')
	b = append(b, v...)
	return append(b, '"')
}

// smallValue reads a command, byproducts or environment: small values of any shape, which
// encoding/json decodes into dst once the scanner has found where they end and, in canon or strict
// mode, accounted for them (accountSpan).
func (s *scanner) smallValue(dst any) bool {
	start := s.i
	if !s.skip() {
		return false
	}
	span := s.b[start:s.i]
	if s.strict || s.canon {
		s.accountSpan(span)
	}
	return json.Unmarshal(span, dst) == nil
}

// accountSpan writes the canonical form of a small value (canon) and records its nesting (strict);
// a value not of the canonical shape is written by the generic encoder as it would be within the
// whole link, and listed as unchecked.
func (s *scanner) accountSpan(span []byte) {
	nesting, ok := s.appendCanonicalSpan(span)
	switch {
	case ok:
		s.nest(s.base + nesting)
	case s.canon:
		c, err := genericCanonicalJSON(span)
		if err != nil {
			s.dropCanon()
			break
		}
		s.out = append(s.out, c...)
	}
	if !ok && s.strict {
		s.unchecked = append(s.unchecked, span)
	}
}

// sortCanonMembers puts the link's canonical members, written from canonStart in document order,
// in the sorted order canonical JSON wants, if they are not in it already.
func (s *scanner) sortCanonMembers(canonStart int, members []canonMember) {
	if slices.IsSortedFunc(members, func(a, b canonMember) int { return strings.Compare(a.name, b.name) }) {
		return
	}
	sorted := slices.SortedFunc(slices.Values(members), func(a, b canonMember) int { return strings.Compare(a.name, b.name) })
	obj := make([]byte, 0, len(s.out)-canonStart)
	obj = append(obj, '{')
	for i, m := range sorted {
		if i > 0 {
			obj = append(obj, ',')
		}
		obj = append(obj, s.out[m.start:m.end]...)
	}
	obj = append(obj, '}')
	if canonStart == 0 {
		s.out = obj
		return
	}
	s.out = append(s.out[:canonStart], obj...)
}

// artifactSet reads {"name": {"alg": "digest", …}, …} with plain strings, unique names and digests
// Link.Validate accepts; null is the empty set.
func (s *scanner) artifactSet() (intoto.ArtifactSet, bool) {
	if s.lit("null") {
		if s.canon {
			s.out = append(s.out, "null"...)
		}
		return intoto.ArtifactSet{}, true
	}
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return intoto.ArtifactSet{}, false
	}
	s.nest(s.base + 1)
	start := s.i
	s.i++
	b := intoto.ArtifactSetBuilder{}
	if s.canon {
		s.out = append(s.out, '{')
	}
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		if s.canon {
			s.out = append(s.out, '}')
		}
		return b.Build()
	}
	for {
		name, ok := s.member()
		if !ok || len(name) == 0 {
			return intoto.ArtifactSet{}, false
		}
		if s.canon {
			if b.Len() > 0 {
				s.out = append(s.out, ',')
			}
			s.out = append(s.out, '"')
			s.out = append(s.out, name...)
			s.out = append(s.out, '"', ':')
		}
		var d intoto.Digest
		if d, ok = s.digestCompact(); !ok {
			return intoto.ArtifactSet{}, false
		}
		b.Add(name, d)
		if s.canon && !b.Sorted() {
			s.dropCanon() // canonical JSON lists the names sorted
		}
		if b.Len() == 256 {
			// Size the set for the rest of the document at the density seen so far (an
			// overestimate when another set follows).
			per := max(1, (s.i-start)/256)
			b.Expect(256 + (len(s.b)-s.i)/per)
		}
		more, ok := s.more('}')
		if !ok {
			return intoto.ArtifactSet{}, false
		}
		if !more {
			if s.canon {
				s.out = append(s.out, '}')
			}
			return b.Build()
		}
	}
}

// digestCompact reads a digest set: {"sha256": "<64 lowercase hex>"} directly, anything else
// through digests.
func (s *scanner) digestCompact() (intoto.Digest, bool) {
	start := s.i
	if s.i < len(s.b) && s.b[s.i] == '{' {
		s.i++
		s.ws()
		if k, ok := s.str(); ok && string(k) == "sha256" {
			s.ws()
			if s.i < len(s.b) && s.b[s.i] == ':' {
				s.i++
				s.ws()
				// The value is read straight off the bytes: 64 hex digits between quotes.
				if r := s.b[s.i:]; len(r) >= 66 && r[0] == '"' && r[65] == '"' {
					if d, ok := intoto.ParseSHA256Digest(r[1:65]); ok {
						s.i += 66
						s.ws()
						if s.i < len(s.b) && s.b[s.i] == '}' {
							s.i++
							s.nest(s.base + 2)
							if s.canon {
								s.out = append(s.out, `{"sha256":`...)
								s.out = append(s.out, r[:66]...)
								s.out = append(s.out, '}')
							}
							return d, true
						}
					}
				}
			}
		}
	}
	s.i = start
	m, ok := s.digests()
	if !ok || len(m) == 0 {
		return intoto.Digest{}, false
	}
	s.nest(s.base + 2)
	if s.canon {
		// Rare: read the span again, which also checks that its algorithms are sorted.
		if _, ok := s.appendCanonicalSpan(s.b[start:s.i]); !ok {
			s.dropCanon()
		}
	}
	return intoto.NewDigest(m), true
}

// digests reads {"alg": "digest", …} with plain strings, each digest lowercase hex.
func (s *scanner) digests() (intoto.Digests, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	s.i++
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == '}' {
		s.i++
		return intoto.Digests{}, true
	}
	d := intoto.Digests{}
	for {
		alg, ok := s.member()
		if !ok {
			return nil, false
		}
		v, ok := s.str()
		if !ok || len(alg) == 0 || !lowerHex(v) {
			return nil, false
		}
		if _, dup := d[string(alg)]; dup {
			return nil, false
		}
		d[algName(alg)] = string(v)
		more, ok := s.more('}')
		if !ok {
			return nil, false
		}
		if !more {
			return d, true
		}
	}
}
