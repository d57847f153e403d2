package intoto

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"unicode/utf8"
)

// appendLinkJSON writes l exactly as encoding/json writes linkAlias (struct field order, map keys
// sorted, HTML-escaped strings) without reflection and into one buffer: the artifact maps of a large
// link are most of its bytes. Links with unknown fields take the generic path (encodeObject).
// With sets, the artifacts are sets[0] and sets[1] rather than a's maps.
func appendLinkJSON(b []byte, a *linkAlias, sets *[2]ArtifactSet) ([]byte, error) {
	b = appendLinkHeadJSON(b, a)
	if sets != nil {
		b = appendArtifactSetJSON(b, sets[0])
	} else {
		b = appendArtifactsJSON(b, a.Materials)
	}
	b = append(b, productsMember...)
	if sets != nil {
		b = appendArtifactSetJSON(b, sets[1])
	} else {
		b = appendArtifactsJSON(b, a.Products)
	}
	return appendLinkTailJSON(b, a)
}

// productsMember separates the materials from the products in a link's JSON.
const productsMember = `,"products":`

// appendLinkHeadJSON writes what precedes the materials: `{"_type":…,"name":…,"command":[…],"materials":`.
func appendLinkHeadJSON(b []byte, a *linkAlias) []byte {
	b = append(b, `{"_type":`...)
	b = appendJSONString(b, a.Type)
	b = append(b, `,"name":`...)
	b = appendJSONString(b, a.Name)
	b = append(b, `,"command":[`...)
	for i, c := range a.Command {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, c)
	}
	return append(b, `],"materials":`...)
}

// appendLinkTailJSON writes what follows the products: the byproducts, the environment and the closing brace.
func appendLinkTailJSON(b []byte, a *linkAlias) ([]byte, error) {
	for _, f := range []struct {
		name string
		v    map[string]any
	}{{`,"byproducts":`, a.ByProducts}, {`,"environment":`, a.Environment}} {
		raw, err := json.Marshal(f.v)
		if err != nil {
			return nil, err
		}
		b = append(b, f.name...)
		b = append(b, raw...)
	}
	return append(b, '}'), nil
}

// artifactsJSONSize estimates the encoded size of a, to size the buffer once.
func artifactsJSONSize(a Artifacts) int {
	n := 2
	for name, d := range a {
		n += len(name) + 4
		for alg, v := range d {
			n += len(alg) + len(v) + 6
		}
	}
	return n
}

func appendArtifactsJSON(b []byte, a Artifacts) []byte {
	if a == nil {
		return append(b, "null"...)
	}
	names := make([]string, 0, len(a))
	for name := range a {
		names = append(names, name)
	}
	slices.Sort(names)
	b = append(b, '{')
	var algs []string
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		b, algs = appendDigestsJSON(b, a[name], algs)
	}
	return append(b, '}')
}

// appendDigestsJSON writes d with sorted algorithms (null for nil); algs is scratch space.
func appendDigestsJSON(b []byte, d Digests, algs []string) ([]byte, []string) {
	if d == nil {
		return append(b, "null"...), algs
	}
	algs = algs[:0]
	for alg := range d {
		algs = append(algs, alg)
	}
	if len(algs) > 1 {
		slices.Sort(algs)
	}
	b = append(b, '{')
	for j, alg := range algs {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, alg)
		b = append(b, ':')
		b = appendJSONString(b, d[alg])
	}
	return append(b, '}'), algs
}

// appendArtifactSetJSON writes s as appendArtifactsJSON writes s.Artifacts().
func appendArtifactSetJSON(b []byte, s ArtifactSet) []byte {
	b = append(b, '{')
	var algs []string
	for i, name := range s.names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		if d := s.digs[i]; d.other == nil {
			b = append(b, `{"sha256":"`...)
			b = hex.AppendEncode(b, d.sha256[:])
			b = append(b, `"}`...)
		} else {
			b, algs = appendDigestsJSON(b, *d.other, algs)
		}
	}
	return append(b, '}')
}

// appendJSONString appends s as encoding/json encodes a string with HTML escaping. Plain printable
// ASCII is copied; anything else goes through encoding/json itself, so the bytes are the same.
func appendJSONString(b []byte, s string) []byte {
	if !plainJSONString(s) {
		raw, err := json.Marshal(s)
		if err != nil { // a string always encodes
			panic(err)
		}
		return append(b, raw...)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// MarshalLink returns the bytes of json.Marshal(l) without encoding/json's second pass over them
// (it validates and compacts what MarshalJSON returns, a no-op on appendLinkJSON's output, which is
// compact and HTML-escaped already): that pass costs as much as the encoding for a large link.
func MarshalLink(l *Link) ([]byte, error) {
	if len(l.Extra) != 0 {
		return json.Marshal(l)
	}
	return l.MarshalJSON()
}

// MarshalLinkSets is MarshalLink of l with the given materials and products (l's own are ignored),
// encoded straight from the sets.
func MarshalLinkSets(l *Link, materials, products ArtifactSet) ([]byte, error) {
	return AppendLinkSetsJSON(nil, l, materials, products)
}

// AppendLinkSetsJSON appends MarshalLinkSets(l, materials, products) to b. The exact size is worked
// out before anything is written, so b grows at most once, to exactly what it needs: a link of a
// million artifacts is never copied while it is encoded, and never holds unused capacity. Bytes
// reserved at the start of b (room for a header, say) are kept as they are.
func AppendLinkSetsJSON(b []byte, l *Link, materials, products ArtifactSet) ([]byte, error) {
	if len(l.Extra) != 0 {
		c := *l
		c.Materials, c.Products = materials.Artifacts(), products.Artifacts()
		raw, err := json.Marshal(&c)
		if err != nil {
			return nil, err
		}
		return append(b, raw...), nil
	}
	a := l.alias()
	// The tail is encoded first, aside: it is the only part whose size cannot be worked out without
	// encoding it (byproducts hold the captured output, environment anything).
	tail, err := appendLinkTailJSON(nil, &a)
	if err != nil {
		return nil, err
	}
	head := appendLinkHeadJSON(nil, &a)
	need := len(head) + artifactSetJSONLen(materials) + len(productsMember) + artifactSetJSONLen(products) + len(tail)
	if cap(b)-len(b) < need {
		grown := make([]byte, len(b), len(b)+need)
		copy(grown, b)
		b = grown
	}
	b = append(b, head...)
	b = appendArtifactSetJSON(b, materials)
	b = append(b, productsMember...)
	b = appendArtifactSetJSON(b, products)
	return append(b, tail...), nil
}

// artifactSetJSONLen is the length of appendArtifactSetJSON's output for s.
func artifactSetJSONLen(s ArtifactSet) int {
	n := len("{}")
	if len(s.names) > 1 {
		n += len(s.names) - 1 // commas
	}
	var scratch []byte
	for i, name := range s.names {
		n += jsonStringLen(name) + len(":")
		if d := s.digs[i]; d.other == nil {
			n += len(`{"sha256":""}`) + 2*len(d.sha256)
		} else {
			scratch, _ = appendDigestsJSON(scratch[:0], *d.other, nil)
			n += len(scratch)
		}
	}
	return n
}

// jsonStringLen is the length of appendJSONString's output for s.
func jsonStringLen(s string) int {
	if plainJSONString(s) {
		return len(s) + 2
	}
	return len(appendJSONString(nil, s))
}

// plainJSONString tells whether encoding/json writes s (with HTML escaping) as its bytes in quotes.
func plainJSONString(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
