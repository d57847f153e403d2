package gitlab

import (
	"archive/tar"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
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

// pipeline runs the example pipeline keyless against the loopback Sigstore stack, with its
// .gitlab-ci.yml passed through edit, and returns the project directory and the run.
func pipeline(t *testing.T, edit func(string) string) (string, gclResult) {
	t.Helper()
	gitlabCILocal(t) // skip early when the runner is missing
	stack := sigstack.Shared(t)
	bin := binaryDir(t)
	project := newProject(t, edit)
	signLayout(t, filepath.Join(bin, "intoto-ci"), project, stack.GitLab.URL)
	commit(t, project)
	token := stack.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{}))
	res := runGCL(t, project, []string{bin},
		"--shell-isolation", "--force-shell-executor", "--no-color", "--no-json-schema-validation",
		"--variable", "SIGSTORE_ID_TOKEN="+token,
		"--variable", "SIGNING_CONFIG="+stack.SigningConfigPath,
		"--variable", "TRUSTED_ROOT="+stack.TrustedRootPath)
	return project, res
}

// signLayout compiles and signs the example's layout with a fresh key, pinning the stack's GitLab
// issuer instead of https://gitlab.com, and writes .intoto/root.layout and .intoto/layout.pub.
func signLayout(tb testing.TB, bin, project, issuer string) {
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
	var sum string
	project, res := pipeline(t, func(s string) string {
		// The build job fetches the release archive (install: download), checks its checksum and signs
		// keyless with the two binaries it holds; package and verify run them from the image's PATH
		// (install: image, the default).
		var archive string
		archive, sum = releaseArchive(t)
		return strings.Replace(s, "      products: dist/app.txt\n",
			"      products: dist/app.txt\n      install: download\n      download-url: file://"+archive+"\n      sha256: "+sum+"\n", 1)
	})
	if res.code != 0 {
		t.Fatalf("pipeline exited %d, want 0\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if log := jobLog(res.stdout+res.stderr, "build"); !strings.Contains(log, "release.tar.gz: OK") {
		t.Errorf("build job log has no checksum OK line:\n%s", log)
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
	project, res := pipeline(t, func(s string) string {
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

// TestDownloadChecksumMismatch: with install: download, an archive whose SHA-256 differs from the pinned
// one is refused before anything runs, and the job fails.
func TestDownloadChecksumMismatch(t *testing.T) {
	t.Parallel()
	bin, _ := releaseArchive(t)
	wrong := strings.Repeat("ab", 32)
	project := newProject(t, func(s string) string {
		return strings.Replace(s, "      products: dist/app.txt\n",
			"      products: dist/app.txt\n      install: download\n      download-url: file://"+bin+"\n      sha256: "+wrong+"\n", 1)
	})
	res := runGCL(t, project, nil, "--shell-isolation", "--force-shell-executor", "--no-color",
		"--no-json-schema-validation", "build")
	if res.code == 0 {
		t.Fatalf("build job exited 0 with a wrong checksum\n%s", res.stdout)
	}
	log := jobLog(res.stdout+res.stderr, "build")
	if !strings.Contains(log, "intoto-ci: checksum mismatch for file://"+bin) {
		t.Errorf("build job log does not report the checksum mismatch:\n%s", log)
	}
	if strings.Contains(log, "links/build.") {
		t.Errorf("build job wrote a link despite the mismatch:\n%s", log)
	}
}

// releaseArchive packs the two binaries as a release archive (intoto-ci_<version>_linux_amd64.tar.gz)
// and returns its path and SHA-256.
func releaseArchive(t testing.TB) (string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "intoto-ci_v0.1.0_linux_amd64.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	gz := gzip.NewWriter(io.MultiWriter(f, h))
	tw := tar.NewWriter(gz)
	for _, name := range []string{"intoto-ci", "intoto-ci-sigstore"} {
		b, err := os.ReadFile(filepath.Join(binaryDir(t), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(b)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []io.Closer{tw, gz, f} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path, hex.EncodeToString(h.Sum(nil))
}
