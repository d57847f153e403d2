package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/registrytest"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/oci"
	"github.com/intoto-ci/intoto-ci/internal/oci/ggcr"
	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/fixture"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
)

// tool finds a binary .ci/setup installs: a missing one skips the test, or fails it under CI=true.
func tool(t testing.TB, name string) string { return fixture.Tool(t, "run .ci/setup", name) }

// pushImage pushes a small random image to host/repo:tag and returns its digest reference.
func pushImage(t testing.TB, host, repo string) (name.Digest, []byte) {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	tag, err := name.NewTag(host + "/" + repo + ":v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		t.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := img.RawManifest()
	if err != nil {
		t.Fatal(err)
	}
	return tag.Context().Digest(d.String()), raw
}

// imageChain is a key-signed three-step chain (source, build, image) whose last step writes an image
// manifest as its product image.json.
type imageChain struct {
	dir, keys, links, work, layout string
}

// newImageKeys makes alice (layout owner), bob (functionary) and mallory (trusted by nobody).
func newImageKeys(t testing.TB) (string, *keys.Key) {
	t.Helper()
	keys := t.TempDir()
	newKey(t, keys, "alice")
	newKey(t, keys, "mallory")
	return keys, newKey(t, keys, "bob")
}

// writeImageLayout writes root.layout in dir signed by signer (a key file name in keys).
func writeImageLayout(t testing.TB, keys string, bob *keys.Key, path, signer string, expires time.Time) {
	t.Helper()
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: expires.UTC().Format(intoto.ExpiresFormat)}
	id := l.AddKey(bob.Record())
	step := func(name string, mat, prod []intoto.Rule) *intoto.Step {
		return &intoto.Step{Type: intoto.TypeStep, Name: name, Threshold: 1, PubKeys: []string{id},
			ExpectedMaterials: mat, ExpectedProducts: prod}
	}
	l.Steps = []*intoto.Step{
		step("source", []intoto.Rule{{"DISALLOW", "*"}}, []intoto.Rule{{"CREATE", "src.txt"}, {"DISALLOW", "*"}}),
		step("build", []intoto.Rule{{"MATCH", "src.txt", "WITH", "PRODUCTS", "FROM", "source"}, {"DISALLOW", "*"}},
			[]intoto.Rule{{"CREATE", "app.bin"}, {"DISALLOW", "*"}}),
		step("image", []intoto.Rule{{"MATCH", "app.bin", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			[]intoto.Rule{{"CREATE", "image.json"}, {"DISALLOW", "*"}}),
	}
	l.Inspections = []*intoto.Inspection{}
	data, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, nil, "sign", "--file", path, "--key", filepath.Join(keys, signer)); r.code != 0 {
		t.Fatalf("sign layout: exit %d: %s", r.code, r.err)
	}
}

// newImageChain runs the three steps with bob's key; the image step's product is manifest.
func newImageChain(t testing.TB, keys string, bob *keys.Key, manifest []byte) *imageChain {
	t.Helper()
	dir := t.TempDir()
	c := &imageChain{dir: dir, keys: keys, links: filepath.Join(dir, "links"), work: filepath.Join(dir, "work"),
		layout: filepath.Join(dir, "root.layout")}
	for _, d := range []string{c.links, c.work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	staged := filepath.Join(dir, "manifest")
	if err := os.WriteFile(staged, manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	writeImageLayout(t, keys, bob, c.layout, "alice", time.Now().Add(time.Hour))
	steps := []struct{ name, mat, prod, script string }{
		{"source", "", "src.txt", "echo 'int main(){}' > src.txt"},
		{"build", "src.txt", "app.bin", "cp src.txt app.bin"},
		{"image", "app.bin", "image.json", "cp " + staged + " image.json"},
	}
	for _, s := range steps {
		args := []string{"run", "--step", s.name, "--key", filepath.Join(keys, "bob"), "--base-path", c.work,
			"--products", filepath.Join(c.work, s.prod), "--links-dir", c.links}
		if s.mat != "" {
			args = append(args, "--materials", filepath.Join(c.work, s.mat))
		}
		args = append(args, "--", "sh", "-c", "cd "+c.work+" && "+s.script)
		if r := invoke(t, nil, args...); r.code != 0 {
			t.Fatalf("run %s: exit %d: %s", s.name, r.code, r.err)
		}
	}
	return c
}

func (c *imageChain) attach(t testing.TB, image string, extra ...string) result {
	t.Helper()
	args := append([]string{"attach", "--image", image, "--layout", c.layout, "--layout-key",
		filepath.Join(c.keys, "alice.pub"), "--links-dir", c.links, "--work-dir", c.work, "--quiet"}, extra...)
	return invoke(t, nil, args...)
}

func verifyImage(t testing.TB, keys, image string, extra ...string) result {
	t.Helper()
	args := append([]string{"verify", "--image", image, "--layout-key", filepath.Join(keys, "alice.pub"),
		"--work-dir", t.TempDir(), "--quiet"}, extra...)
	return invoke(t, nil, args...)
}

// referrers lists what is attached to d.
func referrers(t *testing.T, d name.Digest) []v1.Descriptor {
	t.Helper()
	idx, err := remote.Referrers(d)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	return im.Manifests
}

// removeReferrer takes the first referrer of d that match selects off d: out of the tag-schema index
// where the registry keeps one (distribution v3.0.0 does), else by deleting its manifest.
func removeReferrer(t *testing.T, d name.Digest, match func(v1.Descriptor, *v1.Manifest) bool) {
	t.Helper()
	for i, desc := range referrers(t, d) {
		ref := d.Context().Digest(desc.Digest.String())
		got, err := remote.Get(ref)
		if err != nil {
			t.Fatal(err)
		}
		var m v1.Manifest
		if err := json.Unmarshal(got.Manifest, &m); err != nil {
			t.Fatal(err)
		}
		if !match(desc, &m) {
			continue
		}
		tag := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1))
		if idx, err := remote.Get(tag); err == nil {
			var im v1.IndexManifest
			if err := json.Unmarshal(idx.Manifest, &im); err != nil {
				t.Fatal(err)
			}
			if im.Manifests[i].Digest != desc.Digest {
				t.Fatalf("tag-schema index and referrers list differ")
			}
			im.Manifests = append(im.Manifests[:i], im.Manifests[i+1:]...)
			if err := remote.Put(tag, rawIndex{im}); err != nil {
				t.Fatal(err)
			}
		} else if err := remote.Delete(ref); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatalf("no referrer of %s to remove", d)
}

type rawIndex struct{ im v1.IndexManifest }

func (r rawIndex) RawManifest() ([]byte, error)        { return json.Marshal(r.im) }
func (r rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }

func titled(suffix string) func(v1.Descriptor, *v1.Manifest) bool {
	return func(_ v1.Descriptor, m *v1.Manifest) bool {
		return strings.HasPrefix(m.Annotations[oci.AnnotationTitle], suffix)
	}
}

// attachRaw pushes files as referrers of d without verifying anything: what someone with push access
// to the repository could do.
func attachRaw(t *testing.T, d name.Digest, files ...oci.File) {
	t.Helper()
	cl := ggcr.New(ggcr.Options{})
	img, err := cl.Resolve(context.Background(), d.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Attach(context.Background(), img, files); err != nil {
		t.Fatal(err)
	}
}

func chainFilesOf(t *testing.T, c *imageChain) []oci.File {
	t.Helper()
	data, err := os.ReadFile(c.layout)
	if err != nil {
		t.Fatal(err)
	}
	out := []oci.File{{Name: "root.layout", Kind: oci.KindLayout, Data: data}}
	entries, err := os.ReadDir(c.links)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(c.links, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, oci.File{Name: e.Name(), Kind: oci.KindLink, Data: data})
	}
	return out
}

func wantCode(t testing.TB, what string, r result, code int, stderr ...string) {
	t.Helper()
	if r.code != code {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, code, r.out, r.err)
	}
	for _, s := range stderr {
		if !strings.Contains(r.err, s) && !strings.Contains(r.out, s) {
			t.Errorf("%s: output does not say %q\nstdout:\n%s\nstderr:\n%s", what, s, r.out, r.err)
		}
	}
}

// TestAttachAndVerifyImage runs attach and verify --image against distribution's registry: a chain
// attached to the image it produced verifies from the registry alone; tampering with what is attached,
// re-signed by keys the layout trusts, is refused by the image check or by the layout's own checks.
func TestAttachAndVerifyImage(t *testing.T) {
	t.Parallel()
	host := registrytest.Start(t)
	keys, bob := newImageKeys(t)

	t.Run("attached chain verifies from the registry", func(t *testing.T) {
		t.Parallel()
		img, manifest := pushImage(t, host, "ok")
		c := newImageChain(t, keys, bob, manifest)
		wantCode(t, "attach", c.attach(t, img.String()), ExitOK, "attached 4 files")
		if got := len(referrers(t, img)); got != 4 {
			t.Errorf("%d referrers, want 4 (layout and three links)", got)
		}
		r := verifyImage(t, keys, img.String())
		wantCode(t, "verify --image", r, ExitOK, "image "+img.DigestStr()+" is product image.json of step image")
		// The user's own layout file works too, and a named step must hold the image.
		wantCode(t, "verify --image --layout", verifyImage(t, keys, img.String(), "--layout", c.layout), ExitOK)
		wantCode(t, "verify --image-step build", verifyImage(t, keys, img.String(), "--image-step", "build"),
			ExitRefused, "is not a product of step build")
		// Attaching again pushes the same manifests: still one of each, plus the VSA asked for now.
		vsa := filepath.Join(c.dir, "vsa.intoto.json")
		wantCode(t, "attach again, with a VSA", c.attach(t, img.String(), "--vsa", vsa, "--key", filepath.Join(keys, "alice")),
			ExitOK, "attached vsa.intoto.json")
		var vsas int
		for _, d := range referrers(t, img) {
			if d.ArtifactType == oci.ArtifactTypeVSA {
				vsas++
			}
		}
		if got := len(referrers(t, img)); got != 5 || vsas != 1 {
			t.Errorf("after a second attach: %d referrers (%d VSAs), want 5 (1)", got, vsas)
		}
		wantCode(t, "verify --image with a VSA attached", verifyImage(t, keys, img.String()), ExitOK, "fetched 3 link(s) and 1 layout(s)")
	})

	t.Run("nothing is pushed for a chain that does not verify", func(t *testing.T) {
		t.Parallel()
		img, _ := pushImage(t, host, "unverified")
		_, other := pushImage(t, host, "unverified-other")
		c := newImageChain(t, keys, bob, other)
		wantCode(t, "attach of another image's chain", c.attach(t, img.String()), ExitRefused, "is not a product of step image")
		if got := referrers(t, img); len(got) != 0 {
			t.Errorf("%d referrers pushed for a refused chain", len(got))
		}
	})

	t.Run("links attached to another image", func(t *testing.T) {
		t.Parallel()
		a, manifestA := pushImage(t, host, "other-a")
		b, _ := pushImage(t, host, "other-b")
		c := newImageChain(t, keys, bob, manifestA)
		wantCode(t, "attach to a", c.attach(t, a.String()), ExitOK)
		// Control: a verifies. b has nothing attached.
		wantCode(t, "verify a", verifyImage(t, keys, a.String()), ExitOK)
		wantCode(t, "verify b", verifyImage(t, keys, b.String()), ExitRefused, "no layout is attached")
		wantCode(t, "verify b with the layout", verifyImage(t, keys, b.String(), "--layout", c.layout), ExitRefused)
		// The same signed files copied onto b: every signature holds, the image check refuses.
		attachRaw(t, b, chainFilesOf(t, c)...)
		wantCode(t, "verify b with a's chain", verifyImage(t, keys, b.String()), ExitRefused,
			"refused at image", "is not a product of step image")
	})

	// Tampering with what is attached, each re-signed by a key the layout trusts (bob for the steps) or
	// by a key it does not (mallory for the layout). Before each, the control: the attached chain verifies.
	for _, tc := range []struct {
		name, repo string
		tamper     func(t *testing.T, img name.Digest)
		want       []string
	}{
		{"removed link", "removed", func(t *testing.T, img name.Digest) {
			removeReferrer(t, img, titled("build."))
		}, []string{"refused at threshold", "build"}},
		{"link whose product is another digest", "product", func(t *testing.T, img name.Digest) {
			// bob (trusted for the step) re-runs the image step over another manifest; the link
			// replaces the attached one.
			_, other := pushImage(t, host, "product-other")
			forged := newImageChain(t, keys, bob, other)
			removeReferrer(t, img, titled("image."))
			for _, f := range chainFilesOf(t, forged) {
				if strings.HasPrefix(f.Name, "image.") {
					attachRaw(t, img, f)
				}
			}
		}, []string{"is not a product of step image"}},
		{"layout swapped in the registry", "swapped", func(t *testing.T, img name.Digest) {
			removeReferrer(t, img, func(d v1.Descriptor, _ *v1.Manifest) bool { return d.ArtifactType == oci.ArtifactTypeLayout })
			swapped := filepath.Join(t.TempDir(), "root.layout")
			writeImageLayout(t, keys, bob, swapped, "mallory", time.Now().Add(time.Hour))
			data, err := os.ReadFile(swapped)
			if err != nil {
				t.Fatal(err)
			}
			attachRaw(t, img, oci.File{Name: "root.layout", Kind: oci.KindLayout, Data: data})
		}, []string{"refused at signature"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			img, manifest := pushImage(t, host, tc.repo)
			c := newImageChain(t, keys, bob, manifest)
			wantCode(t, "attach", c.attach(t, img.String()), ExitOK)
			wantCode(t, "control", verifyImage(t, keys, img.String()), ExitOK)
			tc.tamper(t, img)
			wantCode(t, "verify", verifyImage(t, keys, img.String()), ExitRefused, tc.want...)
		})
	}

	t.Run("tag resolved with a warning, foreign referrers skipped", func(t *testing.T) {
		t.Parallel()
		img, manifest := pushImage(t, host, "tagged")
		c := newImageChain(t, keys, bob, manifest)
		wantCode(t, "attach by tag", c.attach(t, img.Context().Tag("v1").String()), ExitOK, "tags move", img.DigestStr())
		sbom := pushForeignReferrer(t, img)
		wantCode(t, "verify by tag", verifyImage(t, keys, img.Context().Tag("v1").String()), ExitOK,
			"tags move", img.String(), "skipped referrer "+sbom, "application/vnd.example.sbom+json")
	})

	t.Run("two layouts attached", func(t *testing.T) {
		t.Parallel()
		img, manifest := pushImage(t, host, "two-layouts")
		c := newImageChain(t, keys, bob, manifest)
		wantCode(t, "attach", c.attach(t, img.String()), ExitOK)
		// The owner re-signs the layout (a new expiry) and attaches the chain again: both layouts are
		// now attached, and verify does not pick one by itself.
		writeImageLayout(t, keys, bob, c.layout, "alice", time.Now().Add(2*time.Hour))
		wantCode(t, "attach with the new layout", c.attach(t, img.String()), ExitOK)
		wantCode(t, "verify", verifyImage(t, keys, img.String()), ExitRefused, "2 layouts are attached", "--layout")
		wantCode(t, "verify --layout", verifyImage(t, keys, img.String(), "--layout", c.layout), ExitOK)
	})

	t.Run("registry unreachable", func(t *testing.T) {
		t.Parallel()
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close() // nothing listens there now
		ref := addr + "/app@sha256:" + strings.Repeat("ab", 32)
		wantCode(t, "verify", verifyImage(t, keys, ref), ExitFailure, "registry "+addr)
		c := newImageChain(t, keys, bob, []byte("{}"))
		wantCode(t, "attach", c.attach(t, ref), ExitFailure, "registry "+addr)
		// The CI's registry login is used there and never shows in what intoto-ci prints.
		secret := "glpat-s3cr3t-never-printed"
		environ := map[string]string{"CI_REGISTRY": addr, "CI_REGISTRY_USER": "gitlab-ci-token", "CI_REGISTRY_PASSWORD": secret,
			"GITHUB_TOKEN": secret}
		r := invoke(t, environ, "verify", "--image", ref, "--layout-key", filepath.Join(keys, "alice.pub"))
		wantCode(t, "verify with CI credentials", r, ExitFailure, "registry "+addr)
		if strings.Contains(r.out+r.err, secret) {
			t.Errorf("the registry password was printed:\n%s%s", r.out, r.err)
		}
	})

	t.Run("bad references", func(t *testing.T) {
		t.Parallel()
		wantCode(t, "verify", verifyImage(t, keys, "Not A Reference"), ExitUsage, "invalid image reference")
		wantCode(t, "verify --image --links-dir", verifyImage(t, keys, host+"/x:v1", "--links-dir", "."), ExitUsage, "drop --links-dir")
		wantCode(t, "verify --image-step without --image", invoke(t, nil, "verify", "--layout", "x", "--image-step", "s"), ExitUsage)
	})
}

// pushForeignReferrer attaches an artifact of another tool to d (its artifact type taken from the
// config media type, as older clients push them) and returns its digest.
func pushForeignReferrer(t *testing.T, d name.Digest) string {
	t.Helper()
	desc, err := remote.Head(d)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(64, 1)
	if err != nil {
		t.Fatal(err)
	}
	img = mutate.MediaType(img, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, "application/vnd.example.sbom+json")
	img = mutate.Subject(img, *desc).(v1.Image)
	h, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(d.Context().Digest(h.String()), img); err != nil {
		t.Fatal(err)
	}
	return h.String()
}

func nilLogger() *log.Logger { return log.New(io.Discard, "", 0) }

// TestVerifyImageTagSchemaFallback: go-containerregistry's in-process registry, with and without the
// referrers API. Without it, attach keeps the referrers in the sha256-<hex> tag index and verify --image
// reads them from there, without any option; with it, no such tag is written.
func TestVerifyImageTagSchemaFallback(t *testing.T) {
	t.Parallel()
	keys, bob := newImageKeys(t)
	var host string
	var img name.Digest
	for _, api := range []bool{true, false} {
		srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(api), registry.Logger(nilLogger())))
		t.Cleanup(srv.Close)
		host = strings.TrimPrefix(srv.URL, "http://")
		var manifest []byte
		img, manifest = pushImage(t, host, "app")
		c := newImageChain(t, keys, bob, manifest)
		wantCode(t, "attach", c.attach(t, img.String()), ExitOK)
		resp, err := http.Get(fmt.Sprintf("%s/v2/app/referrers/%s", srv.URL, img.DigestStr()))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.StatusCode == http.StatusOK; got != api {
			t.Fatalf("referrers API served: %v, want %v", got, api)
		}
		fallback := img.Context().Tag(strings.Replace(img.DigestStr(), ":", "-", 1))
		if _, err := remote.Head(fallback); (err == nil) == api {
			t.Fatalf("referrers API %v: tag-schema index %s: %v", api, fallback, err)
		}
		wantCode(t, fmt.Sprintf("verify --image (referrers API %v)", api), verifyImage(t, keys, img.String()), ExitOK,
			"is product image.json of step image")
	}

	// The shipped intoto-ci does not link the registry client: it runs verify --image in
	// intoto-ci-sigstore beside it, with the same result.
	shipped := func(extra ...string) ([]byte, error) {
		args := append([]string{"verify", "--image", img.String(), "--layout-key", filepath.Join(keys, "alice.pub"),
			"--work-dir", t.TempDir(), "--quiet"}, extra...)
		cmd := exec.Command(buildtest.IntotoCI(t), args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir()}
		return cmd.CombinedOutput()
	}
	if out, err := shipped(); err != nil || !strings.Contains(string(out), "is product image.json of step image") {
		t.Errorf("intoto-ci verify --image: %v\n%s", err, out)
	}
	out, err := shipped("--image-step", "build")
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitRefused {
		t.Errorf("intoto-ci verify --image --image-step build: %v, want exit 1\n%s", err, out)
	}
}

