package wire

import (
	"encoding/hex"
	"encoding/json"
	"slices"
	"unicode/utf8"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// productsMember separates the materials from the products in a link's JSON.
const productsMember = `,"products":`

// appendLinkHeadJSON writes what precedes the materials: `{"_type":…,"name":…,"command":[…],"materials":`.
func appendLinkHeadJSON(b []byte, a *intoto.Link) []byte {
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
func appendLinkTailJSON(b []byte, a *intoto.Link) ([]byte, error) {
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

// appendDigestsJSON writes d with sorted algorithms (null for nil); algs is scratch space.
func appendDigestsJSON(b []byte, d intoto.Digests, algs []string) ([]byte, []string) {
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

// appendArtifactSetJSON writes s as encoding/json writes s.Map(): names sorted, each digest set's
// algorithms sorted.
func appendArtifactSetJSON(b []byte, s intoto.ArtifactSet) []byte {
	b = append(b, '{')
	var algs []string
	for i, name := range s.Names() {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, name)
		b = append(b, ':')
		if sum, ok := s.Digest(i).SHA256(); ok {
			b = append(b, `{"sha256":"`...)
			b = hex.AppendEncode(b, sum[:])
			b = append(b, `"}`...)
		} else {
			b, algs = appendDigestsJSON(b, s.Digest(i).Digests(), algs)
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

// MarshalLink returns the bytes of json.Marshal(l), written straight from the artifact sets
// (without encoding/json's second pass over them, which validates and compacts what MarshalJSON
// returns: a no-op here, and as costly as the encoding for a large link).
func MarshalLink(l *intoto.Link) ([]byte, error) {
	return AppendLinkJSON(nil, l)
}

// AppendLinkJSON appends MarshalLink(l) to b. The exact size is worked out before anything is
// written, so b grows at most once, to exactly what it needs: a link of a million artifacts is never
// copied while it is encoded, and never holds unused capacity. Bytes reserved at the start of b (room
// for a header, say) are kept as they are.
func AppendLinkJSON(b []byte, l *intoto.Link) ([]byte, error) {
	if len(l.Extra) != 0 {
		raw, err := json.Marshal(l)
		if err != nil {
			return nil, err
		}
		return append(b, raw...), nil
	}
	a := withDefaults(l)
	// The tail is encoded first, aside: it is the only part whose size cannot be worked out without
	// encoding it (byproducts hold the captured output, environment anything).
	tail, err := appendLinkTailJSON(nil, &a)
	if err != nil {
		return nil, err
	}
	head := appendLinkHeadJSON(nil, &a)
	need := len(head) + artifactSetJSONLen(l.Materials) + len(productsMember) + artifactSetJSONLen(l.Products) + len(tail)
	if cap(b)-len(b) < need {
		grown := make([]byte, len(b), len(b)+need)
		copy(grown, b)
		b = grown
	}
	b = append(b, head...)
	b = appendArtifactSetJSON(b, l.Materials)
	b = append(b, productsMember...)
	b = appendArtifactSetJSON(b, l.Products)
	return append(b, tail...), nil
}

// artifactSetJSONLen is the length of appendArtifactSetJSON's output for s.
func artifactSetJSONLen(s intoto.ArtifactSet) int {
	n := len("{}")
	if len(s.Names()) > 1 {
		n += len(s.Names()) - 1 // commas
	}
	var scratch []byte
	for i, name := range s.Names() {
		n += jsonStringLen(name) + len(":")
		if _, ok := s.Digest(i).SHA256(); ok {
			n += len(`{"sha256":""}`) + 2*32
		} else {
			scratch, _ = appendDigestsJSON(scratch[:0], s.Digest(i).Digests(), nil)
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

// isCompact tells whether d is the usual {"sha256": …} digest set, held as its 32 bytes.
func isCompact(d intoto.Digest) bool {
	_, ok := d.SHA256()
	return ok
}

// withDefaults is l with empty lists and objects (never null) where the peers expect them.
func withDefaults(l *intoto.Link) intoto.Link {
	a := *l
	if a.Command == nil {
		a.Command = []string{}
	}
	if a.ByProducts == nil {
		a.ByProducts = map[string]any{}
	}
	if a.Environment == nil {
		a.Environment = map[string]any{}
	}
	return a
}
