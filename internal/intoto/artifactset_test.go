package intoto

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestArtifactSet(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("ab", 32)
	m := map[string]Digests{"b": {"sha256": h}, "a": {"sha256": "00"}, "c": {"sha512": "ff", "sha256": h}, "d": nil}
	s := NewArtifactSet(m)
	if got := s.Names(); !slices.Equal(got, []string{"a", "b", "c", "d"}) {
		t.Fatalf("names %q, want sorted", got)
	}
	var order []string
	for name, d := range s.All() {
		order = append(order, name)
		if !reflect.DeepEqual(d.Digests(), m[name]) {
			t.Errorf("%s: digests %v, want %v", name, d.Digests(), m[name])
		}
	}
	if !slices.Equal(order, s.Names()) {
		t.Errorf("All yields %q, want name order", order)
	}
	if d, ok := s.Lookup("b"); !ok {
		t.Error("Lookup(b) found nothing")
	} else if sum, ok := d.SHA256(); !ok || fmt.Sprintf("%x", sum) != h {
		t.Errorf("b: SHA256 %x %v, want the compact form of %s", sum, ok, h)
	}
	if _, ok := s.Lookup("zz"); ok {
		t.Error("Lookup(zz) found something")
	}
	for _, name := range []string{"a", "c", "d"} {
		if d, _ := s.Lookup(name); func() bool { _, ok := d.SHA256(); return ok }() {
			t.Errorf("%s: held in the compact form, but is not exactly one lowercase sha256", name)
		}
	}
	if !reflect.DeepEqual(s.Map(), m) {
		t.Errorf("Map %v, want %v", s.Map(), m)
	}
	// JSON through encoding/json: the map's encoding, and back.
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := json.Marshal(m); string(raw) != string(want) {
		t.Errorf("JSON %s, want %s", raw, want)
	}
	var back ArtifactSet
	if err := json.Unmarshal(raw, &back); err != nil || !reflect.DeepEqual(back, s) || !back.Equal(s) {
		t.Errorf("JSON round trip: %v, %v", back, err)
	}
	other := NewArtifactSet(map[string]Digests{"a": {"sha256": "00"}, "b": {"sha256": h}, "c": {"sha256": h}, "d": nil})
	if s.Equal(other) || s.Equal(ArtifactSet{}) {
		t.Error("sets with other digests or other names are Equal")
	}
	// The empty set is the zero value, however it is made.
	for _, e := range []ArtifactSet{NewArtifactSet(nil), NewArtifactSet(map[string]Digests{})} {
		if !reflect.DeepEqual(e, ArtifactSet{}) {
			t.Errorf("empty set %#v is not the zero value", e)
		}
	}
	if raw, _ := json.Marshal(ArtifactSet{}); string(raw) != "{}" {
		t.Errorf("empty set JSON %s, want {}", raw)
	}
}

func TestArtifactSetBuilder(t *testing.T) {
	t.Parallel()
	h := strings.Repeat("0f", 32)
	d, ok := ParseSHA256Digest(h)
	if !ok {
		t.Fatal("ParseSHA256Digest refused 64 lowercase hex digits")
	}
	for _, bad := range []string{h[:62], strings.ToUpper(h), h[:63] + "g"} {
		if _, ok := ParseSHA256Digest(bad); ok {
			t.Errorf("ParseSHA256Digest(%q) accepted it", bad)
		}
	}
	for _, names := range [][]string{{"a", "b", "c"}, {"c", "a", "b"}, {"b", "a"}} {
		var b ArtifactSetBuilder
		for i, n := range names {
			b.Add([]byte(n), d)
			if i == 0 {
				b.Expect(100)
			}
		}
		if b.Sorted() != slices.IsSorted(names) || b.Len() != len(names) {
			t.Errorf("%q: Sorted %v, Len %d", names, b.Sorted(), b.Len())
		}
		s, ok := b.Build()
		if want := slices.Sorted(slices.Values(names)); !ok || !slices.Equal(s.Names(), want) {
			t.Errorf("%q: built %q (ok %v), want %q", names, s.Names(), ok, want)
		}
	}
	var dup ArtifactSetBuilder
	for _, n := range []string{"b", "a", "b"} {
		dup.Add([]byte(n), d)
	}
	if _, ok := dup.Build(); ok {
		t.Error("a repeated name built a set")
	}
	var empty ArtifactSetBuilder
	if s, ok := empty.Build(); !ok || !reflect.DeepEqual(s, ArtifactSet{}) {
		t.Errorf("empty builder: %#v, %v", s, ok)
	}
}

func TestDigestAgree(t *testing.T) {
	t.Parallel()
	h, g := strings.Repeat("ab", 32), strings.Repeat("cd", 32)
	for _, c := range []struct {
		a, b Digests
		want bool
	}{
		{Digests{"sha256": h}, Digests{"sha256": h}, true},
		{Digests{"sha256": h}, Digests{"sha256": g}, false},
		{Digests{"sha256": h}, Digests{"sha256": strings.ToUpper(h)}, true},
		{Digests{"sha256": h}, Digests{"sha256": h, "sha512": "00"}, true},
		{Digests{"sha256": h}, Digests{"sha512": "00"}, false},
	} {
		if got := NewDigest(c.a).Agree(NewDigest(c.b)); got != c.want || got != c.a.Agree(c.b) {
			t.Errorf("%v agree %v: %v, want %v (as Digests.Agree)", c.a, c.b, got, c.want)
		}
	}
}
