package gitlab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/oci"
	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/registrytest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// exampleProject lays out a GitLab project from examples/<example>: the templates at gitlab/ and the
// example at the root, every include installing the release from rel by download. It does not commit.
func exampleProject(tb testing.TB, example string, rel *releasetest.Server) string {
	tb.Helper()
	dir := tb.TempDir()
	copyTree(tb, filepath.Join(repoRoot, "gitlab"), filepath.Join(dir, "gitlab"))
	copyTree(tb, filepath.Join(repoRoot, "examples", example), dir)
	p := filepath.Join(dir, ".gitlab-ci.yml")
	b, err := os.ReadFile(p)
	if err != nil {
		tb.Fatal(err)
	}
	edited := withDownload(string(b), rel.ChecksumsSHA256, "$INTOTO_CI_DOWNLOAD_URL")
	if edited == string(b) {
		tb.Fatalf("examples/%s/.gitlab-ci.yml has no include with inputs", example)
	}
	if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
		tb.Fatal(err)
	}
	return dir
}

// imageEnv is what the image release and deploy pipelines run with.
type imageEnv struct {
	stack    *sigstack.Stack
	rel      *releasetest.Server
	bin      string // intoto-ci, for signing layouts
	repo     string // the image repository on the loopback registry
	layoutPK []byte // the release project's layout public key
	key      string // and its private key
}

// runImageRelease runs examples/gitlab/image, its .gitlab-ci.yml passed through edit (nil: as written),
// with gitlab-ci-local (shell executor, crane on PATH, the image repository on the loopback registry in
// place of CI_REGISTRY_IMAGE) and returns the run and the digest reference of the image it pushed.
func (e *imageEnv) runImageRelease(t *testing.T, edit func(string) string) (gclResult, string) {
	t.Helper()
	project := exampleProject(t, filepath.Join("gitlab", "image"), e.rel)
	if edit != nil {
		p := filepath.Join(project, ".gitlab-ci.yml")
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		edited := edit(string(b))
		if edited == string(b) {
			t.Fatal("edit left .gitlab-ci.yml unchanged")
		}
		if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	key := signLayout(t, e.bin, project, e.stack.GitLab.URL)
	pub, err := os.ReadFile(filepath.Join(project, ".intoto", "layout.pub"))
	if err != nil {
		t.Fatal(err)
	}
	if e.key == "" { // the first release's key is the one the deploy project pins
		e.key, e.layoutPK = key, pub
	}
	commit(t, project)
	head, err := exec.Command("git", "-C", project, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	token := e.stack.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{}))
	res := runGCL(t, project, []string{registrytest.CraneDir(t)},
		"--shell-isolation", "--force-shell-executor", "--no-color", "--no-json-schema-validation",
		"--variable", "SIGSTORE_ID_TOKEN="+token,
		"--variable", "SIGNING_CONFIG="+e.stack.SigningConfigPath,
		"--variable", "TRUSTED_ROOT="+e.stack.TrustedRootPath,
		"--variable", "INTOTO_CI_DOWNLOAD_URL="+e.rel.IPURL,
		"--variable", "IMAGE_REPO="+e.repo)
	return res, registrytest.Resolve(t, e.repo+":"+strings.TrimSpace(string(head)))
}

// deploy runs examples/gitlab-deploy, a project holding only the pipeline and the release project's
// layout key, for image.
func (e *imageEnv) deploy(t *testing.T, image string) gclResult {
	t.Helper()
	project := exampleProject(t, "gitlab-deploy", e.rel)
	if err := os.MkdirAll(filepath.Join(project, ".intoto"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, ".intoto", "app-layout.pub"), e.layoutPK, 0o644); err != nil {
		t.Fatal(err)
	}
	commit(t, project)
	return runGCL(t, project, nil,
		"--shell-isolation", "--force-shell-executor", "--no-color", "--no-json-schema-validation",
		"--variable", "TRUSTED_ROOT="+e.stack.TrustedRootPath,
		"--variable", "INTOTO_CI_DOWNLOAD_URL="+e.rel.IPURL,
		"--variable", "DEPLOY_IMAGE="+image)
}

