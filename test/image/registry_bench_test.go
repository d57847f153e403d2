package image

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/registrytest"
)

// benchLayout is a three-step key-signed chain whose last step pushes the image (the manifest is its
// product), the shape of the front-end examples.
const benchLayout = `expires: 2030-01-01T00:00:00Z
functionaries:
  ci: {key: ci.pub}
steps:
  - name: build
    functionaries: [ci]
    threshold: 1
    materials: [ALLOW src/*, DISALLOW *]
    products: [CREATE dist/app.txt, DISALLOW *]
  - name: test
    functionaries: [ci]
    threshold: 1
    materials: [MATCH dist/app.txt WITH PRODUCTS FROM build, ALLOW src/*, DISALLOW *]
    products: [DISALLOW *]
  - name: image
    functionaries: [ci]
    threshold: 1
    materials: [MATCH dist/app.txt WITH PRODUCTS FROM build, DISALLOW *]
    products: [CREATE dist/image.json, DISALLOW *]
`

// BenchmarkImageCLI times what a pipeline pays for the registry: the shipped command lines, end to end
// (intoto-ci starting intoto-ci-sigstore, which links the registry client, and every registry round
// trip), against distribution v3.0.0 on loopback, for a 3-step key-signed chain. Each iteration copies
// the image to a fresh repository (not timed), then times `intoto-ci attach` (verify + 4 pushes) and
// `intoto-ci verify --image` (list + 4 fetches + verify). It reports the medians over the iterations as
// attach-ms and verify-ms. Run (inside `unshare -n`, after `ip link set lo up`):
//
//	go test ./test/image -run '^$' -bench ImageCLI -benchtime 11x
//
// A measurement, not a test: nothing fails on a slow machine.
func BenchmarkImageCLI(b *testing.B) {
	ic := buildtest.IntotoCI(b)
	host := registrytest.Start(b)
	crane := filepath.Join(registrytest.CraneDir(b), "crane")
	ws, keys := b.TempDir(), b.TempDir()
	run := func(name string, args ...string) {
		b.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = ws
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	for _, k := range []string{"ci", "owner"} {
		run(ic, "key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, k))
		pub, err := os.ReadFile(filepath.Join(keys, k+".pub"))
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, k+".pub"), pub, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(ws, "src"), 0o755); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "src", "app.txt"), []byte("hello\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "layout.json"), layouttest.Compile(b, []byte(benchLayout), ws), 0o644); err != nil {
		b.Fatal(err)
	}
	run(ic, "sign", "--file", filepath.Join(keys, "layout.json"), "--key", filepath.Join(keys, "owner"), "--output", "root.layout")
	step := func(name, materials, products, script string) {
		run(ic, "run", "--step", name, "--signing", "key", "--key", filepath.Join(keys, "ci"), "--links-dir", "links",
			"--materials", materials, "--products", products, "--", "sh", "-c", script)
	}
	step("build", "src", "dist/app.txt", "mkdir -p dist && cat src/app.txt > dist/app.txt")
	step("test", "dist/app.txt", "dist/none", "test -s dist/app.txt")
	step("image", "dist/app.txt", "dist/image.json", fmt.Sprintf(`layer=$(mktemp) && tar -cf "$layer" -C dist app.txt && `+
		`ref=$(%[1]s append --oci-empty-base -f "$layer" -t %[2]s/app:v1) && rm -f "$layer" && %[1]s manifest "$ref" > dist/image.json`, crane, host))
	digest := strings.TrimPrefix(registrytest.Resolve(b, host+"/app:v1"), host+"/app@")

	var attach, verify []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		repo := fmt.Sprintf("%s/app%d", host, i)
		run(crane, "copy", host+"/app:v1", repo+":v1")
		image := repo + "@" + digest
		b.StartTimer()
		t0 := time.Now()
		run(ic, "attach", "--image", image, "--image-step", "image", "--layout", "root.layout", "--layout-key", "owner.pub", "--links-dir", "links")
		t1 := time.Now()
		run(ic, "verify", "--image", image, "--image-step", "image", "--layout-key", "owner.pub")
		t2 := time.Now()
		attach, verify = append(attach, t1.Sub(t0)), append(verify, t2.Sub(t1))
	}
	b.StopTimer()
	median := func(d []time.Duration) float64 {
		s := slices.Clone(d)
		slices.Sort(s)
		return float64(s[len(s)/2].Microseconds()) / 1000
	}
	b.ReportMetric(median(attach), "attach-ms")
	b.ReportMetric(median(verify), "verify-ms")
	b.Logf("attach ms: %v", attach)
	b.Logf("verify ms: %v", verify)
}
