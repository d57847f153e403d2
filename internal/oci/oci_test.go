package oci

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteChain keeps links and layouts apart (a link and a layout of one name do not clash) and leaves
// out what is no input of a verification.
func TestWriteChain(t *testing.T) {
	t.Parallel()
	f := &Fetched{Files: []File{
		{Name: "build.link", Kind: KindLink, Data: []byte("link")},
		{Name: "root.layout", Kind: KindLayout, Data: []byte("layout")},
		{Name: "root.layout", Kind: KindLink, Data: []byte("a link named like the layout")},
		{Name: "vsa.json", Kind: KindVSA, Data: []byte("vsa")},
	}}
	dir := t.TempDir()
	links, layouts, n, err := f.WriteChain(dir)
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 || len(layouts) != 1 {
		t.Fatalf("%d links, layouts %v", n, layouts)
	}
	for path, want := range map[string]string{
		filepath.Join(links, "build.link"):  "link",
		filepath.Join(links, "root.layout"): "a link named like the layout",
		layouts[0]:                          "layout",
	} {
		if got, err := os.ReadFile(path); err != nil || string(got) != want {
			t.Errorf("%s: %q, %v; want %q", path, got, err, want)
		}
	}
	if _, err := os.Stat(filepath.Join(links, "vsa.json")); !os.IsNotExist(err) {
		t.Errorf("the VSA was written: %v", err)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dsse := filepath.Join(dir, "a.link")
	bundle := filepath.Join(dir, "b.sigstore.json")
	if err := os.WriteFile(dsse, []byte(`{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"keyid":"k","sig":"c2ln"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bundle, []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"c2ln"}]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(dsse, KindLink, LinkPredicateType)
	if err != nil || f.Name != "a.link" || f.Bundle || f.PredicateType != "" {
		t.Errorf("DSSE file: %+v, %v", f, err)
	}
	f, err = ReadFile(bundle, KindLink, LinkPredicateType)
	if err != nil || !f.Bundle || f.PredicateType != LinkPredicateType {
		t.Errorf("bundle: %+v, %v", f, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), KindLink, ""); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}