// BenchmarkImageAttachVerify times attach and verify --image of a key-signed 3-step chain, in-process
// (no process start-up, no helper), against distribution's registry on loopback and against
// go-containerregistry's in-process registry without the referrers API. Metrics: attach-ms and
// verify-ms per chain.
func BenchmarkImageAttachVerify(b *testing.B) {
	b.Run("distribution", func(b *testing.B) { benchImage(b, registrytest.Start(b)) })
	b.Run("ggcr-tag-schema", func(b *testing.B) {
		srv := httptest.NewServer(registry.New(registry.WithReferrersSupport(false), registry.Logger(nilLogger())))
		defer srv.Close()
		benchImage(b, strings.TrimPrefix(srv.URL, "http://"))
	})
}

func benchImage(b *testing.B, host string) {
	keys, bob := newImageKeys(b)
	var attach, verify time.Duration
	for i := range b.N {
		b.StopTimer()
		img, manifest := pushImage(b, host, fmt.Sprintf("bench%d", i))
		c := newImageChain(b, keys, bob, manifest)
		b.StartTimer()
		start := time.Now()
		wantCode(b, "attach", c.attach(b, img.String()), ExitOK)
		attach += time.Since(start)
		start = time.Now()
		wantCode(b, "verify --image", verifyImage(b, keys, img.String()), ExitOK)
		verify += time.Since(start)
	}
	b.ReportMetric(float64(attach.Microseconds())/1000/float64(b.N), "attach-ms")
	b.ReportMetric(float64(verify.Microseconds())/1000/float64(b.N), "verify-ms")
}

