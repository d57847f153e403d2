package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func TestDecodeLinkFixtures(t *testing.T) {
	t.Parallel()
	want := map[string]string{
		"in-toto-golang/write-code.b7d643de.link":              "write-code",
		"in-toto-golang/package.d3ffd108.link":                 "package",
		"in-toto-golang/clone-dsse.776a00e2.link":              "clone-dsse",
		"in-toto-python/demo_files/write-code.776a00e2.link":   "write-code",
		"in-toto-python/demo_dsse_files/package.2f89b927.link": "package",
	}
	for _, f := range interoptest.Links {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			doc := interoptest.Payload(t, interoptest.Read(t, f))
			l, err := DecodeLink(doc)
			if err != nil {
				t.Fatal(err)
			}
			if err := l.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			if n, ok := want[f]; ok && l.Name != n {
				t.Errorf("got name %q, want %q", l.Name, n)
			}
			out, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			a, err := CanonicalJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			b, err := CanonicalJSON(out)
			if err != nil {
				t.Fatal(err)
			}
			if string(a) != string(b) {
				t.Errorf("round trip changed the link:\n got %s\nwant %s", b, a)
			}
			c, err := Canonical(l)
			if err != nil {
				t.Fatal(err)
			}
			if string(c) != string(a) {
				t.Errorf("Canonical(link) differs from CanonicalJSON(doc):\n got %s\nwant %s", c, a)
			}
		})
	}
}

func TestLinkExtraKept(t *testing.T) {
	t.Parallel()
	l, err := DecodeLink([]byte(`{"_type":"link","name":"a","command":[],"materials":{},"products":{},"byproducts":{},"environment":{},"x-ci":{"run":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if string(l.Extra["x-ci"]) != `{"run":1}` {
		t.Errorf("got Extra %s", l.Extra)
	}
	c, err := Canonical(l)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(c), `"x-ci":{"run":1}`) {
		t.Errorf("canonical lost the extra field: %s", c)
	}
}

func TestLinkMarshalNoNulls(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(&intoto.Link{Type: intoto.TypeLink, Name: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "null") {
		t.Errorf("got %s, want empty lists and objects", b)
	}
	if got := intoto.LinkFileName("build", "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5"); got != "build.776a00e2.link" {
		t.Errorf("got %s", got)
	}
}

func FuzzDecodeLink(f *testing.F) {
	for _, fx := range interoptest.Links {
		f.Add(interoptest.Payload(f, interoptest.Read(f, fx)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeLink(data)
		if err != nil {
			return
		}
		_ = l.Validate()
		if _, err := json.Marshal(l); err != nil {
			t.Fatalf("marshal decoded link: %v", err)
		}
		_, _ = Canonical(l) // must not panic; floats are refused
		if st, err := LinkToStatement(l); err == nil {
			if _, err := StatementToLink(st); err != nil {
				t.Fatalf("statement round trip: %v", err)
			}
		}
	})
}

// TestLinkMarshalFastPath checks that the hand-written link encoder writes what encoding/json writes.
func TestLinkMarshalFastPath(t *testing.T) {
	t.Parallel()
	links := []*intoto.Link{
		{},
		{Type: "link", Name: "a<b>&\"c\\", Command: []string{"sh", "-c", "echo \u2028 \x01 é"},
			Materials:  intoto.NewArtifactSet(map[string]intoto.Digests{"b": {"sha256": "ab"}, "a": {"sha512": "cd", "sha256": "ef"}, "\xff<x>": {"md5": "\n"}}),
			Products:   intoto.NewArtifactSet(map[string]intoto.Digests{"n": nil}),
			ByProducts: map[string]any{"return-value": 0, "stdout": "<html>"}, Environment: map[string]any{"x": []any{1.5}}},
		{Type: "link", Name: "empty", Command: []string{}, Materials: intoto.ArtifactSet{}, Products: intoto.NewArtifactSet(map[string]intoto.Digests{"p": {}})},
	}
	for i, l := range links {
		got, err := MarshalLink(l)
		if err != nil {
			t.Fatalf("link %d: %v", i, err)
		}
		want, err := json.Marshal(l) // intoto.Link.MarshalJSON: encoding/json, the oracle
		if err != nil {
			t.Fatalf("link %d: %v", i, err)
		}
		if string(got) != string(want) {
			t.Errorf("link %d: got\n%s\nwant\n%s", i, got, want)
		}
	}
}

func TestMarshalLinkIsJSONMarshal(t *testing.T) {
	t.Parallel()
	links := []*intoto.Link{
		{Type: intoto.TypeLink, Name: "a"},
		{Type: intoto.TypeLink, Name: "a<b>&c\u2028", Command: []string{"sh", "-c", "x > y && z\u2029"},
			Materials:   intoto.NewArtifactSet(map[string]intoto.Digests{"é/<x>": {"sha256": "ab", "sha512": "cd"}, "n": nil}),
			Products:    intoto.NewArtifactSet(map[string]intoto.Digests{"p&q": {"sha256": "ef"}, "bad\xffutf8": {"sha256": "01"}}),
			ByProducts:  map[string]any{"stdout": "<html>\u2028", "return-value": 0},
			Environment: map[string]any{"k": []any{"v", 1.5, nil}}},
		{Type: intoto.TypeLink, Name: "x", Extra: map[string]json.RawMessage{"z": json.RawMessage(` { "a" : "<" } `)}},
	}
	for i, l := range links {
		got, err := MarshalLink(l)
		if err != nil {
			t.Fatalf("link %d: MarshalLink: %v", i, err)
		}
		want, err := json.Marshal(l)
		if err != nil {
			t.Fatalf("link %d: json.Marshal: %v", i, err)
		}
		if string(got) != string(want) {
			t.Errorf("link %d: got %s, want %s", i, got, want)
		}
	}
}
