package wire

import (
	"encoding/hex"
	"encoding/json"
	"unicode/utf8"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// AppendLinkCanonical appends CanonicalJSON(MarshalLink(l)) to b, encoded from the artifact sets
// rather than by decoding the link's JSON (which, its members not being in canonical order, would go
// through generic maps: several times the link's size for a large one). As AppendLinkJSON, it works
// out the size first and grows b at most once.
func AppendLinkCanonical(b []byte, l *intoto.Link) ([]byte, error) {
	materials, products := l.Materials, l.Products
	if len(l.Extra) != 0 || !validUTF8Names(materials) || !validUTF8Names(products) {
		// Unknown fields, or names that JSON turns into others (an invalid byte becomes U+FFFD, which
		// can change their order or make two one): the general way.
		raw, err := MarshalLink(l)
		if err != nil {
			return nil, err
		}
		canon, err := CanonicalJSON(raw)
		if err != nil {
			return nil, err
		}
		return append(b, canon...), nil
	}
	a := withDefaults(l)
	// byproducts and environment hold anything: they take the way the whole link took before, their
	// JSON made canonical, so that numbers and odd values come out (or are refused) exactly as then.
	var parts [2][]byte
	for i, v := range []map[string]any{a.ByProducts, a.Environment} {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		if parts[i], err = CanonicalJSON(raw); err != nil {
			return nil, err
		}
	}
	byproducts, environment := parts[0], parts[1]
	command := appendCanonicalStrings(nil, a.Command)

	// Members in canonical (sorted) order: _type, byproducts, command, environment, materials, name, products.
	need := len(`{"_type":,"byproducts":,"command":,"environment":,"materials":,"name":,"products":}`) +
		canonicalStringLen(a.Type) + len(byproducts) + len(command) + len(environment) +
		canonicalSetLen(materials) + canonicalStringLen(a.Name) + canonicalSetLen(products)
	if cap(b)-len(b) < need {
		grown := make([]byte, len(b), len(b)+need)
		copy(grown, b)
		b = grown
	}
	b = append(b, `{"_type":`...)
	b = appendCanonicalString(b, a.Type)
	b = append(b, `,"byproducts":`...)
	b = append(b, byproducts...)
	b = append(b, `,"command":`...)
	b = append(b, command...)
	b = append(b, `,"environment":`...)
	b = append(b, environment...)
	b = append(b, `,"materials":`...)
	b = appendCanonicalSet(b, materials)
	b = append(b, `,"name":`...)
	b = appendCanonicalString(b, a.Name)
	b = append(b, `,"products":`...)
	b = appendCanonicalSet(b, products)
	return append(b, '}'), nil
}

func validUTF8Names(s intoto.ArtifactSet) bool {
	for _, name := range s.Names() {
		if !utf8.ValidString(name) {
			return false
		}
	}
	return true
}

func appendCanonicalStrings(b []byte, list []string) []byte {
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonicalString(b, s)
	}
	return append(b, ']')
}

// canonicalStringLen is the length of appendCanonicalString's output for s.
func canonicalStringLen(s string) int {
	if !utf8.ValidString(s) {
		return len(appendCanonicalString(nil, s))
	}
	n := len(s) + 2
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			n++
		}
	}
	return n
}

// appendCanonicalSet writes s in canonical JSON. Its names are sorted bytewise and, being valid
// UTF-8, are their own decoded form: canonical order is theirs.
func appendCanonicalSet(b []byte, s intoto.ArtifactSet) []byte {
	b = append(b, '{')
	for i, name := range s.Names() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonicalString(b, name)
		b = append(b, ':')
		b = appendCanonicalDigest(b, s.Digest(i))
	}
	return append(b, '}')
}

func appendCanonicalDigest(b []byte, d intoto.Digest) []byte {
	if sum, ok := d.SHA256(); ok {
		b = append(b, `{"sha256":"`...)
		b = hex.AppendEncode(b, sum[:])
		return append(b, `"}`...)
	}
	m := d.Digests()
	if m == nil {
		return append(b, "null"...) // a null digest set
	}
	// Strings only: appendCanonicalMap cannot fail on them.
	b, _ = appendCanonicalMap(b, map[string]string(m))
	return b
}

func canonicalSetLen(s intoto.ArtifactSet) int {
	n := len("{}")
	if len(s.Names()) > 1 {
		n += len(s.Names()) - 1
	}
	var scratch []byte
	for i, name := range s.Names() {
		n += canonicalStringLen(name) + len(":")
		if d := s.Digest(i); isCompact(d) {
			n += len(`{"sha256":""}`) + 2*32
		} else {
			scratch = appendCanonicalDigest(scratch[:0], d)
			n += len(scratch)
		}
	}
	return n
}
