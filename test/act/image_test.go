package act

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/oci"
	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/registrytest"
)

const (
	imageWorkflow  = ".github/workflows/image.yml"
	deployWorkflow = ".github/workflows/deploy.yml"
)

// imageLayout compiles examples/github/image-layout.yaml with the test issuer in place of GitHub's,
// passed through edit (nil: as written), and signs it with the key at keyPath.
func (r *release) imageLayout(t *testing.T, keyPath string, edit func(string) string) []byte {
	t.Helper()
	root := repoRoot(t)
	src, err := os.ReadFile(filepath.Join(root, "examples", "github", "image-layout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const github = "issuer: https://token.actions.githubusercontent.com\n"
	layout := mustReplace(t, string(src), github, "issuer: "+r.stack.GitHub.URL+"\n")
	if edit != nil {
		layout = edit(layout)
	}
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "layout.json"), string(layouttest.Compile(t, []byte(layout), work)))
	r.intotoCI(t, "sign", "--file", filepath.Join(work, "layout.json"), "--key", keyPath, "--output", filepath.Join(work, "signed"))
	b, err := os.ReadFile(filepath.Join(work, "signed"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// runImageRelease lays out the release project with examples/github/image.yml pushing to repo on the
// loopback registry (crane, built by the test, already on PATH instead of go install), passed through
// edit (nil: as written), runs it, and
// returns the run and the commit (the tag the image was pushed with).
func (r *release) runImageRelease(t *testing.T, imageRepo, runID string, edit func(string) string) (actResult, string) {
	t.Helper()
	root := repoRoot(t)
	repo := t.TempDir()
	copyTree(t, filepath.Join(root, "examples", "github", "app"), repo, nil)
	wf, err := os.ReadFile(filepath.Join(root, "examples", "github", "image.yml"))
	if err != nil {
		t.Fatal(err)
	}
	workflow := mustReplace(t, string(wf), "IMAGE_REPO: ghcr.io/acme/app\n", "IMAGE_REPO: "+imageRepo+"\n")
	workflow = mustReplace(t, workflow, "run: go install github.com/google/go-containerregistry/cmd/crane@v0.22.1\n", "run: crane version\n")
	if edit != nil {
		workflow = edit(workflow)
	}
	writeFile(t, filepath.Join(repo, imageWorkflow), workflow)
	writeFile(t, filepath.Join(repo, ".intoto", "image.layout"), string(r.imageLayout(t, filepath.Join(r.keyDir, "owner"), nil)))
	pub, err := os.ReadFile(filepath.Join(r.keyDir, "owner.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".intoto", "owner.pub"), string(pub))
	commit := gitRepo(t, repo)
	url, token := r.stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{
		Repository: fixtureRepo, WorkflowPath: imageWorkflow, Workflow: "image", SHA: commit, RunID: runID,
	}))
	res := runAct(t, actConfig{
		repo: repo, workflow: imageWorkflow, action: r.action, serverURL: r.server.URL,
		env: map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": token},
		vars: map[string]string{
			"SIGSTORE_SIGNING_CONFIG": r.stack.SigningConfigPath,
			"SIGSTORE_TRUSTED_ROOT":   r.stack.TrustedRootPath,
		},
		procEnv: []string{"PATH=" + registrytest.CraneDir(t) + string(os.PathListSeparator) + os.Getenv("PATH")},
	})
	return res, commit
}

// deploy runs examples/github-deploy/deploy.yml, in a repository of its own holding only the workflow and
// the release project's owner key, for image.
func (r *release) deploy(t *testing.T, image string) actResult {
	t.Helper()
	root := repoRoot(t)
	repo := t.TempDir()
	wf, err := os.ReadFile(filepath.Join(root, "examples", "github-deploy", "deploy.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, deployWorkflow), string(wf))
	pub, err := os.ReadFile(filepath.Join(r.keyDir, "owner.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".intoto", "app-owner.pub"), string(pub))
	gitRepo(t, repo)
	return runAct(t, actConfig{
		repo: repo, workflow: deployWorkflow, action: r.action, serverURL: r.server.URL,
		event: "workflow_dispatch", inputs: map[string]string{"image": image},
		vars: map[string]string{"SIGSTORE_TRUSTED_ROOT": r.stack.TrustedRootPath},
	})
}

// quiet drops act's action-cache chatter from a log quoted in a failure.
func quiet(log string) string {
	var keep []string
	for _, l := range strings.Split(log, "\n") {
		if !strings.Contains(l, "LocalRepositoryCache") {
			keep = append(keep, l)
		}
	}
	return tail(strings.Join(keep, "\n"), 60)
}

// ownerKeyID is the key ID of the owner's public key, as verify names it.
func (r *release) ownerKeyID(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(r.intotoCI(t, "key", "id", filepath.Join(r.keyDir, "owner.pub")))
}

// wantDeployed checks that the deploy run verified image and deployed it.
func wantDeployed(t *testing.T, res actResult, image string) {
	t.Helper()
	for _, job := range []string{"verify", "deploy"} {
		if got := res.job(job); got != "succeeded" {
			t.Errorf("deploy workflow, job %s: got %q, want succeeded\n%s", job, got, quiet(res.log))
		}
	}
	// In the step's own output or its job summary line ("Summary - deployed …"): act, under load,
	// sometimes drops the last line a quick step prints, while the summary is a file it reads after.
	if !strings.Contains(res.jobLog("deploy"), "deployed "+image) {
		t.Errorf("the deploy step did not deploy %s:\n%s", image, res.jobLog("deploy"))
	}
}

// wantRefused checks that the deploy run's verify job refused, saying why, and nothing was deployed.
func wantRefused(t *testing.T, res actResult, why string) {
	t.Helper()
	if got := res.job("verify"); got != "failed" {
		t.Errorf("deploy workflow, job verify: got %q, want failed\n%s", got, quiet(res.log))
	}
	// The refusal must be said (the report's reason) and handed on as the step's result output; the
	// ::error annotation is the last line the step prints, which act under load sometimes drops (the
	// annotation itself is held by TestActionPlumbing and TestReleaseWorkflow).
	if log := res.jobLog("verify"); !strings.Contains(log, why) || !strings.Contains(log, "result=refused") {
		t.Errorf("verify job log does not refuse with %q:\n%s", why, quiet(log))
	}
	if res.job("deploy") == "succeeded" || strings.Contains(res.jobLog("deploy"), "deployed ") {
		t.Errorf("deploy ran after a refused verification:\n%s", res.jobLog("deploy"))
	}
}

// TestImageReleaseAndDeploy runs the image release example (examples/github/image.yml) under act: it
// builds, tests and pushes an image to distribution's registry on loopback with crane, each step a
// keyless link on the loopback Sigstore stack, then mode attach verifies the chain and attaches it to the
// image. The deploy example (examples/github-deploy/deploy.yml, another repository holding only the
// release owner's public key) then verifies the image from the registry alone and deploys it. Then the
// registry is tampered with, as anyone with push access could, and each deploy must refuse and not
// deploy: the chain copied onto another image, the layout swapped for one signed by another key (control:
// the same layout signed by the owner's key deploys, so the refusal is the pin's), a link removed. A
// release whose build output was altered before the image step pushes its image, but attach refuses and
// nothing is attached to it.
func TestImageReleaseAndDeploy(t *testing.T) {
	r := newRelease(t)
	host := registrytest.Start(t)
	imageRepo := host + "/acme/app"

	rel, commit := r.runImageRelease(t, imageRepo, "7001", nil)
	for _, job := range []string{"build", "test", "image", "attach"} {
		if got := rel.job(job); got != "succeeded" {
			t.Errorf("image workflow, job %s: got %q, want succeeded\n%s", job, got, quiet(rel.jobLog(job)))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	image := registrytest.Resolve(t, imageRepo+":"+commit)
	if log := rel.jobLog("attach"); !strings.Contains(log, "attached 4 files to "+image) {
		t.Errorf("attach job did not attach the layout and three links to %s:\n%s", image, quiet(log))
	}
	chain := registrytest.Chain(t, image)
	var names []string
	for _, f := range chain {
		names = append(names, string(f.Kind)+":"+f.Name)
	}
	for _, want := range []string{"layout:image.layout", "link:build.", "link:test.", "link:image."} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("attached to %s: %v, want %s among them", image, names, want)
		}
	}

	t.Run("deploy verifies the image from the registry", func(t *testing.T) {
		wantDeployed(t, r.deploy(t, image), image)
	})

	t.Run("chain copied onto another image", func(t *testing.T) {
		other := registrytest.PushRandom(t, imageRepo+":other")
		registrytest.AttachRaw(t, other, chain...)
		wantRefused(t, r.deploy(t, other), "refused at image, step \"image\"")
	})

	t.Run("layout swapped in the registry", func(t *testing.T) {
		// The attacker's layout drops the test step, so a chain without tests would pass it.
		lax := func(s string) string {
			start, end := strings.Index(s, "  - name: test\n"), strings.Index(s, "  - name: image\n")
			if start < 0 || end < start {
				t.Fatal("image-layout.yaml changed: no test step before image")
			}
			return s[:start] + s[end:]
		}
		r.intotoCI(t, "key", "generate", "--type", "ed25519", "-o", filepath.Join(r.keyDir, "mallory"))
		// Each swap attaches the layout under a new name: re-pushing an artifact the registry already holds
		// would not list it again.
		swaps := 0
		swap := func(data []byte) {
			registrytest.Remove(t, image, "image.layout")
			swaps++
			registrytest.AttachRaw(t, image, oci.File{Name: "image.layout." + strconv.Itoa(swaps), Kind: oci.KindLayout, Data: data})
		}
		swap(r.imageLayout(t, filepath.Join(r.keyDir, "mallory"), lax))
		wantRefused(t, r.deploy(t, image), "refused at signature: key "+r.ownerKeyID(t))
		// Control: the same layout signed by the owner's key deploys.
		swap(r.imageLayout(t, filepath.Join(r.keyDir, "owner"), lax))
		wantDeployed(t, r.deploy(t, image), image)
		// Put the owner's layout as released back for the next case.
		for _, f := range chain {
			if f.Kind == oci.KindLayout {
				swap(f.Data)
			}
		}
	})

	t.Run("nothing attached when verification refuses", func(t *testing.T) {
		res, commit := r.runImageRelease(t, imageRepo, "7002", func(wf string) string {
			return mustReplace(t, wf, "      - name: Build and push the image\n",
				"      - name: Tamper with the build output\n        run: echo tampered >> dist/app\n      - name: Build and push the image\n")
		})
		if got := res.job("image"); got != "succeeded" {
			t.Fatalf("image job: got %q, want succeeded (it pushes the tampered image)\n%s", got, quiet(res.jobLog("image")))
		}
		if got := res.job("attach"); got != "failed" {
			t.Errorf("attach job: got %q, want failed\n%s", got, quiet(res.jobLog("attach")))
		}
		if log := res.jobLog("attach"); !strings.Contains(log, "nothing was attached to") {
			t.Errorf("attach job does not say nothing was attached:\n%s", quiet(log))
		}
		tampered := registrytest.Resolve(t, imageRepo+":"+commit)
		if got := registrytest.Chain(t, tampered); len(got) != 0 {
			t.Errorf("refused chain attached to %s anyway: %d files", tampered, len(got))
		}
	})

	t.Run("link removed from the registry", func(t *testing.T) {
		registrytest.Remove(t, image, "test.")
		wantRefused(t, r.deploy(t, image), `refused at threshold, step "test"`)
	})
}
