package tekton

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/registrytest"
)

// imageLayout is a two-step key-signed chain whose second step pushes an image and records the manifest
// it pushed, as examples/tekton/image-pipeline.yaml does.
const imageLayout = `expires: 2030-01-01T00:00:00Z
functionaries:
  ci: {key: ci.pub}
steps:
  - name: build
    functionaries: [ci]
    threshold: 1
    materials: [ALLOW src/*, DISALLOW *]
    products: [CREATE dist/app.txt, DISALLOW *]
  - name: image
    functionaries: [ci]
    threshold: 1
    materials: [MATCH dist/app.txt WITH PRODUCTS FROM build, DISALLOW *]
    products: [CREATE dist/image.json, DISALLOW *]
`

// TestVerifyStepActionImage runs the intoto-ci-verify StepAction's script on this host (no cluster
// here: the shipped resources are otherwise only validated, by tools/tektonlint) with the real intoto-ci
// against distribution's registry on loopback: attach "true" attaches a verified chain to the image the
// chain pushed (with crane); a deploy-side run with image and an empty layout verifies it from the
// registry alone, the layout pinned by layout-key; the same chain copied onto another image is refused
// (exit 1); and a refused chain (a link removed from links-dir) is not attached.
func TestVerifyStepActionImage(t *testing.T) {
	t.Parallel()
	bin := binaryDir(t)
	r := loadResources(t)
	verifySA := r.stepActions["intoto-ci-verify"]
	repo := registrytest.Start(t) + "/acme/app"
	crane := filepath.Join(registrytest.CraneDir(t), "crane")

	ws := t.TempDir()
	keys := t.TempDir()
	sh := func(dir, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	ic := filepath.Join(bin, "intoto-ci")
	for _, k := range []string{"ci", "owner"} {
		sh(ws, ic, "key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, k))
	}
	for _, f := range []string{"ci.pub", "owner.pub"} {
		b, err := os.ReadFile(filepath.Join(keys, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(ws, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "src", "app.txt"), []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(keys, "layout.json"), layouttest.Compile(t, []byte(imageLayout), ws), 0o644); err != nil {
		t.Fatal(err)
	}
	sh(ws, ic, "sign", "--file", filepath.Join(keys, "layout.json"), "--key", filepath.Join(keys, "owner"), "--output", "root.layout")
	runStep := func(step, products, materials, script string) {
		sh(ws, ic, "run", "--step", step, "--signing", "key", "--key", filepath.Join(keys, "ci"), "--links-dir", "links",
			"--materials", materials, "--products", products, "--", "sh", "-c", script)
	}
	runStep("build", "dist/app.txt", "src", "mkdir -p dist && cat src/app.txt > dist/app.txt")
	runStep("image", "dist/image.json", "dist/app.txt", fmt.Sprintf(`layer=$(mktemp) && tar -cf "$layer" -C dist app.txt && `+
		`ref=$(%[1]s append --oci-empty-base -f "$layer" -t %[2]s:v1) && rm -f "$layer" && %[1]s manifest "$ref" > dist/image.json`, crane, repo))
	image := registrytest.Resolve(t, repo+":v1")

	h := host{imageBin: bin}
	step := func(v values) stepRun {
		t.Helper()
		v["working-dir"] = ws
		return runStepAction(t, h, verifySA, v)
	}
	res := step(values{"layout": "root.layout", "layout-key": []string{"owner.pub"}, "image": image, "image-step": "image", "attach": "true"})
	if res.code != 0 || !strings.Contains(res.stderr, "attached 3 files to "+image) {
		t.Fatalf("attach: exit %d, want 0 and 3 files attached\n%s%s", res.code, res.stdout, res.stderr)
	}
	// The deploy side: another workspace holding only the owner's key.
	deployWS := t.TempDir()
	b, err := os.ReadFile(filepath.Join(keys, "owner.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deployWS, "app-owner.pub"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	deploy := func(img string) stepRun {
		t.Helper()
		return runStepAction(t, h, verifySA, values{"layout": "", "layout-key": []string{"app-owner.pub"}, "image": img,
			"image-step": "image", "working-dir": deployWS})
	}
	if res := deploy(image); res.code != 0 || !strings.Contains(res.stdout, "VERIFIED") {
		t.Errorf("deploy verify: exit %d, want 0 and VERIFIED\n%s%s", res.code, res.stdout, res.stderr)
	}
	other := registrytest.PushRandom(t, repo+":other")
	registrytest.AttachRaw(t, other, registrytest.Chain(t, image)...)
	if res := deploy(other); res.code != 1 || !strings.Contains(res.stdout+res.stderr, `refused at image, step "image"`) {
		t.Errorf("chain copied onto another image: exit %d, want 1 refused at image\n%s%s", res.code, res.stdout, res.stderr)
	}

	// Attach refuses a chain that does not verify, and pushes nothing.
	links, err := filepath.Glob(filepath.Join(ws, "links", "build.*"))
	if err != nil || len(links) != 1 {
		t.Fatalf("build link: %v %v", links, err)
	}
	if err := os.Remove(links[0]); err != nil {
		t.Fatal(err)
	}
	third := registrytest.PushRandom(t, repo+":third")
	res = step(values{"layout": "root.layout", "layout-key": []string{"owner.pub"}, "image": third, "image-step": "image", "attach": "true"})
	if res.code != 1 {
		t.Errorf("attach of a chain missing a link: exit %d, want 1\n%s%s", res.code, res.stdout, res.stderr)
	}
	if got := registrytest.Chain(t, third); len(got) != 0 {
		t.Errorf("refused chain attached anyway: %d files", len(got))
	}
}
