package wire

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// TestAppendLinkJSONExactSize checks that AppendLinkJSON writes encoding/json's bytes for the link
// after whatever b holds, and that it sizes its one allocation exactly: the result has no spare
// capacity, so a large link is neither copied by append's growth nor held with unused room.
func TestAppendLinkJSONExactSize(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("0f", 32)
	links := []*intoto.Link{
		{Type: intoto.TypeLink, Name: "empty"},
		{Type: intoto.TypeLink, Name: "plain", Command: []string{"make", "dist"},
			Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"src/a.go": {"sha256": h}, "src/b.go": {"sha256": h}}),
			Products:  intoto.NewArtifactSet(map[string]intoto.Digests{"dist/app": {"sha256": h}})},
		{Type: intoto.TypeLink, Name: "esc<aped>&\"", Command: []string{"echo", "é\u2028\x01"},
			ByProducts:  map[string]any{"return-value": 3, "stdout": "<out>\n", "stderr": "é"},
			Environment: map[string]any{"k": []any{"v", 1.5, nil}},
			Materials:   intoto.NewArtifactSet(map[string]intoto.Digests{"é": {"sha256": h}, "a&b": nil, "\x7f\"q\\": {"sha256": h}}),
			Products: intoto.NewArtifactSet(map[string]intoto.Digests{"upper": {"sha256": strings.ToUpper(h)}, "none": {}, "two": {"sha512": "x", "sha256": h},
				"short": {"sha256": h[:10]}, "other": {"md5": "y<>"}})},
	}
	for _, l := range links {
		want, err := l.MarshalJSON()
		if err != nil {
			t.Fatalf("%s: encoding/json: %v", l.Name, err)
		}
		for _, prefix := range [][]byte{nil, []byte("0123456789"), make([]byte, 3, 5)} {
			in := prefix
			if in != nil {
				in = in[:len(in):len(in)] // no spare room: the function must grow it, once
			}
			got, err := AppendLinkJSON(in, l)
			if err != nil {
				t.Fatalf("%s: %v", l.Name, err)
			}
			if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("%s: got\n%s\nwant %q +\n%s", l.Name, got, prefix, want)
			}
			if cap(got) != len(got) {
				t.Errorf("%s: capacity %d for %d bytes: the size was not worked out exactly", l.Name, cap(got), len(got))
			}
		}
		// Room enough already: nothing is allocated, the bytes land in b's own array.
		big := make([]byte, 4, 4+len(want))
		got, err := AppendLinkJSON(big, l)
		if err != nil || &got[0] != &big[0] || !bytes.Equal(got[4:], want) {
			t.Errorf("%s: with room enough the result is not b's array (err %v)", l.Name, err)
		}
	}
}

// TestAppendLinkJSONExtra covers links with unknown fields, which take the generic encoder.
func TestAppendLinkJSONExtra(t *testing.T) {
	t.Parallel()
	l := &intoto.Link{Type: intoto.TypeLink, Name: "x", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"p": {"sha256": strings.Repeat("a", 64)}}),
		Extra: map[string]json.RawMessage{"z": []byte(`{"n":1}`)}}
	want, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendLinkJSON([]byte("ab"), l)
	if err != nil || string(got) != "ab"+string(want) {
		t.Fatalf("got %s, %v; want ab%s", got, err, want)
	}
}

// TestAppendLinkCanonical checks the canonical encoder against CanonicalJSON of the link's JSON
// (what legacy envelopes sign), exact sizing included, and that it refuses what CanonicalJSON refuses.
func TestAppendLinkCanonical(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("0f", 32)
	links := []*intoto.Link{
		{Type: intoto.TypeLink, Name: "empty"},
		{Type: intoto.TypeLink, Name: "plain", Command: []string{"make", "dist"},
			ByProducts:  map[string]any{"return-value": 0, "stdout": "", "stderr": "", "truncated": true},
			Environment: map[string]any{"n": 2.0, "list": []any{"a", int64(-3)}, "nested": map[string]any{"b": nil, "a": "x"}},
			Materials:   intoto.NewArtifactSet(map[string]intoto.Digests{"src/a.go": {"sha256": h}, "src/b.go": {"sha256": h}}),
			Products:    intoto.NewArtifactSet(map[string]intoto.Digests{"dist/app": {"sha256": h}})},
		{Type: "li\"nk\\", Name: "esc<aped>&\"\xff", Command: []string{"echo", "é\u2028\x01\xfe\xfe"},
			ByProducts: map[string]any{"stdout": "<out>\n\xff", "stderr": "é"},
			Materials:  intoto.NewArtifactSet(map[string]intoto.Digests{"é": {"sha256": h}, "a&b": nil, "\x7f\"q\\": {"sha256": h}, "\t": {"sha256": h}}),
			Products: intoto.NewArtifactSet(map[string]intoto.Digests{"upper": {"sha256": strings.ToUpper(h)}, "none": {}, "two": {"sha512": "x", "sha256": h},
				"short": {"sha256": h[:10]}, "other": {"md5": "y<>\"\\"}})},
		// Invalid UTF-8 in names: two of them become one name once decoded.
		{Type: intoto.TypeLink, Name: "bad", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a\xff": {"sha256": h}, "a\xfe": {"sha256": h}, "a": {"sha256": h}})},
		{Type: intoto.TypeLink, Name: "extra", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"p": {"sha256": h}}),
			Extra: map[string]json.RawMessage{"zz": []byte(`{"b":1,"a":[true]}`)}},
	}
	for _, l := range links {
		raw, err := l.MarshalJSON()
		if err != nil {
			t.Fatal(err)
		}
		want, err := CanonicalJSON(raw)
		if err != nil {
			t.Fatalf("%q: %v", l.Name, err)
		}
		got, err := AppendLinkCanonical([]byte("pre")[:3:3], l)
		if err != nil || string(got) != "pre"+string(want) {
			t.Fatalf("%q: err %v, got\n%s\nwant pre +\n%s", l.Name, err, got, want)
		}
		if cap(got) != len(got) && len(l.Extra) == 0 && l.Name != "bad" {
			t.Errorf("%q: capacity %d for %d bytes: the size was not worked out exactly", l.Name, cap(got), len(got))
		}
	}
	for _, env := range []map[string]any{{"f": 1.5}, {"big": uint64(1 << 63)}, {"deep": []any{map[string]any{"x": 0.1}}}} {
		l := &intoto.Link{Type: intoto.TypeLink, Name: "refused", Environment: env}
		_, werr := CanonicalJSON(must(l.MarshalJSON()))
		_, err := AppendLinkCanonical(nil, l)
		if werr == nil || err == nil {
			t.Errorf("%v: CanonicalJSON %v, AppendLinkCanonical %v; want both to refuse", env, werr, err)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
