package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"
)

// legacyDoc wraps a link payload in a legacy envelope with one signature.
func legacyDoc(payload string) string {
	return `{"signatures":[{"keyid":"k1","sig":"00ff"}],"signed":` + payload + `}`
}

const plainPayload = `{"_type":"link","byproducts":{"return-value":0,"stderr":"","stdout":"x"},"command":["make","build"],` +
	`"environment":{},"materials":{"a/1":{"sha256":"` + hex64 + `"},"a/2":{"sha256":"` + hex64 + `"}},` +
	`"name":"build","products":{"b":{"sha256":"` + hex64 + `"}}}`

const hex64 = "6acb2edf2a7e5d17eb2b61e4f49173902c10270be703909e67fe872f2725d077"

// legacySeeds are envelopes at the edges of DecodePlainLegacyLink's shape. want: whether it must
// answer (1), must not (0), or either (-1); canon: whether the answer must carry the canonical form.
var legacySeeds = []struct {
	doc         string
	want, canon int
}{
	{legacyDoc(plainPayload), 1, 1},
	// Indented like in-toto-python writes it.
	{"{\n \"signatures\": [\n  {\n   \"keyid\": \"k\",\n   \"sig\": \"ab\"\n  }\n ],\n \"signed\": {\n  \"_type\": \"link\",\n  \"byproducts\": {},\n  \"command\": [],\n  \"environment\": {},\n  \"materials\": {\n   \"x\": {\n    \"sha256\": \"" + hex64 + "\"\n   }\n  },\n  \"name\": \"s\",\n  \"products\": {}\n }\n}\n", 1, 1},
	// Fields in struct order and "signed" first, like in-toto-golang writes it.
	{`{"signed":{"_type":"link","name":"a","materials":{},"products":{"p":{"sha256":"` + hex64 + `"}},"byproducts":{},"command":[],"environment":{}},"signatures":[{"keyid":"k","sig":"ab"}]}`, 1, 1},
	{`{"signatures":[],"signed":{"_type":"link","name":"a"}}`, 1, 1},
	{`{"signatures":[{"keyid":"","sig":""},{"keyid":"k","sig":"AB"}],"signed":{"name":"a","_type":"link","materials":null}}`, 1, 1},
	// Artifact names out of order: decoded, but the canonical form is left to the caller.
	{legacyDoc(`{"_type":"link","name":"a","materials":{"b":{"sha256":"` + hex64 + `"},"a":{"sha256":"` + hex64 + `"}}}`), 1, 0},
	// Digest sets other than the single sha256.
	{legacyDoc(`{"_type":"link","name":"a","materials":{"a":{"sha256":"ab","sha512":"cd"},"b":{"sha512":"` + hex64 + `"}}}`), 1, 1},
	{legacyDoc(`{"_type":"link","name":"a","materials":{"a":{"sha512":"ab","sha256":"cd"}}}`), 1, 0},
	{legacyDoc(`{"_type":"link","name":"a","materials":{"a":{"sha256":"AB"}}}`), 0, 0},
	{legacyDoc(`{"_type":"link","name":"a","materials":{"a":{"sha256":"ab","sha256":"ab"}}}`), 0, 0},
	{legacyDoc(`{"_type":"link","name":"a","materials":{"a":{"sha256":"ab"},"a":{"sha256":"ab"}}}`), 0, 0},
	// Nesting inside the generic members, measured.
	{legacyDoc(`{"_type":"link","name":"a","environment":{"a":[[{"b":[1,-2,true,false,null]}]]}}`), 1, 1},
	// Generic members that are not of the canonical shape: decoded, listed as unchecked.
	{legacyDoc(`{"_type":"link","name":"a","byproducts":{"stdout":"x","stdout":"y"}}`), 1, 1},
	{legacyDoc(`{"_type":"link","name":"a","byproducts":{"stdout":"x","return-value":0}}`), 1, 1},
	{legacyDoc(`{"_type":"link","name":"a","environment":{"a":{"b":1,"b":2}},"command":["\u00e9"]}`), 1, 1},
	{legacyDoc(`{"_type":"link","name":"a","byproducts":{"stderr":"a\n\"b\"\\","stdout":"\u0000é"}}`), 1, 1},
	{legacyDoc(`{"_type":"link","name":"a","byproducts":{"return-value":1e3}}`), 1, 0},
	{legacyDoc(`{"_type":"link","name":"a","name":"b"}`), 0, 0},
	{`{"signatures":[{"keyid":"k","keyid":"j","sig":"00"}],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[{"keyid":"k","sig":"00","cert":""}],"signed":{"_type":"link","name":"a"}}`, 1, 1},
	{`{"signatures":[{"keyid":"k","sig":"00","other":1}],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[{"keyid":"k","sig":"00","cert":"","cert":""}],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[{"keyid":"k","sig":"00","Sig":"01"}],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[{"keyid":"k"}],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[{"KeyID":"k","sig":"00"}],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":null,"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a"},"signed":{"_type":"link","name":"b"}}`, 0, 0},
	{`{"signatures":[],"signatures":[],"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a"},"x":1}`, 0, 0},
	{`{"Signed":{"_type":"link","name":"a"},"signatures":[]}`, 0, 0},
	{`{"signed":{"_type":"link","name":"a"}}`, 0, 0},
	{`{"signatures":[]}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"layout","name":"a"}}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":""}}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a","extra":1}}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a\u0041"}}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a"}} x`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a"},}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a"}`, 0, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a","byproducts":{"return-value":1.5}}}`, 1, 0},
	{`{"signatures":[],"signed":{"_type":"link","name":"a","command":"x"}}`, 0, 0},
	{`[]`, 0, 0}, {``, 0, 0}, {`{}`, 0, 0},
}

