package linkfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// TestSignDocument: what `intoto-ci sign` decides about a file (moved here from cli/sign.go). A bare
// link is sealed in the chosen envelope and verifies with the key; a DSSE envelope takes one more
// signature that verifies; what is neither a layout nor a link, and a link that does not decode, are
// input errors naming the file.
func TestSignDocument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	carol, danny := interopKey(t, "in-toto-golang/carol"), interopKey(t, "in-toto-python/demo_files/danny")
	link := &intoto.Link{Type: intoto.TypeLink, Name: "build", Command: []string{}, ByProducts: map[string]any{},
		Environment: map[string]any{}, Materials: intoto.ArtifactSet{}, Products: intoto.ArtifactSet{}}
	bare, err := wire.MarshalLink(link)
	if err != nil {
		t.Fatal(err)
	}
	for _, env := range []string{"dsse", "legacy"} {
		s, err := New(Options{Keys: []*keys.Key{carol}, Envelope: env})
		if err != nil {
			t.Fatal(err)
		}
		out, err := s.SignDocument(ctx, "build.link", bare)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		signed, err := envelope.Parse(out)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if err := signed.VerifyKey(carol); err != nil {
			t.Errorf("%s: carol's signature does not verify: %v", env, err)
		}
		if env == "dsse" {
			s2, _ := New(Options{Keys: []*keys.Key{danny}})
			twice, err := s2.SignDocument(ctx, "build.link", out)
			if err != nil {
				t.Fatal(err)
			}
			signed2, err := envelope.Parse(twice)
			if err != nil {
				t.Fatal(err)
			}
			if signed2.VerifyKey(carol) != nil || signed2.VerifyKey(danny) != nil || len(signed2.KeyIDs()) != 2 {
				t.Errorf("appended signature: key ids %v, want carol's and danny's, both verifying", signed2.KeyIDs())
			}
		}
	}
	s, _ := New(Options{Keys: []*keys.Key{carol}})
	for name, data := range map[string]string{
		"neither": `{"_type": "thing"}`,
		"badlink": `{"_type": "link", "name": 3}`,
		"notjson": `{`,
	} {
		_, err := s.SignDocument(ctx, name, []byte(data))
		var ie *InputError
		if !errors.As(err, &ie) || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s: err %v, want an input error naming the file", name, err)
		}
	}
}

// TestReadLink reads a link from a signed file whatever the envelope, without checking signatures.
func TestReadLink(t *testing.T) {
	t.Parallel()
	carol := interopKey(t, "in-toto-golang/carol")
	link := &intoto.Link{Type: intoto.TypeLink, Name: "pkg", Command: []string{"tar"}, ByProducts: map[string]any{},
		Environment: map[string]any{}, Materials: intoto.ArtifactSet{},
		Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a.tar": {"sha256": strings.Repeat("ab", 32)}})}
	bare, err := wire.MarshalLink(link)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, env := range []string{"dsse", "legacy"} {
		s, _ := New(Options{Keys: []*keys.Key{carol}, Envelope: env})
		out, err := s.SignDocument(context.Background(), "pkg.link", bare)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, env+".link")
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := ReadLink(path)
		if err != nil {
			t.Fatalf("%s: %v", env, err)
		}
		if d, ok := got.Products.Lookup("a.tar"); got.Name != "pkg" || !ok || d.Digests()["sha256"] != strings.Repeat("ab", 32) {
			t.Errorf("%s: read %+v", env, got)
		}
	}
	if _, err := ReadLink(filepath.Join(dir, "missing.link")); err == nil {
		t.Error("a missing file read")
	}
}