// TestKeylessAttachAndVerifyImage: a keyless chain (Sigstore bundles from the loopback Fulcio, TSA and
// Rekor v2) attached to the image its last step produced is listed as Sigstore bundles and verifies
// from the registry with --trusted-root; cosign (v3.1.3, installed by .ci/setup) lists the chain and
// verifies the attached link whose subject is the image.
func TestKeylessAttachAndVerifyImage(t *testing.T) {
	k := newKeylessChain(t)
	host := registrytest.Start(t)
	img, manifest := pushImage(t, host, "keyless")
	if err := os.WriteFile(filepath.Join(k.work, "image.json"), manifest, 0o644); err != nil {
		t.Fatal(err)
	}
	k.writeKeylessLayout(t, k.ghIdentity(), k.glIdentity(), "")
	if r := k.build(t, oidc.GitHubOptions{}); r.code != 0 {
		t.Fatalf("keyless build: exit %d\n%s", r.code, r.err)
	}
	if r := k.pack(t, oidc.GitLabOptions{}); r.code != 0 {
		t.Fatalf("keyless package: exit %d\n%s", r.code, r.err)
	}
	common := []string{"--image", img.String(), "--layout-key", filepath.Join(k.keys, "alice.pub"),
		"--trusted-root", k.stack.TrustedRootPath, "--work-dir", k.work, "--quiet"}
	r := invoke(t, nil, append([]string{"attach", "--layout", k.layout, "--links-dir", k.links}, common...)...)
	wantCode(t, "attach", r, ExitOK, "image "+img.DigestStr()+" is product image.json of step package")
	var bundles int
	for _, d := range referrers(t, img) {
		if d.ArtifactType == oci.ArtifactTypeBundle {
			bundles++
		}
	}
	if bundles != 2 {
		t.Errorf("%d referrers typed %s, want the 2 keyless links", bundles, oci.ArtifactTypeBundle)
	}
	wantCode(t, "verify --image", invoke(t, nil, append([]string{"verify"}, common...)...), ExitOK,
		"is product image.json of step package")
	cosignSeesLinks(t, k, img)
	// Without the trusted root the keyless links cannot be checked offline: not a pass.
	r = invoke(t, nil, "verify", "--image", img.String(), "--layout-key", filepath.Join(k.keys, "alice.pub"),
		"--trusted-root", otherCARoot(t, k.stack.TrustedRootPath, k.dir), "--work-dir", k.work, "--quiet")
	if r.code != ExitRefused {
		t.Errorf("verify --image with another trust root: exit %d, want 1\n%s%s", r.code, r.out, r.err)
	}
}

