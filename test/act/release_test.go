package act

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// The identity the example layout pins, as Fulcio certifies the fixture's tokens.
const (
	fixtureRepo   = "acme/app"
	workflowPath  = ".github/workflows/release.yml"
	signerSAN     = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	exampleIssuer = "https://token.actions.githubusercontent.com"
)

// release is everything the example workflow runs needs: the stack, the action as a release's commit
// holds it, the release server it installs from, the owner's key.
type release struct {
	stack  *sigstack.Stack
	cli    string
	action string
	server *releasetest.Server
	keyDir string
}

func newRelease(t *testing.T) *release {
	t.Helper()
	tool(t, "act")
	tool(t, "go")
	standIns(t)
	stack := sigstack.Shared(t)
	dist := releasetest.Shared(t)
	r := &release{stack: stack, action: releaseAction(t, dist), keyDir: t.TempDir()}
	r.server = releasetest.NewServer(t, dist, nil)
	r.cli = buildtest.IntotoCI(t)
	r.intotoCI(t, "key", "generate", "--type", "ed25519", "-o", filepath.Join(r.keyDir, "owner"))
	return r
}

func (r *release) intotoCI(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(r.cli, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("intoto-ci %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// fixture lays out the example project as the example's README describes it: the app, the release
// workflow (edited by edit, for attacks), and .intoto/root.layout signed by the owner with the example
// layout pinned to the test issuer. It returns the repository and its commit.
func (r *release) fixture(t *testing.T, edit func(workflow string) string, extra map[string][]byte) (string, string) {
	t.Helper()
	root := repoRoot(t)
	repo := t.TempDir()
	copyTree(t, filepath.Join(root, "examples", "github", "app"), repo, nil)
	wf, err := os.ReadFile(filepath.Join(root, "examples", "github", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	workflow := string(wf)
	if edit != nil {
		workflow = edit(workflow)
	}
	writeFile(t, filepath.Join(repo, workflowPath), workflow)
	layout, err := os.ReadFile(filepath.Join(root, "examples", "github", "layout.json"))
	if err != nil {
		t.Fatal(err)
	}
	pinned := strings.ReplaceAll(string(layout), exampleIssuer, r.stack.GitHub.URL)
	if pinned == string(layout) {
		t.Fatalf("examples/github/layout.json does not name issuer %s", exampleIssuer)
	}
	work := t.TempDir()
	writeFile(t, filepath.Join(work, "layout.json"), pinned)
	r.intotoCI(t, "sign", "--file", filepath.Join(work, "layout.json"), "--key", filepath.Join(r.keyDir, "owner"),
		"--output", filepath.Join(repo, ".intoto", "root.layout"))
	pub, err := os.ReadFile(filepath.Join(r.keyDir, "owner.pub"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".intoto", "owner.pub"), string(pub))
	for name, b := range extra {
		writeFile(t, filepath.Join(repo, name), string(b))
	}
	return repo, gitRepo(t, repo)
}

// run runs the fixture's release workflow with OIDC tokens for run runID of acme/app at commit.
func (r *release) run(t *testing.T, repo, commit, runID string) actResult {
	t.Helper()
	url, token := r.stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{
		Repository: fixtureRepo, WorkflowPath: workflowPath, Workflow: "release", SHA: commit, RunID: runID,
	}))
	return runAct(t, actConfig{
		repo: repo, workflow: workflowPath, action: r.action, serverURL: r.server.URL,
		env: map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": token},
		vars: map[string]string{
			"SIGSTORE_SIGNING_CONFIG": r.stack.SigningConfigPath,
			"SIGSTORE_TRUSTED_ROOT":   r.stack.TrustedRootPath,
		},
	})
}

// foreignToken returns step-level env lines giving a step the token of another repository's workflow
// (step level: act lets its --env override a job's env, not a step's).
func (r *release) foreignToken(commit string) string {
	url, token := r.stack.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{
		Repository: "evil/fork", WorkflowPath: workflowPath, Workflow: "release", SHA: commit, RunID: "3003",
	}))
	return "        env:\n          ACTIONS_ID_TOKEN_REQUEST_URL: " + url + "\n          ACTIONS_ID_TOKEN_REQUEST_TOKEN: " + token + "\n"
}

func mustReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("example workflow changed: %q not found", old)
	}
	return strings.Replace(s, old, new, 1)
}

