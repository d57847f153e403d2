package wire

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// fastSeeds are documents at the edges of the fast paths' plain shape.
var fastSeeds = []string{
	`{"_type":"link","name":"a","command":["x"],"materials":{"a":{"sha256":"ab"}},"products":{},"byproducts":{"stdout":"l1\nl2","return-value":0},"environment":{}}`,
	` {"name":"a" , "_type" : "link","materials":null,"products":{"p":null,"q":{}}} `,
	`{"_type":"link","name":"a","materials":{"a":{"sha256":"ab"},"a":{"sha256":"cd"}}}`,
	`{"_type":"link","name":"a","name":"b"}`,
	`{"_type":"link","Name":"b"}`,
	`{"_type":"link","name":"a","extra":1}`,
	`{"_type":"link","name":"a\u0041"}`,
	`{"_type":"link","name":"é"}`,
	`{"_type":"link","name":"a","byproducts":{"return-value":1.5}}`,
	`{"signed":{"a":[1,-2,true,false,null,{},[]]},"signatures":[{"keyid":"k","sig":"00"}],"signed":null}`,
	`{"a":01}`, `{"a":[1,]}`, `{"a":{"b" 1}}`, `{"a":tru}`, `{"a":1}x`, `{"a":"\x01"}`, `{}`, `[]`,
	`{"_type":"link","name":"a","command":"x"}`,
	`{"_type":"link","name":"a","materials":{"a":{"sha256":"ab","sha256":"cd"}}}`,
	`{"_type":"link","name":"a"} x`,
	`{"_type":"link","name":"a",}`,
	`{"a":1,"b":-0,"c":[true,false,null,{}],"d":"x"}`,
	`{"b":1,"a":2}`,
	`{"a":01}`,
	`{"a":1e3}`,
	`{"a":99999999999999999999}`,
	`[1, 2 ,{"z":[]}]`,
	`"\"x\""`,
	`{"a":{"b":{"c":"d"}}, "b": [ ] }`,
	`{}`, `[]`, ``, `{`, `{"a"`, `{"a":}`, `nul`, `{"a":1}}`,
}

func seedFiles(t testing.TB) []string {
	var out []string
	for _, dir := range []string{"testdata", filepath.Join("..", "..", "testdata")} {
		_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (filepath.Ext(p) == ".link" || filepath.Ext(p) == ".layout" || filepath.Ext(p) == ".json") {
				if b, err := os.ReadFile(p); err == nil && len(b) < 1<<20 {
					out = append(out, string(b))
				}
			}
			return nil
		})
	}
	return out
}

// checkFastCanonical fails when the fast canonical path answers differently from the generic one.
func checkFastCanonical(t *testing.T, doc string) {
	fast, ok := fastCanonical([]byte(doc))
	if !ok {
		return
	}
	slow, err := genericCanonicalJSON([]byte(doc))
	if err != nil {
		t.Fatalf("fast path accepted %q, generic path: %v", doc, err)
	}
	if string(fast) != string(slow) {
		t.Fatalf("%q: fast %s, generic %s", doc, fast, slow)
	}
}

// checkFastLink fails when the fast link decoder answers differently from the generic one.
func checkFastLink(t *testing.T, doc string) {
	fast, ok := fastDecodeLink([]byte(doc))
	if !ok {
		return
	}
	var slow intoto.Link
	if err := slow.UnmarshalJSON([]byte(doc)); err != nil {
		t.Fatalf("fast path accepted %q, generic path: %v", doc, err)
	}
	if !reflect.DeepEqual(*fast, slow) {
		t.Fatalf("%q: fast %+v, generic %+v", doc, *fast, slow)
	}
	checkMarshal(t, fast)
}

// checkMarshal fails when MarshalLink(l) differs from encoding/json's encoding of l.
func checkMarshal(t *testing.T, l *intoto.Link) {
	t.Helper()
	want, err := l.MarshalJSON()
	if err != nil {
		return
	}
	got, err := MarshalLink(l)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("MarshalLink = %s, %v; encoding/json = %s", got, err, want)
	}
}

func TestMarshalLink(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("ab", 32)
	for _, l := range []*intoto.Link{
		{Type: intoto.TypeLink, Name: "a"},
		{Type: intoto.TypeLink, Name: "a<b>", Command: []string{"x"}, Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"é": {"sha256": h}, "a&": nil}),
			Products: intoto.NewArtifactSet(map[string]intoto.Digests{"p": {"sha256": strings.ToUpper(h)}, "q": {}, "r": {"sha512": "x", "sha256": h}, "s": {"sha256": h[:10]}})},
		{Type: intoto.TypeLink, Name: "x", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"p": {"sha256": h}}), Extra: map[string]json.RawMessage{"z": []byte(`1`)}},
	} {
		checkMarshal(t, l)
	}
}

