package act

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
)

// releaseAction lays out the action as a user's `uses:` gets it at a release's commit: action.yml, its
// install script and the checksums.txt that release wrote (what RELEASING.md has committed).
func releaseAction(t testing.TB, dist *releasetest.Dist) string {
	t.Helper()
	root := repoRoot(t)
	dir := t.TempDir()
	for _, f := range []string{"action.yml", "scripts/action-install.sh"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, f), string(b))
	}
	b, err := os.ReadFile(dist.Asset("checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "checksums.txt"), string(b))
	return dir
}

// TestActionInstallsRelease runs action.yml under act installing intoto-ci from the release (built by
// .goreleaser.yaml, served on loopback as GITHUB_SERVER_URL): a job signing with a key downloads only
// intoto-ci, once for two steps, and uploads both links; a tampered archive, a missing asset, an
// unreachable mirror and an unsupported runner each fail the step before the wrapped command runs, with
// the message the user needs.
func TestActionInstallsRelease(t *testing.T) {
	t.Parallel()
	standIns(t)
	dist := releasetest.Shared(t)
	marker := filepath.Join(t.TempDir(), "tampered-binary-ran")
	tampered := releasetest.TamperedArchive(t, marker)
	srv := releasetest.NewServer(t, dist, tampered)
	action := releaseAction(t, dist)

	cli := buildtest.IntotoCI(t)
	repo := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "workflows", "install.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".github", "workflows", "install.yml"), string(b))
	if out, err := exec.Command(cli, "key", "generate", "--type", "ed25519", "-o", filepath.Join(repo, ".keys", "step")).CombinedOutput(); err != nil {
		t.Fatalf("intoto-ci key generate: %v\n%s", err, out)
	}
	gitRepo(t, repo)

	res := runAct(t, actConfig{repo: repo, workflow: ".github/workflows/install.yml", action: action,
		serverURL: srv.URL, vars: map[string]string{"UNREACHABLE_URL": "http://releases.localhost:1"}})
	for _, job := range []string{"happy", "tampered", "missing", "unreachable", "unsupported"} {
		if got := res.job(job); got != "succeeded" {
			t.Errorf("job %s: got %q, want succeeded\n%s", job, got, res.jobLog(job))
		}
	}

	v := dist.Version
	asset := "intoto-ci_" + v + "_linux_amd64.tar.gz"
	official := "/intoto-ci/intoto-ci/releases/download/" + v + "/"
	t.Run("happy path", func(t *testing.T) {
		log := res.jobLog("happy")
		if !strings.Contains(log, "WRAPPED-COMMAND-RAN") || !strings.Contains(log, "installed intoto-ci "+v) {
			t.Errorf("happy job did not install and run:\n%s", log)
		}
		var got []string
		for _, p := range srv.Requests() {
			if strings.HasPrefix(p, official) {
				got = append(got, strings.TrimPrefix(p, official))
			}
		}
		if len(got) != 1 || got[0] != asset {
			t.Errorf("downloads from the release: got %v, want [%s] (once per job, no keyless helper for key signing)", got, asset)
		}
		zips, err := filepath.Glob(filepath.Join(res.artifacts, "*", "intoto-links-*"))
		if err != nil || len(zips) < 2 {
			t.Errorf("uploaded link artifacts: got %v (%v), want the two steps' links", zips, err)
		}
	})

	t.Run("tampered asset", func(t *testing.T) {
		log := res.jobLog("tampered")
		sum := sha256.Sum256(tampered)
		want := "release asset " + asset + " has sha256 " + hex.EncodeToString(sum[:]) +
			", but checksums.txt at the action's ref says " + dist.Sums[asset] + ": refusing to run it"
		if !strings.Contains(log, want) {
			t.Errorf("tampered job: no %q in\n%s", want, log)
		}
		if _, err := os.Stat(marker); err == nil || strings.Contains(log, "TAMPERED-BINARY-RAN") {
			t.Error("the tampered binary ran")
		}
	})

	for job, want := range map[string]string{
		"missing":     "could not download " + srv.URL + "/missing/" + v + "/" + asset,
		"unreachable": "could not download http://releases.localhost:1/" + v + "/" + asset,
		"unsupported": "has no build for this runner (linux/riscv64); supported: darwin/amd64 darwin/arm64 linux/amd64 linux/arm64 windows/amd64 windows/arm64",
	} {
		t.Run(job, func(t *testing.T) {
			log := res.jobLog(job)
			if !strings.Contains(log, want) {
				t.Errorf("%s job: no %q in\n%s", job, want, log)
			}
			if job != "unsupported" && !strings.Contains(log, "set input download-url to its base URL") {
				t.Errorf("%s job: the error does not say how to use a mirror:\n%s", job, log)
			}
		})
	}
	for _, job := range []string{"tampered", "missing", "unreachable", "unsupported"} {
		if strings.Contains(res.jobLog(job), "WRAPPED-COMMAND-RAN") {
			t.Errorf("job %s: the wrapped command ran although the install failed", job)
		}
	}
}
