package identity

import (
	"context"
	"testing"
)

// TestMasked: every token a masked source hands out is masked first (moved from cli's maskingSource);
// the name is the source's.
func TestMasked(t *testing.T) {
	t.Parallel()
	src, err := Detect(MapEnv(nil), Options{Token: "tok-123"})
	if err != nil {
		t.Fatal(err)
	}
	var masked []string
	m := Masked(src, func(s string) { masked = append(masked, s) })
	tok, err := m.Token(context.Background())
	if err != nil || tok != "tok-123" {
		t.Fatalf("token %q, %v", tok, err)
	}
	if len(masked) != 1 || masked[0] != "tok-123" {
		t.Errorf("masked %q, want the token once", masked)
	}
	if m.Name() != src.Name() {
		t.Errorf("name %q, want %q", m.Name(), src.Name())
	}
}