// refNesting is the deepest nesting of valid JSON, from encoding/json's tokens.
func refNesting(data []byte) int {
	dec := json.NewDecoder(bytes.NewReader(data))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// refDuplicate tells whether an object of valid JSON names a member twice, from encoding/json's tokens.
func refDuplicate(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	type frame struct {
		object bool
		names  map[string]bool
		key    bool // the next string token is a member name
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		isKey := top != nil && top.object && top.key
		if top != nil && top.object {
			top.key = !top.key
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			stack = append(stack, &frame{object: tok == json.Delim('{'), names: map[string]bool{}, key: true})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			if top != nil && top.object {
				top.key = !top.key // undo: a closing brace is not a member
			}
			if len(stack) > 0 && stack[len(stack)-1].object {
				stack[len(stack)-1].key = true
			}
			continue
		}
		if isKey {
			name := tok.(string)
			if top.names[name] {
				return true
			}
			top.names[name] = true
		}
	}
}

// checkPlainLegacy fails when DecodePlainLegacyLink answers for data and the answer is not what the
// general path gives: encoding/json's members, DecodePlainLink, CanonicalJSON, the nesting,
// no repeated member names. It returns whether it answered and whether it wrote the canonical form.
func checkPlainLegacy(t *testing.T, data []byte) (ok, canon bool) {
	t.Helper()
	p, ok := DecodePlainLegacyLink(data)
	if !ok {
		return false, false
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		t.Fatalf("%q: answered, encoding/json: %v", data, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("%q: answered, trailing data", data)
	}
	if len(top) != 2 || top["signed"] == nil || top["signatures"] == nil {
		t.Fatalf("%q: answered, members %v", data, top)
	}
	if !bytes.Equal(p.Signed, top["signed"]) {
		t.Fatalf("%q: Signed %q, encoding/json %q", data, p.Signed, top["signed"])
	}
	var sigs []map[string]any
	if err := json.Unmarshal(top["signatures"], &sigs); err != nil {
		t.Fatalf("%q: answered, signatures: %v", data, err)
	}
	if len(sigs) != len(p.Signatures) {
		t.Fatalf("%q: %d signatures, encoding/json %d", data, len(p.Signatures), len(sigs))
	}
	for i, s := range sigs {
		if s["keyid"] != p.Signatures[i].KeyID || s["sig"] != p.Signatures[i].Sig {
			t.Fatalf("%q: signature %d %+v, encoding/json %v", data, i, p.Signatures[i], s)
		}
	}
	// encoding/json's own reading into the envelope package's wire form agrees.
	var wire []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	if err := json.Unmarshal(top["signatures"], &wire); err != nil {
		t.Fatalf("%q: answered, signatures: %v", data, err)
	}
	for i, w := range wire {
		if w.KeyID != p.Signatures[i].KeyID || w.Sig != p.Signatures[i].Sig {
			t.Fatalf("%q: signature %d %+v, encoding/json %+v", data, i, p.Signatures[i], w)
		}
	}
	checkAccounted(t, data, &p.PlainLink, 2)
	checkSamePlain(t, p.Signed, &p.PlainLink)
	if p.Canonical != nil {
		want, err := genericCanonicalJSON(p.Signed)
		if err != nil {
			t.Fatalf("%q: canonical written, generic: %v", data, err)
		}
		if !bytes.Equal(p.Canonical, want) {
			t.Fatalf("%q: canonical\n%s\nwant\n%s", data, p.Canonical, want)
		}
	}
	return true, p.Canonical != nil
}

// checkAccounted fails when what p says of data (its link object at nesting level level) about
// nesting and repeated member names is not what encoding/json's tokens show.
func checkAccounted(t *testing.T, data []byte, p *PlainLink, level int) {
	t.Helper()
	if p.Level != level {
		t.Fatalf("%q: level %d, want %d", data, p.Level, level)
	}
	dupInUnchecked, depth := false, p.Depth
	for _, u := range p.Unchecked {
		if len(u) == 0 || !within(u, data) {
			t.Fatalf("%q: unchecked %q is not a value inside the document", data, u)
		}
		dupInUnchecked = dupInUnchecked || refDuplicate(u)
		depth = max(depth, p.Level+refNesting(u))
	}
	if refDuplicate(data) != dupInUnchecked {
		t.Fatalf("%q: answered, repeated member name %v, in the unchecked values %v", data, refDuplicate(data), dupInUnchecked)
	}
	if want := refNesting(data); depth != want {
		t.Fatalf("%q: depth %d (unchecked included), want %d", data, depth, want)
	}
}

// checkSamePlain fails when p is not what DecodePlainLink reads from payload.
func checkSamePlain(t *testing.T, payload []byte, p *PlainLink) {
	t.Helper()
	l, ok := DecodePlainLink(payload)
	if !ok {
		t.Fatalf("%q: answered, DecodePlainLink did not", payload)
	}
	if !reflect.DeepEqual(l, p.Link) {
		t.Fatalf("%q: link %+v, DecodePlainLink %+v", payload, p.Link, l)
	}
}

// checkPlainChecked fails when DecodePlainLinkChecked answers differently from DecodePlainLink, or
// misreports nesting or repeated member names.
func checkPlainChecked(t *testing.T, data []byte) {
	t.Helper()
	p, ok := DecodePlainLinkChecked(data)
	if _, okc := DecodePlainLink(data); okc != ok {
		t.Fatalf("%q: checked ok=%v, plain ok=%v", data, ok, okc)
	}
	if !ok {
		return
	}
	checkSamePlain(t, data, p)
	checkAccounted(t, data, p, 1)
}

// within tells whether sub lies inside b's bytes.
func within(sub, b []byte) bool {
	if len(sub) == 0 || len(b) == 0 {
		return false
	}
	s, lo := uintptr(unsafe.Pointer(&sub[0])), uintptr(unsafe.Pointer(&b[0]))
	return s >= lo && s+uintptr(len(sub)) <= lo+uintptr(len(b))
}

func TestPlainLegacyLink(t *testing.T) {
	t.Parallel()
	for _, c := range legacySeeds {
		ok, canon := checkPlainLegacy(t, []byte(c.doc))
		if c.want >= 0 && ok != (c.want == 1) {
			t.Errorf("%q: ok=%v, want %v", c.doc, ok, c.want == 1)
		}
		if ok && canon != (c.canon == 1) {
			t.Errorf("%q: canonical written %v, want %v", c.doc, canon, c.canon == 1)
		}
	}
	// The peers' own legacy links take the one pass, with the canonical form.
	for _, f := range []string{"in-toto-golang/write-code.b7d643de.link", "in-toto-golang/package.d3ffd108.link",
		"in-toto-python/demo_files/write-code.776a00e2.link", "in-toto-python/demo_files/package.2f89b927.link"} {
		if ok, canon := checkPlainLegacy(t, interoptest.Read(t, f)); !ok || !canon {
			t.Errorf("%s: ok=%v canonical=%v, want both", f, ok, canon)
		}
	}
	for _, d := range seedFiles(t) {
		checkPlainLegacy(t, []byte(d))
	}
}

func TestPlainLinkChecked(t *testing.T) {
	t.Parallel()
	docs := append([]string{plainPayload}, fastSeeds...)
	for _, c := range legacySeeds {
		if i := strings.Index(c.doc, `"signed":`); i >= 0 && strings.HasSuffix(c.doc, "}") {
			docs = append(docs, c.doc[i+len(`"signed":`):len(c.doc)-1])
		}
	}
	answered := 0
	for _, d := range append(docs, seedFiles(t)...) {
		checkPlainChecked(t, []byte(d))
		if _, ok := DecodePlainLinkChecked([]byte(d)); ok {
			answered++
		}
	}
	if answered < 10 {
		t.Errorf("answered for %d documents only", answered)
	}
}

// TestPlainLegacyLinkLarge: many artifacts (the set is presized after 256 of them), both sets.
func TestPlainLegacyLinkLarge(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	arts := func(prefix string, n int) {
		b.WriteString("{")
		for i := range n {
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, "%q: {\"sha256\": %q}", fmt.Sprintf("%s/%06d", prefix, i), hex64)
		}
		b.WriteString("}")
	}
	b.WriteString(`{"signatures": [{"keyid": "k", "sig": "00"}], "signed": {"_type": "link", "materials": `)
	arts("m", 1000)
	b.WriteString(`, "name": "x", "products": `)
	arts("p", 3000)
	b.WriteString("}}")
	ok, canon := checkPlainLegacy(t, []byte(b.String()))
	if !ok || !canon {
		t.Fatalf("ok=%v canonical=%v, want both", ok, canon)
	}
}

func FuzzPlainLegacyLink(f *testing.F) {
	for _, c := range legacySeeds {
		f.Add(c.doc)
	}
	for _, s := range seedFiles(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkPlainLegacy(t, []byte(doc))
		checkPlainChecked(t, []byte(doc))
	})
}