// TestReleaseWorkflow runs examples/github/release.yml under act against this repository's action, which
// installs intoto-ci and its keyless helper from the release (served on loopback), with keyless signing on
// the loopback Sigstore stack: once as written (every job green, the verify report names
// every step and the signer, publish runs), then as four attacks that must each turn verify red and keep
// publish from running.
func TestReleaseWorkflow(t *testing.T) {
	r := newRelease(t)

	repo, commit := r.fixture(t, nil, nil)
	good := r.run(t, repo, commit, "1001")
	t.Run("passing", func(t *testing.T) {
		if good.err != nil {
			t.Errorf("act: %v\n%s", good.err, tail(good.log, 120))
		}
		for _, job := range []string{"build", "test", "package", "verify", "publish"} {
			if got := good.job(job); got != "succeeded" {
				t.Errorf("job %s: got %q, want succeeded", job, got)
			}
		}
		verify := good.jobLog("verify")
		for _, want := range []string{"build", "test", "package", signerSAN} {
			if !strings.Contains(verify, want) {
				t.Errorf("verify report does not name %q:\n%s", want, verify)
			}
		}
		if !strings.Contains(good.jobLog("publish"), "published app.tar.gz") {
			t.Errorf("publish did not publish:\n%s", good.jobLog("publish"))
		}
	})
	if t.Failed() {
		t.FailNow()
	}

	oldLink, oldApp := r.earlierRunFiles(t, good)

	attacks := []struct {
		name  string
		edit  func(t *testing.T, wf string) string
		extra map[string][]byte
	}{
		{
			name: "product altered between jobs",
			edit: func(t *testing.T, wf string) string {
				return mustReplace(t, wf, "      - name: Package\n",
					"      - name: Tamper with the build output\n        run: echo tampered >> dist/app\n      - name: Package\n")
			},
		},
		{
			name: "step skipped",
			edit: func(t *testing.T, wf string) string {
				return mustReplace(t, wf, `      - name: Test
        uses: intoto-ci/intoto-ci@main
        with:
          step: test
          command: |
            go
            test
            ./...
          materials: |
            go.mod
            cmd
            dist
          signing-config: ${{ vars.SIGSTORE_SIGNING_CONFIG }}
`, "      - name: Test\n        run: go test ./...\n")
			},
		},
		{
			name: "link signed by an identity the layout does not name",
			edit: func(t *testing.T, wf string) string {
				return mustReplace(t, wf, "      - name: Build\n        uses: intoto-ci/intoto-ci@main\n",
					"      - name: Build\n        uses: intoto-ci/intoto-ci@main\n"+r.foreignToken(commit))
			},
		},
		{
			name: "link from an earlier run",
			edit: func(t *testing.T, wf string) string {
				start := strings.Index(wf, "  build:\n")
				end := strings.Index(wf, "  test:\n")
				return wf[:start] + `  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
      - name: Replay the build of an earlier run
        run: |
          mkdir -p replay/links replay/dist
          cp .replay/build.link replay/links/` + filepath.Base(oldLink.name) + `
          cp .replay/app replay/dist/app
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: intoto-links-build-replayed
          path: replay/links
      - uses: actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02 # v4.6.2
        with:
          name: app
          path: replay/dist/app

` + wf[end:]
			},
			extra: map[string][]byte{".replay/build.link": oldLink.data, ".replay/app": oldApp.data},
		},
	}
	for i, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			repo, commit := r.fixture(t, func(wf string) string { return a.edit(t, wf) }, a.extra)
			res := r.run(t, repo, commit, "200"+string(rune('1'+i)))
			if got := res.job("verify"); got != "failed" {
				t.Errorf("job verify: got %q, want failed\n%s", got, tail(res.log, 120))
			}
			if res.job("publish") == "succeeded" || strings.Contains(res.jobLog("publish"), "published app.tar.gz") {
				t.Errorf("publish ran after a refused verification:\n%s", res.jobLog("publish"))
			}
			if !strings.Contains(res.jobLog("verify"), "::error") && !strings.Contains(res.jobLog("verify"), "❗") {
				t.Errorf("verify job printed no error annotation:\n%s", res.jobLog("verify"))
			}
		})
	}
}

type namedFile struct {
	name string
	data []byte
}

// earlierRunFiles takes the build link and the built app out of a finished run's artifacts.
func (r *release) earlierRunFiles(t *testing.T, res actResult) (link, app namedFile) {
	t.Helper()
	err := filepath.WalkDir(res.artifacts, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".zip") {
			return err
		}
		zr, err := zip.OpenReader(p)
		if err != nil {
			return err
		}
		defer zr.Close()
		for _, f := range zr.File {
			switch {
			case strings.HasPrefix(f.Name, "build.") && strings.Contains(f.Name, ".link"):
				link = namedFile{name: f.Name, data: readZip(t, f)}
			case f.Name == "app" && strings.Contains(filepath.Base(p), "app"):
				app = namedFile{name: f.Name, data: readZip(t, f)}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read artifacts of the earlier run: %v", err)
	}
	if link.data == nil || app.data == nil {
		t.Fatalf("earlier run left no build link or app in %s", res.artifacts)
	}
	return link, app
}

func readZip(t *testing.T, f *zip.File) []byte {
	t.Helper()
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
