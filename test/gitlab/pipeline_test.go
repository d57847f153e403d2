package gitlab

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/schema"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// pipeline runs the example pipeline keyless against the loopback Sigstore stack, every job installing
// intoto-ci from the release (install: download, served on loopback, its URL in a CI/CD variable), with
// its .gitlab-ci.yml passed through edit, and returns the project directory, the run and the directory
// the jobs' temporary files went to.
func pipeline(t *testing.T, edit func(string) string) (string, gclResult, string) {
	t.Helper()
	gitlabCILocal(t) // skip early when the runner is missing
	stack := sigstack.Shared(t)
	rel, _ := loopbackRelease(t)
	project := newProject(t, func(s string) string {
		s = withDownload(s, rel.ChecksumsSHA256, "$INTOTO_CI_DOWNLOAD_URL")
		if edit != nil {
			s = edit(s)
		}
		return s
	})
	signLayout(t, filepath.Join(binaryDir(t), "intoto-ci"), project, stack.GitLab.URL)
	commit(t, project)
	token := stack.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{}))
	tmp := t.TempDir()
	res := runGCL(t, project, nil,
		"--shell-isolation", "--force-shell-executor", "--no-color", "--no-json-schema-validation",
		"--variable", "SIGSTORE_ID_TOKEN="+token,
		"--variable", "SIGNING_CONFIG="+stack.SigningConfigPath,
		"--variable", "TRUSTED_ROOT="+stack.TrustedRootPath,
		"--variable", "INTOTO_CI_DOWNLOAD_URL="+rel.IPURL,
		"--variable", "TMPDIR="+tmp)
	return project, res, tmp
}

// withDownload makes every include of the pipeline install the release by download.
func withDownload(s, checksumsSHA256, url string) string {
	return strings.ReplaceAll(s, "    inputs:\n", "    inputs:\n      install: download\n      checksums-sha256: "+checksumsSHA256+
		"\n      download-url: "+url+"\n")
}

// signLayout compiles and signs the example's layout with a fresh key, pinning the stack's GitLab
// issuer instead of https://gitlab.com, and writes .intoto/root.layout and .intoto/layout.pub. It returns
// the private key's path.
func signLayout(tb testing.TB, bin, project, issuer string) string {
	tb.Helper()
	src := filepath.Join(project, ".intoto", "layout.yaml")
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	const pinned = "issuer: https://gitlab.com\n"
	if !strings.Contains(string(b), pinned) {
		tb.Fatalf("%s does not pin %q", src, pinned)
	}
	if err := os.WriteFile(src, []byte(strings.Replace(string(b), pinned, "issuer: "+issuer+"\n", 1)), 0o644); err != nil {
		tb.Fatal(err)
	}
	keys := tb.TempDir()
	intotoCI(tb, project, bin, "key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, "layout"))
	unsigned := filepath.Join(keys, "layout.json")
	layouttest.WriteJSON(tb, src, unsigned)
	intotoCI(tb, project, bin, "sign", "--file", unsigned, "--key", filepath.Join(keys, "layout"),
		"--output", filepath.Join(project, ".intoto", "root.layout"))
	pub, err := os.ReadFile(filepath.Join(keys, "layout.pub"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(project, ".intoto", "layout.pub"), pub, 0o644); err != nil {
		tb.Fatal(err)
	}
	return filepath.Join(keys, "layout")
}

func intotoCI(tb testing.TB, dir, bin string, args ...string) {
	tb.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("intoto-ci %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// jobLog returns what gitlab-ci-local printed for one job (its lines are prefixed by the job name).
func jobLog(out, job string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(strings.TrimLeft(l, " "), job+" ") {
			b.WriteString(l)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func TestPipelineVerifies(t *testing.T) {
	t.Parallel()
	project, res, tmp := pipeline(t, nil)
	if res.code != 0 {
		t.Fatalf("pipeline exited %d, want 0\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, job := range []string{"build", "package"} {
		if log := jobLog(res.stdout+res.stderr, job); !strings.Contains(log, "intoto-ci: installed intoto-ci intoto-ci-sigstore") {
			t.Errorf("%s job did not install both binaries (keyless) from the release:\n%s", job, log)
		}
	}
	left, err := os.ReadDir(tmp)
	if err != nil || len(left) != 0 {
		t.Errorf("the jobs left %v (%v) in their temporary directory, want nothing", left, err)
	}
	report := filepath.Join(project, ".gitlab-ci-local", "artifacts", "intoto-ci-verify", "intoto-ci-junit.xml")
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("verify job's JUnit report: %v\n%s", err, res.stdout)
	}
	if !strings.Contains(string(b), "<testsuite") || strings.Contains(string(b), "<failure") {
		t.Errorf("got JUnit report\n%s\nwant a test suite without failures", b)
	}
	schema.JUnit(t, report, b)
	// The verify job's log shows the text report; the JUnit XML goes to the artifact only.
	if log := jobLog(res.stdout+res.stderr, "intoto-ci-verify"); !strings.Contains(log, "VERIFIED") || strings.Contains(log, "<testsuite") {
		t.Errorf("verify job log: want the text report ending VERIFIED and no JUnit XML:\n%s", log)
	}
	for _, job := range []string{"build", "package"} {
		links, err := filepath.Glob(filepath.Join(project, ".gitlab-ci-local", "artifacts", job, "links", job+".*"))
		if err != nil || len(links) != 1 {
			t.Errorf("job %s: got links %v (%v), want one %s.* link", job, links, err, job)
		}
	}
}

// TestPipelineRefusesTamperedProduct alters build's product before package records it: package's
// materials no longer match build's products, so the verify job refuses and the pipeline fails.
func TestPipelineRefusesTamperedProduct(t *testing.T) {
	t.Parallel()
	project, res, _ := pipeline(t, func(s string) string {
		return strings.Replace(s, "  extends: .intoto-ci-run-package\n",
			"  extends: .intoto-ci-run-package\n  before_script:\n    - echo tampered >> dist/app.txt\n", 1)
	})
	if res.code == 0 {
		t.Fatalf("pipeline exited 0, want a failure\n%s", res.stdout)
	}
	for _, job := range []string{"build", "package"} {
		if log := jobLog(res.stdout+res.stderr, job); !strings.Contains(log, "finished in") || strings.Contains(log, "FAIL") {
			t.Errorf("job %s should succeed:\n%s", job, log)
		}
	}
	log := jobLog(res.stdout+res.stderr, "intoto-ci-verify")
	if !strings.Contains(log, "dist/app.txt") {
		t.Errorf("verify job log does not name the altered artifact:\n%s", log)
	}
	report := filepath.Join(project, ".gitlab-ci-local", "artifacts", "intoto-ci-verify", "intoto-ci-junit.xml")
	if b, err := os.ReadFile(report); err != nil || !strings.Contains(string(b), "<failure") {
		t.Errorf("got JUnit report %q (%v), want one with a failure", b, err)
	} else {
		schema.JUnit(t, report, b)
	}
}