// checkPlainMembers fails when PlainObjectMembers answers differently from encoding/json's decoding
// into a map of raw messages (what envelope.Parse falls back to).
func checkPlainMembers(t *testing.T, doc string) {
	keys, vals, ok := PlainObjectMembers([]byte(doc))
	if !ok {
		return
	}
	var slow map[string]json.RawMessage
	if err := json.Unmarshal([]byte(doc), &slow); err != nil {
		t.Fatalf("plain members accepted %q, encoding/json: %v", doc, err)
	}
	fast := map[string]json.RawMessage{}
	for i, k := range keys {
		fast[k] = vals[i]
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%q: plain members %q, encoding/json %q", doc, fast, slow)
	}
}

func TestFastPathsMatchGeneric(t *testing.T) {
	t.Parallel()
	docs := append(append([]string{}, fastSeeds...), seedFiles(t)...)
	for _, d := range docs {
		checkFastCanonical(t, d)
		checkFastLink(t, d)
		checkPlainMembers(t, d)
		// The payload of a legacy envelope is what both paths see in verify.
		for _, sub := range []string{`"signed":`, `"signed": `} {
			if i := indexOf(d, sub); i >= 0 {
				checkFastCanonical(t, d[i+len(sub):len(d)-1])
			}
		}
	}
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func FuzzFastPaths(f *testing.F) {
	for _, s := range fastSeeds {
		f.Add(s)
	}
	for _, s := range seedFiles(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		checkFastCanonical(t, doc)
		checkFastLink(t, doc)
		checkPlainMembers(t, doc)
	})
}

func TestDecodePlainLinkValidates(t *testing.T) {
	t.Parallel()
	docs := append(append([]string{
		`{"_type":"link","name":"a","materials":{"a":{"sha256":"AB"}}}`,
		`{"_type":"link","name":"a","materials":{"":{"sha256":"ab"}}}`,
		`{"_type":"link","name":"a","materials":{"a":{}}}`,
		`{"_type":"link","name":"a","products":{"a":null}}`,
		`{"_type":"link","name":"a","products":{"a":{"":"ab"}}}`,
		`{"_type":"link","name":"a","products":{"a":{"sha256":"abc"}}}`,
		`{"_type":"link","name":"","products":{}}`,
		`{"_type":"layout","name":"a"}`,
	}, fastSeeds...), seedFiles(t)...)
	for _, d := range docs {
		l, ok := DecodePlainLink([]byte(d))
		if !ok {
			continue
		}
		g := &intoto.Link{}
		if err := g.UnmarshalJSON([]byte(d)); err != nil {
			t.Fatalf("%q: plain ok, generic decoding: %v", d, err)
		}
		if err := g.Validate(); err != nil {
			t.Fatalf("%q: plain ok, Validate: %v", d, err)
		}
		if !reflect.DeepEqual(l, g) {
			t.Fatalf("%q: plain %+v, generic %+v", d, l, g)
		}
	}
}

// TestPlainASCII compares the word-at-a-time check with the byte loop it replaces, for every byte
// value at every position of strings up to three words long, in otherwise plain strings.
func TestPlainASCII(t *testing.T) {
	t.Parallel()
	slow := func(b []byte) bool {
		for _, c := range b {
			if c < 0x20 || c >= 0x7f || c == '\\' {
				return false
			}
		}
		return true
	}
	for n := 0; n <= 24; n++ {
		b := bytes.Repeat([]byte{'a'}, n)
		if !plainASCII(b) {
			t.Fatalf("%q refused", b)
		}
		for i := range n {
			for c := range 256 {
				b[i] = byte(c)
				if got, want := plainASCII(b), slow(b); got != want {
					t.Fatalf("%q: %v, want %v", b, got, want)
				}
				// Next to a byte that sets the high bit or borrows.
				if i > 0 {
					for _, o := range []byte{0x00, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff, '\\', '['} {
						b[i-1] = o
						if got, want := plainASCII(b), slow(b); got != want {
							t.Fatalf("%q: %v, want %v", b, got, want)
						}
					}
					b[i-1] = 'a'
				}
			}
			b[i] = 'a'
		}
	}
}