// cosignSeesLinks checks the chain attached to img with cosign: tree lists both links (by predicate
// type) and the layout; verify-attestation accepts the package step's link, whose products include the
// image, for the GitLab identity that signed it, and finds nothing for the build step's identity, whose
// link is not about the image.
func cosignSeesLinks(t *testing.T, k *keylessChain, img name.Digest) {
	t.Helper()
	cosign := tool(t, "cosign")
	out, err := exec.Command(cosign, "tree", img.String()).CombinedOutput()
	if err != nil {
		t.Fatalf("cosign tree: %v\n%s", err, out)
	}
	if n := strings.Count(string(out), oci.LinkPredicateType+" artifacts via OCI referrer"); n != 2 {
		t.Errorf("cosign tree lists %d links, want 2:\n%s", n, out)
	}
	if !strings.Contains(string(out), oci.ArtifactTypeLayout+" artifacts via OCI referrer") {
		t.Errorf("cosign tree does not list the layout:\n%s", out)
	}
	verifyAtt := func(id *intoto.Identity) ([]byte, error) {
		args := []string{"verify-attestation", "--new-bundle-format", "--trusted-root", k.stack.TrustedRootPath,
			"--insecure-ignore-sct", "--type", oci.LinkPredicateType, "--certificate-oidc-issuer", id.Issuer}
		if id.Subject != "" {
			args = append(args, "--certificate-identity", id.Subject)
		} else {
			args = append(args, "--certificate-identity-regexp", "^"+id.SubjectRegexp+"$")
		}
		cmd := exec.Command(cosign, append(args, img.String())...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "DOCKER_CONFIG=" + t.TempDir(), "TUF_ROOT=" + t.TempDir()}
		return cmd.CombinedOutput()
	}
	out, err = verifyAtt(k.glIdentity())
	if err != nil || !strings.Contains(string(out), "Verification for "+img.String()) {
		t.Errorf("cosign verify-attestation of the package link: %v\n%s", err, out)
	}
	out, err = verifyAtt(k.ghIdentity())
	if err == nil || !strings.Contains(string(out), "artifact digest does not match any digest in statement") {
		t.Errorf("cosign verify-attestation of the build link, whose subjects are not the image: %v\n%s", err, out)
	}
}
