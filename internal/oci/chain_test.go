package oci

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestReadChain: the files attach pushes, in order and typed (moved from cli/image.go chainFiles): a
// layout bundle carries the link predicate type, a VSA bundle the VSA's.
func TestReadChain(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bundle := []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"c2ln"}]}}`)
	dsse := []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"c2ln"}]}`)
	files := map[string][]byte{"root.layout.sigstore.json": bundle, "a.link": dsse, "b.sigstore.json": bundle, "vsa.json": bundle}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	got, err := ReadChain(Chain{Layout: p("root.layout.sigstore.json"), Links: []string{p("a.link"), p("b.sigstore.json")},
		VSA: p("vsa.json"), VSAPredicateType: "https://slsa.dev/verification_summary/v1"})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name      string
		kind      Kind
		predicate string
	}{
		{"root.layout.sigstore.json", KindLayout, LinkPredicateType},
		{"a.link", KindLink, ""},
		{"b.sigstore.json", KindLink, LinkPredicateType},
		{"vsa.json", KindVSA, "https://slsa.dev/verification_summary/v1"},
	}
	if len(got) != len(want) {
		t.Fatalf("%d files, want %d", len(got), len(want))
	}
	for i, w := range want {
		if got[i].Name != w.name || got[i].Kind != w.kind || got[i].PredicateType != w.predicate {
			t.Errorf("file %d: %s %s %q, want %s %s %q", i, got[i].Name, got[i].Kind, got[i].PredicateType, w.name, w.kind, w.predicate)
		}
	}
	if _, err := ReadChain(Chain{Layout: p("root.layout.sigstore.json"), Links: []string{p("missing")}}); !os.IsNotExist(err) {
		t.Errorf("missing link: %v", err)
	}
}

// TestAttachedLayout: the one attached layout is used; none or several is a refusal (moved from cli).
func TestAttachedLayout(t *testing.T) {
	t.Parallel()
	if l, err := AttachedLayout([]string{"x"}, "r@sha256:1"); l != "x" || err != nil {
		t.Errorf("one: %q %v", l, err)
	}
	var ce *LayoutChoiceError
	if _, err := AttachedLayout(nil, "r@sha256:1"); !errors.As(err, &ce) || err.Error() != "no layout is attached to r@sha256:1: give --layout" {
		t.Errorf("none: %v", err)
	}
	if _, err := AttachedLayout([]string{"x", "y"}, "r@sha256:1"); !errors.As(err, &ce) ||
		err.Error() != "2 layouts are attached to r@sha256:1: name the one to use with --layout" {
		t.Errorf("two: %v", err)
	}
}
