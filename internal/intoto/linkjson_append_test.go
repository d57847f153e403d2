package intoto

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// TestAppendLinkSetsJSONExactSize checks that AppendLinkSetsJSON writes MarshalLink's bytes after
// whatever b holds, and that it sizes its one allocation exactly: the result has no spare capacity,
// so a large link is neither copied by append's growth nor held with unused room.
func TestAppendLinkSetsJSONExactSize(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("0f", 32)
	links := []*Link{
		{Type: TypeLink, Name: "empty"},
		{Type: TypeLink, Name: "plain", Command: []string{"make", "dist"},
			Materials: Artifacts{"src/a.go": {"sha256": h}, "src/b.go": {"sha256": h}},
			Products:  Artifacts{"dist/app": {"sha256": h}}},
		{Type: TypeLink, Name: "esc<aped>&\"", Command: []string{"echo", "é\u2028\x01"},
			ByProducts:  map[string]any{"return-value": 3, "stdout": "<out>\n", "stderr": "é"},
			Environment: map[string]any{"k": []any{"v", 1.5, nil}},
			Materials:   Artifacts{"é": {"sha256": h}, "a&b": nil, "\x7f\"q\\": {"sha256": h}},
			Products: Artifacts{"upper": {"sha256": strings.ToUpper(h)}, "none": {}, "two": {"sha512": "x", "sha256": h},
				"short": {"sha256": h[:10]}, "other": {"md5": "y<>"}}},
	}
	for _, l := range links {
		want, err := MarshalLink(l)
		if err != nil {
			t.Fatalf("%s: MarshalLink: %v", l.Name, err)
		}
		m, p := NewArtifactSet(l.Materials), NewArtifactSet(l.Products)
		for _, prefix := range [][]byte{nil, []byte("0123456789"), make([]byte, 3, 5)} {
			in := prefix
			if in != nil {
				in = in[:len(in):len(in)] // no spare room: the function must grow it, once
			}
			got, err := AppendLinkSetsJSON(in, l, m, p)
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
		got, err := AppendLinkSetsJSON(big, l, m, p)
		if err != nil || &got[0] != &big[0] || !bytes.Equal(got[4:], want) {
			t.Errorf("%s: with room enough the result is not b's array (err %v)", l.Name, err)
		}
	}
}

// TestAppendLinkSetsJSONExtra covers links with unknown fields, which take the generic encoder.
func TestAppendLinkSetsJSONExtra(t *testing.T) {
	t.Parallel()
	l := &Link{Type: TypeLink, Name: "x", Products: Artifacts{"p": {"sha256": strings.Repeat("a", 64)}},
		Extra: map[string]json.RawMessage{"z": []byte(`{"n":1}`)}}
	want, err := MarshalLink(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendLinkSetsJSON([]byte("ab"), l, NewArtifactSet(l.Materials), NewArtifactSet(l.Products))
	if err != nil || string(got) != "ab"+string(want) {
		t.Fatalf("got %s, %v; want ab%s", got, err, want)
	}
}

// TestAppendLinkSetsCanonical checks the canonical encoder against CanonicalJSON of the link's JSON
// (what legacy envelopes sign), exact sizing included, and that it refuses what CanonicalJSON refuses.
func TestAppendLinkSetsCanonical(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("0f", 32)
	links := []*Link{
		{Type: TypeLink, Name: "empty"},
		{Type: TypeLink, Name: "plain", Command: []string{"make", "dist"},
			ByProducts:  map[string]any{"return-value": 0, "stdout": "", "stderr": "", "truncated": true},
			Environment: map[string]any{"n": 2.0, "list": []any{"a", int64(-3)}, "nested": map[string]any{"b": nil, "a": "x"}},
			Materials:   Artifacts{"src/a.go": {"sha256": h}, "src/b.go": {"sha256": h}},
			Products:    Artifacts{"dist/app": {"sha256": h}}},
		{Type: "li\"nk\\", Name: "esc<aped>&\"\xff", Command: []string{"echo", "é\u2028\x01\xfe\xfe"},
			ByProducts: map[string]any{"stdout": "<out>\n\xff", "stderr": "é"},
			Materials:  Artifacts{"é": {"sha256": h}, "a&b": nil, "\x7f\"q\\": {"sha256": h}, "\t": {"sha256": h}},
			Products: Artifacts{"upper": {"sha256": strings.ToUpper(h)}, "none": {}, "two": {"sha512": "x", "sha256": h},
				"short": {"sha256": h[:10]}, "other": {"md5": "y<>\"\\"}}},
		// Invalid UTF-8 in names: two of them become one name once decoded.
		{Type: TypeLink, Name: "bad", Products: Artifacts{"a\xff": {"sha256": h}, "a\xfe": {"sha256": h}, "a": {"sha256": h}}},
		{Type: TypeLink, Name: "extra", Products: Artifacts{"p": {"sha256": h}},
			Extra: map[string]json.RawMessage{"zz": []byte(`{"b":1,"a":[true]}`)}},
	}
	for _, l := range links {
		m, p := NewArtifactSet(l.Materials), NewArtifactSet(l.Products)
		raw, err := MarshalLinkSets(l, m, p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := CanonicalJSON(raw)
		if err != nil {
			t.Fatalf("%q: %v", l.Name, err)
		}
		got, err := AppendLinkSetsCanonical([]byte("pre")[:3:3], l, m, p)
		if err != nil || string(got) != "pre"+string(want) {
			t.Fatalf("%q: err %v, got\n%s\nwant pre +\n%s", l.Name, err, got, want)
		}
		if cap(got) != len(got) && len(l.Extra) == 0 && l.Name != "bad" {
			t.Errorf("%q: capacity %d for %d bytes: the size was not worked out exactly", l.Name, cap(got), len(got))
		}
	}
	for _, env := range []map[string]any{{"f": 1.5}, {"big": uint64(1 << 63)}, {"deep": []any{map[string]any{"x": 0.1}}}} {
		l := &Link{Type: TypeLink, Name: "refused", Environment: env}
		_, werr := CanonicalJSON(must(MarshalLink(l)))
		_, err := AppendLinkSetsCanonical(nil, l, ArtifactSet{}, ArtifactSet{})
		if werr == nil || err == nil {
			t.Errorf("%v: CanonicalJSON %v, AppendLinkSetsCanonical %v; want both to refuse", env, werr, err)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
