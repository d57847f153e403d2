// Package registrytest runs a real OCI registry for the front-end tests (test/act, test/gitlab):
// distribution v3's `registry` (installed by .ci/setup) on a free loopback port, crane built from
// go-containerregistry (already a dependency of this module) for the example pipelines to push with, and
// the registry-side attacks the deploy examples must refuse: a chain copied onto another image, a
// referrer removed, a layout swapped. Call it inside the test's network namespace. Imported only by tests.
package registrytest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/intoto-ci/intoto-ci/internal/oci"
	"github.com/intoto-ci/intoto-ci/internal/oci/ggcr"
)

// unavailable skips the test, or fails it under CI=true.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if ci, err := strconv.ParseBool(os.Getenv("CI")); err == nil && ci {
		tb.Fatalf("unavailable under CI: "+format+" (run .ci/setup)", args...)
	}
	tb.Skipf("unavailable: "+format+" (run .ci/setup)", args...)
}

// tool finds a binary on PATH or in $(go env GOPATH)/bin.
func tool(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(strings.Split(string(out), string(os.PathListSeparator))[0]), "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unavailable(tb, "%s not found on PATH or in $(go env GOPATH)/bin", name)
	return ""
}

// Start starts distribution's registry on a free loopback port, with deletes enabled, stopped (by its
// PID) when the test ends. It returns the registry's host:port (127.0.0.1:PORT, which clients reach over
// plain HTTP).
func Start(tb testing.TB) string {
	tb.Helper()
	bin := tool(tb, "registry")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	cfg := fmt.Sprintf("version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: %s\n",
		filepath.Join(dir, "data"), addr)
	if err := os.WriteFile(filepath.Join(dir, "config.yml"), []byte(cfg), 0o600); err != nil {
		tb.Fatal(err)
	}
	logPath := filepath.Join(dir, "registry.log")
	logf, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", filepath.Join(dir, "config.yml"))
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait() // killed: the exit status says so
		logf.Close()
	})
	for deadline := time.Now().Add(20 * time.Second); ; {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return addr
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			tb.Fatalf("registry on %s did not come up: %v\n%s", addr, err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CraneDir builds crane (go-containerregistry's CLI, at the version go.mod pins, from the module cache:
// no new tool to install) into a directory of the test's, and returns that directory, to put first on a
// pipeline's PATH. After the first build the Go build cache makes it a link step.
func CraneDir(tb testing.TB) string {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command("go", "build", "-o", filepath.Join(dir, "crane"), "github.com/google/go-containerregistry/cmd/crane")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build crane: %v\n%s", err, out)
	}
	return dir
}

// Resolve returns the digest reference of ref (a tag).
func Resolve(tb testing.TB, ref string) string {
	tb.Helper()
	r, err := name.ParseReference(ref)
	if err != nil {
		tb.Fatal(err)
	}
	desc, err := remote.Head(r)
	if err != nil {
		tb.Fatalf("resolve %s: %v", ref, err)
	}
	return r.Context().Digest(desc.Digest.String()).String()
}

// PushRandom pushes a small random image to ref (REPO:TAG) and returns its digest reference.
func PushRandom(tb testing.TB, ref string) string {
	tb.Helper()
	img, err := random.Image(256, 1)
	if err != nil {
		tb.Fatal(err)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		tb.Fatal(err)
	}
	if err := remote.Write(tag, img); err != nil {
		tb.Fatal(err)
	}
	d, err := img.Digest()
	if err != nil {
		tb.Fatal(err)
	}
	return tag.Context().Digest(d.String()).String()
}

// Chain downloads what intoto-ci attached to image (a digest reference).
func Chain(tb testing.TB, image string) []oci.File {
	tb.Helper()
	cl := ggcr.New(ggcr.Options{})
	img, err := cl.Resolve(context.Background(), image)
	if err != nil {
		tb.Fatal(err)
	}
	got, err := cl.Fetch(context.Background(), img)
	if err != nil {
		tb.Fatalf("fetch the chain attached to %s: %v", image, err)
	}
	return got.Files
}

// AttachRaw pushes files as referrers of image without verifying anything: what anyone with push access
// to the repository can do.
func AttachRaw(tb testing.TB, image string, files ...oci.File) {
	tb.Helper()
	cl := ggcr.New(ggcr.Options{})
	img, err := cl.Resolve(context.Background(), image)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cl.Attach(context.Background(), img, files); err != nil {
		tb.Fatalf("attach to %s: %v", image, err)
	}
}

// Remove takes every referrer of image whose title (the attached file's name) starts with prefix off
// the image: out of the tag-schema index where the registry keeps one (distribution v3.0.0 has no
// referrers API), else by deleting the referrer's manifest. It fails the test when none matched.
func Remove(tb testing.TB, image, prefix string) {
	tb.Helper()
	d, err := name.NewDigest(image)
	if err != nil {
		tb.Fatal(err)
	}
	idx, err := remote.Referrers(d)
	if err != nil {
		tb.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		tb.Fatal(err)
	}
	var keep []v1.Descriptor
	removed := 0
	for _, desc := range im.Manifests {
		got, err := remote.Get(d.Context().Digest(desc.Digest.String()))
		if err != nil {
			tb.Fatal(err)
		}
		var m v1.Manifest
		if err := json.Unmarshal(got.Manifest, &m); err != nil {
			tb.Fatal(err)
		}
		if strings.HasPrefix(m.Annotations[oci.AnnotationTitle], prefix) {
			removed++
			continue
		}
		keep = append(keep, desc)
	}
	if removed == 0 {
		tb.Fatalf("no referrer of %s is titled %s*", image, prefix)
	}
	tag := d.Context().Tag(strings.Replace(d.DigestStr(), ":", "-", 1))
	if _, err := remote.Get(tag); err == nil {
		im.Manifests = keep
		if err := remote.Put(tag, rawIndex{*im}); err != nil {
			tb.Fatal(err)
		}
		return
	}
	for _, desc := range im.Manifests {
		if !containsDigest(keep, desc.Digest) {
			if err := remote.Delete(d.Context().Digest(desc.Digest.String())); err != nil {
				tb.Fatal(err)
			}
		}
	}
}

func containsDigest(ds []v1.Descriptor, h v1.Hash) bool {
	for _, d := range ds {
		if d.Digest == h {
			return true
		}
	}
	return false
}

type rawIndex struct{ im v1.IndexManifest }

func (r rawIndex) RawManifest() ([]byte, error)        { return json.Marshal(r.im) }
func (r rawIndex) MediaType() (types.MediaType, error) { return types.OCIImageIndex, nil }
