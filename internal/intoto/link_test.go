package intoto

import (
	"errors"
	"strings"
	"testing"
)

func TestLinkValidate(t *testing.T) {
	t.Parallel()
	ok := func() *Link {
		return &Link{Type: TypeLink, Name: "build", Products: NewArtifactSet(map[string]Digests{"a": {"sha256": "00ff"}}), Materials: ArtifactSet{}}
	}
	tests := []struct {
		name   string
		mutate func(*Link)
		want   string
	}{
		{"type", func(l *Link) { l.Type = "layout" }, "_type"},
		{"no name", func(l *Link) { l.Name = "" }, "no name"},
		{"no digest", func(l *Link) { l.Products = NewArtifactSet(map[string]Digests{"a": {}}) }, "no digest"},
		{"uppercase hex", func(l *Link) { l.Products = NewArtifactSet(map[string]Digests{"a": {"sha256": "00FF"}}) }, "lowercase hex"},
		{"not hex", func(l *Link) { l.Materials = NewArtifactSet(map[string]Digests{"m": {"sha256": "xyz"}}) }, "materials"},
		{"empty name", func(l *Link) { l.Materials = NewArtifactSet(map[string]Digests{"": {"sha256": "00"}}) }, "empty artifact name"},
	}
	if err := ok().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := ok()
			tt.mutate(l)
			err := l.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
}

func TestDigestsAgree(t *testing.T) {
	for _, c := range []struct {
		a, b Digests
		want bool
	}{
		{Digests{"sha256": "ab"}, Digests{"sha256": "AB"}, true},
		{Digests{"sha256": "ab", "sha512": "cd"}, Digests{"sha256": "ab"}, true},
		{Digests{"sha256": "ab", "sha512": "cd"}, Digests{"sha256": "ab", "sha512": "ce"}, false},
		{Digests{"sha256": "ab"}, Digests{"sha512": "ab"}, false}, // nothing shared
		{Digests{}, Digests{}, false},
	} {
		if got := c.a.Agree(c.b); got != c.want {
			t.Errorf("%v.Agree(%v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := c.b.Agree(c.a); got != c.want {
			t.Errorf("%v.Agree(%v) = %v, want %v", c.b, c.a, got, c.want)
		}
	}
}
