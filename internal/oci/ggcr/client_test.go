package ggcr

import (
	"context"
	"encoding/json"
	"io"
	"log"
	"maps"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/oci"
)

func TestKeychainCIVariables(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"GITHUB_TOKEN": "ghtoken", "GITHUB_ACTOR": "octocat",
		"CI_REGISTRY": "registry.gitlab.example:5050", "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": "glpass",
	}
	kc := ciKeychain(ci.RegistryCredentials(func(k string) string { return env[k] }))
	cases := []struct {
		repo       string
		user, pass string
	}{
		{"ghcr.io/acme/app", "octocat", "ghtoken"},
		{"registry.gitlab.example:5050/grp/app", "gitlab-ci-token", "glpass"},
		// Neither token goes anywhere else.
		{"docker.io/library/alpine", "", ""},
		{"registry.gitlab.example/grp/app", "", ""},
		{"ghcr.io.evil.example/app", "", ""},
	}
	for _, c := range cases {
		repo, err := name.NewRepository(c.repo)
		if err != nil {
			t.Fatal(err)
		}
		a, err := kc.Resolve(repo)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := a.Authorization()
		if err != nil {
			t.Fatal(err)
		}
		if cfg.Username != c.user || cfg.Password != c.pass {
			t.Errorf("%s: got user %q pass %q, want %q %q", c.repo, cfg.Username, cfg.Password, c.user, c.pass)
		}
	}
	// GitLab credentials need both variables; a token alone is not sent with a made-up user.
	delete(env, "CI_REGISTRY_USER")
	kc = ciKeychain(ci.RegistryCredentials(func(k string) string { return env[k] }))
	repo, _ := name.NewRepository("registry.gitlab.example:5050/grp/app")
	if a, _ := kc.Resolve(repo); a != authn.Anonymous {
		t.Errorf("CI_REGISTRY_PASSWORD without a user gave %v, want anonymous", a)
	}
}

func TestUniqueNameKeepsFilesInTheDirectory(t *testing.T) {
	t.Parallel()
	h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat("0123456789abcdef", 4)}
	used := map[string]bool{}
	for _, c := range []struct {
		title string
		kind  oci.Kind
		want  string
	}{
		{"build.0123abcd.link", oci.KindLink, "build.0123abcd.link"},
		{"build.0123abcd.link", oci.KindLink, "referrer-0123456789abcdef.link"}, // taken
		{"../../etc/cron.d/x.link", oci.KindLink, "referrer-0123456789abcdef.link"},
		{".hidden.link", oci.KindLink, "referrer-0123456789abcdef.link"},
		{"a/b.link.sigstore.json", oci.KindLink, "referrer-0123456789abcdef.link.sigstore.json"},
		{"", oci.KindLayout, "referrer-0123456789abcdef.json"},
	} {
		delete(used, "referrer-0123456789abcdef.link")
		delete(used, "referrer-0123456789abcdef.link.sigstore.json")
		if got := uniqueName(c.title, h, c.kind, used); got != c.want {
			t.Errorf("uniqueName(%q) = %q, want %q", c.title, got, c.want)
		}
	}
}

// A tag-schema index is an ordinary tag: a manifest listed there whose subject is another image is
// skipped, and so is one the index lists but the registry no longer has.
func TestFetchChecksSubjectOfTagSchemaEntries(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(false), registry.Logger(log.New(io.Discard, "", 0))))
	t.Cleanup(srv.Close)
	host := strings.TrimPrefix(srv.URL, "http://")
	ctx := context.Background()
	cl := New(Options{})
	push := func(tag string) *oci.Image {
		img, err := random.Image(64, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := name.NewTag(host + "/app:" + tag)
		if err := remote.Write(ref, img); err != nil {
			t.Fatal(err)
		}
		got, err := cl.Resolve(ctx, ref.String())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	a, b := push("a"), push("b")
	if a.FromTag != "a" {
		t.Errorf("FromTag = %q, want a", a.FromTag)
	}
	link := oci.File{Name: "build.01234567.link", Kind: oci.KindLink, Data: []byte(`{"payloadType":"x","payload":"","signatures":[]}`)}
	if _, err := cl.Attach(ctx, a, []oci.File{link}); err != nil {
		t.Fatal(err)
	}
	pushedB, err := cl.Attach(ctx, b, []oci.File{{Name: "other.link", Kind: oci.KindLink, Data: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := cl.Fetch(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 1 || got.Files[0].Name != link.Name || string(got.Files[0].Data) != string(link.Data) || got.Files[0].Kind != oci.KindLink {
		t.Fatalf("control: fetched %+v", got.Files)
	}

	// Someone edits a's tag-schema index to list b's referrer too, and a digest that does not exist.
	tag, _ := name.NewTag(host + "/app:" + strings.Replace(a.Digest, ":", "-", 1))
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	var im v1.IndexManifest
	if err := json.Unmarshal(desc.Manifest, &im); err != nil {
		t.Fatal(err)
	}
	hb, _ := v1.NewHash(pushedB[0].Digest)
	// gone is pushed, listed, then deleted.
	goneImg, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	gone, _ := goneImg.Digest()
	goneRef := tag.Context().Digest(gone.String())
	if err := remote.Write(goneRef, goneImg); err != nil {
		t.Fatal(err)
	}
	im.Manifests = append(im.Manifests,
		v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: hb, Size: 100, ArtifactType: oci.ArtifactTypeLink},
		v1.Descriptor{MediaType: types.OCIManifestSchema1, Digest: gone, Size: 100, ArtifactType: oci.ArtifactTypeLink})
	if err := remote.Put(tag, rawIndex{im}); err != nil {
		t.Fatal(err)
	}
	if err := remote.Delete(goneRef); err != nil {
		t.Fatal(err)
	}
	got, err = cl.Fetch(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Files) != 1 || got.Files[0].Name != link.Name {
		t.Errorf("fetched %d files, want only a's own link", len(got.Files))
	}
	notes := strings.Join(got.Skipped, "\n")
	if !strings.Contains(notes, "its subject is not "+a.Digest) || !strings.Contains(notes, "listed but not in the registry") {
		t.Errorf("notes do not explain the skipped entries:\n%s", notes)
	}
}

type rawIndex struct{ im v1.IndexManifest }

func (r rawIndex) RawManifest() ([]byte, error)        { return json.Marshal(r.im) }
func (r rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

// FuzzUniqueName: whatever title a registry hands back, the local name is a plain file name inside the
// directory, and never one already used (each referrer has its own digest).
func FuzzUniqueName(f *testing.F) {
	for _, s := range []string{"build.0123abcd.link", "../x.link", ".link", "a/b", "", "x.link.sigstore.json", strings.Repeat("a", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, title string) {
		used := map[string]bool{}
		for i, k := range []oci.Kind{oci.KindLink, oci.KindLink, oci.KindLayout} {
			h := v1.Hash{Algorithm: "sha256", Hex: strings.Repeat(string(rune('a'+i)), 64)}
			was := maps.Clone(used)
			n := uniqueName(title, h, k, used)
			if n == "" || strings.ContainsAny(n, "/\\\x00") || n[0] == '.' || len(n) > 255 {
				t.Fatalf("uniqueName(%q) = %q: not a plain file name", title, n)
			}
			if was[n] || !used[n] {
				t.Fatalf("uniqueName(%q) = %q: reused, or not recorded", title, n)
			}
		}
	})
}