// signedLayout compiles examples/gitlab/image/.intoto/layout.yaml for the test issuer, passed through
// edit, and signs it with key.
func (e *imageEnv) signedLayout(t *testing.T, key string, edit func(string) string) []byte {
	t.Helper()
	src, err := os.ReadFile(filepath.Join(repoRoot, "examples", "gitlab", "image", ".intoto", "layout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	layout := strings.Replace(string(src), "issuer: https://gitlab.com\n", "issuer: "+e.stack.GitLab.URL+"\n", 1)
	edited := edit(layout)
	if edited == layout {
		t.Fatal("examples/gitlab/image/.intoto/layout.yaml changed: the edit did nothing")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "layout.json"), layouttest.Compile(t, []byte(edited), dir), 0o644); err != nil {
		t.Fatal(err)
	}
	intotoCI(t, dir, e.bin, "sign", "--file", "layout.json", "--key", key, "--output", "signed")
	b, err := os.ReadFile(filepath.Join(dir, "signed"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func wantDeployed(t *testing.T, res gclResult, image string) {
	t.Helper()
	out := res.stdout + res.stderr
	if res.code != 0 || !strings.Contains(jobLog(out, "deploy"), "deployed "+image) {
		t.Errorf("deploy pipeline exited %d, want 0 and %s deployed\n%s", res.code, image, out)
	}
}

func wantRefused(t *testing.T, res gclResult, why string) {
	t.Helper()
	out := res.stdout + res.stderr
	if res.code == 0 {
		t.Errorf("deploy pipeline exited 0, want a refusal (%s)\n%s", why, out)
	}
	if log := jobLog(out, "intoto-ci-verify"); !strings.Contains(log, why) {
		t.Errorf("verify job does not refuse with %q:\n%s", why, log)
	}
	if strings.Contains(jobLog(out, "deploy"), "deployed ") {
		t.Errorf("deploy ran after a refused verification:\n%s", jobLog(out, "deploy"))
	}
}

// TestImageReleaseAndDeploy runs the GitLab image release example (examples/gitlab/image) under
// gitlab-ci-local: build, then an image pushed with crane to distribution's registry on loopback, each a
// keyless link on the loopback Sigstore stack, then verify.yml with attach: true verifies and attaches
// the chain to the image (digest handed over in a dotenv report). The deploy example
// (examples/gitlab-deploy, another project with only the layout key) verifies the image from the registry
// alone and deploys; after tampering with the registry it refuses and does not deploy: the chain copied
// onto another image, the layout swapped for one signed by another key (control: the same layout signed
// by the pinned key deploys), a link removed. A release whose build output was altered before the image
// step pushes its image, but the verify job refuses and attaches nothing.
func TestImageReleaseAndDeploy(t *testing.T) {
	gitlabCILocal(t)
	rel, _ := loopbackRelease(t)
	e := &imageEnv{stack: sigstack.Shared(t), rel: rel, bin: filepath.Join(binaryDir(t), "intoto-ci"),
		repo: registrytest.Start(t) + "/grp/app"}

	res, image := e.runImageRelease(t, nil)
	out := res.stdout + res.stderr
	if res.code != 0 {
		t.Fatalf("image release pipeline exited %d, want 0\n%s", res.code, out)
	}
	if log := jobLog(out, "intoto-ci-verify"); !strings.Contains(log, "attached 3 files to "+image) {
		t.Errorf("verify job did not attach the layout and two links to %s:\n%s", image, log)
	}
	chain := registrytest.Chain(t, image)
	if len(chain) != 3 {
		t.Fatalf("got %d files attached to %s, want the layout and two links", len(chain), image)
	}

	t.Run("deploy verifies the image from the registry", func(t *testing.T) {
		wantDeployed(t, e.deploy(t, image), image)
	})

	t.Run("chain copied onto another image", func(t *testing.T) {
		other := registrytest.PushRandom(t, e.repo+":other")
		registrytest.AttachRaw(t, other, chain...)
		wantRefused(t, e.deploy(t, other), `refused at image, step "image"`)
	})

	t.Run("layout swapped in the registry", func(t *testing.T) {
		// The swapped layout lets the image step take any material, so a build that never ran passes it.
		lax := func(s string) string {
			return strings.Replace(s, "materials: [MATCH dist/app.txt WITH PRODUCTS FROM build, DISALLOW *]", "materials: [ALLOW *]", 1)
		}
		mallory := filepath.Join(t.TempDir(), "mallory")
		intotoCI(t, repoRoot, e.bin, "key", "generate", "--type", "ed25519", "-o", mallory)
		n := 0
		swap := func(data []byte) {
			registrytest.Remove(t, image, "root.layout")
			n++ // a new name each time: the registry would not list again an artifact it already holds
			registrytest.AttachRaw(t, image, oci.File{Name: "root.layout." + string(rune('0'+n)), Kind: oci.KindLayout, Data: data})
		}
		swap(e.signedLayout(t, mallory, lax))
		wantRefused(t, e.deploy(t, image), "refused at signature")
		swap(e.signedLayout(t, e.key, lax))
		wantDeployed(t, e.deploy(t, image), image)
		for _, f := range chain {
			if f.Kind == oci.KindLayout {
				swap(f.Data)
			}
		}
	})

	t.Run("nothing attached when verification refuses", func(t *testing.T) {
		// The build output is altered before the image step records it: the image is pushed, but its
		// materials no longer match build's products.
		res, tampered := e.runImageRelease(t, func(s string) string {
			return strings.Replace(s, "  before_script:\n", "  before_script:\n    - echo tampered >> dist/app.txt\n", 1)
		})
		out := res.stdout + res.stderr
		if res.code == 0 {
			t.Fatalf("release pipeline exited 0, want the verify job to refuse\n%s", out)
		}
		if log := jobLog(out, "intoto-ci-verify"); !strings.Contains(log, "dist/app.txt") || strings.Contains(log, "attached ") {
			t.Errorf("verify job should refuse naming dist/app.txt and attach nothing:\n%s", log)
		}
		if got := registrytest.Chain(t, tampered); len(got) != 0 {
			t.Errorf("refused chain attached to %s anyway: %d files", tampered, len(got))
		}
	})

	t.Run("link removed from the registry", func(t *testing.T) {
		registrytest.Remove(t, image, "build.")
		wantRefused(t, e.deploy(t, image), `refused at threshold, step "build"`)
	})
}
