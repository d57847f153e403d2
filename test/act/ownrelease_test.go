package act

import (
	"archive/zip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

const ownWorkflow = ".github/workflows/release.yml"

// ownReleaseRepo lays out intoto-ci's own repository as the release workflow sees it at a tag: the
// release's sources, the action, the workflow without its publish job (nothing is uploaded to GitHub
// here), checksums.txt as edited by editSums, and .intoto/root.layout compiled from .intoto/layout.yaml
// with the test issuer in place of GitHub's, signed by a fresh owner key. It returns the repository and
// its commit.
func ownReleaseRepo(t *testing.T, dist *releasetest.Dist, issuer string, editSums func(string) string) (string, string) {
	t.Helper()
	root := repoRoot(t)
	repo := t.TempDir()
	skipTests := func(rel string, e os.DirEntry) bool {
		return e.Name() == "testdata" || strings.HasSuffix(e.Name(), "_test.go")
	}
	for _, d := range []string{"cmd", "internal"} {
		copyTree(t, filepath.Join(root, d), filepath.Join(repo, d), skipTests)
	}
	for _, f := range []string{"go.mod", "go.sum", "Makefile", ".goreleaser.yaml", "Dockerfile", "action.yml",
		"scripts/action-install.sh", "tools/release/go.mod", "tools/release/go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(repo, f), string(b))
	}
	wf, err := os.ReadFile(filepath.Join(root, ownWorkflow))
	if err != nil {
		t.Fatal(err)
	}
	cut := strings.Index(string(wf), "\n  publish:\n")
	if cut < 0 {
		t.Fatalf("%s has no publish job", ownWorkflow)
	}
	writeFile(t, filepath.Join(repo, ownWorkflow), string(wf[:cut+1]))
	sums, err := os.ReadFile(dist.Asset("checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, "checksums.txt"), editSums(string(sums)))

	cli := buildtest.IntotoCI(t)
	layout, err := os.ReadFile(filepath.Join(root, ".intoto", "layout.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	const github = "issuer: https://token.actions.githubusercontent.com\n"
	if !strings.Contains(string(layout), github) {
		t.Fatalf(".intoto/layout.yaml does not pin %q", github)
	}
	keys := t.TempDir()
	writeFile(t, filepath.Join(keys, "layout.json"), string(layouttest.Compile(t,
		[]byte(strings.Replace(string(layout), github, "issuer: "+issuer+"\n", 1)), filepath.Join(root, ".intoto"))))
	for _, args := range [][]string{
		{"key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, "owner")},
		{"sign", "--file", filepath.Join(keys, "layout.json"), "--key", filepath.Join(keys, "owner"), "--output", filepath.Join(repo, ".intoto", "root.layout")},
	} {
		if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
			t.Fatalf("intoto-ci %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	pub, err := os.ReadFile(filepath.Join(keys, "owner.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".intoto", "owner.pub"), string(pub))

	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
			"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-q", "-m", "release "+dist.Version)
	git("tag", dist.Version)
	git("remote", "add", "origin", "https://github.com/intoto-ci/intoto-ci.git")
	return repo, git("rev-parse", "HEAD")
}

// runOwnRelease runs the release workflow of repo under act as a push of the tag dist.Version.
func runOwnRelease(t *testing.T, stack *sigstack.Stack, dist *releasetest.Dist, repo, commit, runID string) actResult {
	t.Helper()
	ref := "refs/tags/" + dist.Version
	event := filepath.Join(t.TempDir(), "event.json")
	writeFile(t, event, `{"ref": "`+ref+`", "repository": {"full_name": "intoto-ci/intoto-ci", "default_branch": "main"}}`)
	url, token := stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{
		Repository: "intoto-ci/intoto-ci", WorkflowPath: ownWorkflow, Workflow: "release", SHA: commit, RunID: runID, Ref: ref,
	}))
	return runAct(t, actConfig{
		repo: repo, workflow: ownWorkflow, action: repoRoot(t), eventPath: event,
		env: map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": token},
		vars: map[string]string{
			"SIGSTORE_SIGNING_CONFIG": stack.SigningConfigPath,
			"SIGSTORE_TRUSTED_ROOT":   stack.TrustedRootPath,
		},
	})
}

// TestOwnReleaseWorkflow runs intoto-ci's own .github/workflows/release.yml under act, up to (not
// including) the publish job: the release build and the comparison with the committed checksums.txt,
// each wrapped by intoto-ci and signed keyless as the release workflow on the tag, then verify against
// .intoto/layout.yaml (compiled and signed for the test issuer). Every attestation the release attaches
// is collected. A checksums.txt one byte off stops the build job, so verify, and publish, never run.
func TestOwnReleaseWorkflow(t *testing.T) {
	tool(t, "act")
	tool(t, "go")
	standIns(t)
	stack := sigstack.Shared(t)
	dist := releasetest.Shared(t)

	repo, commit := ownReleaseRepo(t, dist, stack.GitHub.URL, func(s string) string { return s })
	res := runOwnRelease(t, stack, dist, repo, commit, "5001")
	for _, job := range []string{"build", "verify"} {
		if got := res.job(job); got != "succeeded" {
			t.Errorf("job %s: got %q, want succeeded\n%s", job, got, tail(res.jobLog(job), 80))
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	var names []string
	err := filepath.WalkDir(res.artifacts, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".zip") || !strings.Contains(p, "attestations") {
			return err
		}
		zr, err := zip.OpenReader(p)
		if err != nil {
			return err
		}
		defer zr.Close()
		for _, f := range zr.File {
			names = append(names, f.Name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(names, " ")
	for _, want := range []string{"root.layout", "owner.pub", "verify-report.json", "intoto-ci.vsa.json", "build.", "compare."} {
		if !strings.Contains(all, want) {
			t.Errorf("attestations artifact holds %v, want %s among them", names, want)
		}
	}

	t.Run("checksums.txt one byte off", func(t *testing.T) {
		repo, commit := ownReleaseRepo(t, dist, stack.GitHub.URL, func(s string) string {
			// Change one hex digit of the first digest.
			b := []byte(s)
			if b[0] == '0' {
				b[0] = '1'
			} else {
				b[0] = '0'
			}
			return string(b)
		})
		res := runOwnRelease(t, stack, dist, repo, commit, "5002")
		if got := res.job("build"); got != "failed" {
			t.Errorf("job build: got %q, want failed\n%s", got, tail(res.jobLog("build"), 60))
		}
		if !strings.Contains(res.jobLog("build"), "differs from the checksums.txt committed there") {
			t.Errorf("build job does not say the release differs:\n%s", tail(res.jobLog("build"), 60))
		}
		if got := res.job("verify"); got == "succeeded" {
			t.Error("verify ran after the comparison failed")
		}
	})
}
