package wire

import (
	"fmt"
	"slices"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// DecodeLink decodes a v0.9 link document (the payload of an envelope, not the envelope itself): in
// one pass when it has the plain shape every implementation writes, else through encoding/json
// (intoto.Link.UnmarshalJSON), with the same result. Unknown fields are kept in Extra. It does not
// validate: call Validate.
func DecodeLink(data []byte) (*intoto.Link, error) {
	if l, ok := fastDecodeLink(data); ok {
		return l, nil
	}
	var l intoto.Link
	if err := l.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decode link: %w", err)
	}
	return &l, nil
}

// DecodePlainLink decodes data as DecodeLink would when it is a valid link of the plain shape every
// implementation writes (_type "link", a name, well-formed digests, ASCII strings without escapes, no
// unknown or repeated fields), in one pass that also validates it: Validate would return nil.
// ok=false means the caller must decode (and validate) it the general way.
func DecodePlainLink(data []byte) (l *intoto.Link, ok bool) {
	l, ok = fastDecodeLink(data)
	if !ok || l.Type != intoto.TypeLink || l.Name == "" {
		return nil, false
	}
	return l, true
}

// PlainLink is a link as DecodePlainLinkChecked reads it, or the link inside a PlainLegacyLink.
type PlainLink struct {
	Link *intoto.Link
	// Level is the nesting level of the link object in the document read (1 when the link is the
	// document). Depth is the deepest nesting of that document outside Unchecked.
	Level, Depth int
	// Unchecked are the values of link members (command, byproducts, environment) the pass neither
	// checked for repeated member names nor measured, not being of the canonical shape (an escape in
	// stdout, say); they are sub-slices of the document. They sit at nesting level Level+1 once opened.
	Unchecked [][]byte
}

// DecodePlainLinkChecked is DecodePlainLink that also tells what the general path checks
// separately: when it answers (ok), no object of data outside Unchecked names a member twice, and
// Depth is its nesting outside Unchecked. It answers exactly when DecodePlainLink does, with
// the same result.
func DecodePlainLinkChecked(data []byte) (*PlainLink, bool) {
	s := &scanner{b: data, strict: true, base: 1}
	l, ok := fastDecodeLinkScan(s)
	if !ok || l.Type != intoto.TypeLink || l.Name == "" {
		return nil, false
	}
	return &PlainLink{Link: l, Level: 1, Depth: s.deepest, Unchecked: s.unchecked}, true
}

// PlainLegacyLink is a legacy envelope holding a link, as DecodePlainLegacyLink reads it.
type PlainLegacyLink struct {
	// The link (Level 2 of the envelope; Depth is that of the whole envelope).
	PlainLink
	// Signed is the envelope's "signed" value as received: a sub-slice of the input.
	Signed []byte
	// Signatures are the envelope's signatures in order, their sig still hex.
	Signatures []LegacySignature
	// Canonical is CanonicalJSON(Signed), or nil when the pass could not write it (artifact names out
	// of order, say): the caller then computes it.
	Canonical []byte
}

// LegacySignature is one signature of a legacy envelope as written.
type LegacySignature struct {
	KeyID, Sig string
}

// DecodePlainLegacyLink reads a legacy envelope that holds a link, in the plain shape the peers write,
// in one pass: it checks the structure, finds the signatures, decodes the link (its artifacts as sets),
// measures the nesting and writes the canonical form a signature covers. When it answers (ok), the
// document is valid JSON in which no object outside Unchecked names a member twice; it is an object
// with exactly the members "signatures" (an array of objects with a "keyid", a "sig" and maybe other
// members, which encoding/json ignores: not named keyid or sig in any letter case; all plain
// strings) and "signed"; and
// DecodePlainLink(Signed) accepts Signed with the same result. Anything else, valid or not, is
// ok=false, and the caller reads the file the general way.
func DecodePlainLegacyLink(data []byte) (*PlainLegacyLink, bool) {
	s := &scanner{b: data, strict: true, canon: true, base: 2}
	var out PlainLegacyLink
	s.ws()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return nil, false
	}
	s.i++
	s.nest(1)
	var haveSigs, haveSigned bool
	for {
		k, ok := s.member()
		if !ok {
			return nil, false
		}
		switch {
		case string(k) == "signatures" && !haveSigs:
			haveSigs = true
			if out.Signatures, ok = s.legacySignatures(); !ok {
				return nil, false
			}
		case string(k) == "signed" && !haveSigned:
			haveSigned = true
			start := s.i
			s.out = make([]byte, 0, len(data)-start) // canonical is shorter, bar invalid UTF-8 (U+FFFD)
			l, ok := s.linkObject()
			if !ok || l.Type != intoto.TypeLink || l.Name == "" {
				return nil, false
			}
			out.Signed = data[start:s.i:s.i]
			out.Link, out.Level = l, 2
		default:
			return nil, false
		}
		more, ok := s.more('}')
		if !ok {
			return nil, false
		}
		if !more {
			break
		}
	}
	s.ws()
	if s.i != len(s.b) || !haveSigs || !haveSigned {
		return nil, false
	}
	out.Depth, out.Unchecked = s.deepest, s.unchecked
	if s.canon {
		out.Canonical = s.out
	}
	return &out, true
}

// legacySignatures reads the array of signatures at nesting level 2.
func (s *scanner) legacySignatures() ([]LegacySignature, bool) {
	if s.i >= len(s.b) || s.b[s.i] != '[' {
		return nil, false
	}
	s.i++
	s.nest(2)
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == ']' {
		s.i++
		return nil, true
	}
	var sigs []LegacySignature
	for {
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '{' {
			return nil, false
		}
		s.i++
		s.nest(3)
		var sig LegacySignature
		var haveID, haveSig bool
		var others []string // other members (in-toto-golang writes "cert"), which encoding/json ignores
		for {
			k, ok := s.member()
			if !ok {
				return nil, false
			}
			v, ok := s.str()
			if !ok {
				return nil, false
			}
			switch {
			case string(k) == "keyid" && !haveID:
				haveID, sig.KeyID = true, string(v)
			case string(k) == "sig" && !haveSig:
				haveSig, sig.Sig = true, string(v)
			case strings.EqualFold(string(k), "keyid") || strings.EqualFold(string(k), "sig") ||
				slices.Contains(others, string(k)):
				return nil, false // encoding/json would read it as one of the two, or it repeats
			default:
				others = append(others, string(k))
			}
			more, ok := s.more('}')
			if !ok {
				return nil, false
			}
			if !more {
				break
			}
		}
		if !haveID || !haveSig {
			return nil, false
		}
		sigs = append(sigs, sig)
		more, ok := s.more(']')
		if !ok {
			return nil, false
		}
		if !more {
			return sigs, true
		}
	}
}
