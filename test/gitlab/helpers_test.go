package gitlab

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
)

// repoRoot is the repository root, relative to this package's directory.
const repoRoot = "../.."

// requireTool skips the test when a tool is missing, or fails it under CI=true.
func requireTool(tb testing.TB, what, reason string) {
	tb.Helper()
	if ci, err := strconv.ParseBool(os.Getenv("CI")); err == nil && ci {
		tb.Fatalf("%s unavailable under CI: %s (run .ci/setup)", what, reason)
	}
	tb.Skipf("%s unavailable: %s (run .ci/setup)", what, reason)
}

// gitlabCILocal returns the path of gitlab-ci-local, after checking its helpers are on PATH.
func gitlabCILocal(tb testing.TB) string {
	tb.Helper()
	tools := os.Getenv("INTOTO_CI_TOOLS")
	if tools == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			requireTool(tb, "gitlab-ci-local", err.Error())
		}
		tools = filepath.Join(home, ".cache", "intoto-ci-tools")
	}
	p := filepath.Join(tools, "node_modules", ".bin", "gitlab-ci-local")
	if _, err := os.Stat(p); err != nil {
		requireTool(tb, "gitlab-ci-local", err.Error())
	}
	for _, name := range []string{"node", "git", "rsync", "sh"} {
		if _, err := exec.LookPath(name); err != nil {
			requireTool(tb, name, err.Error())
		}
	}
	return p
}

// TestMain removes the binary built for the tests (shared by them, so no single test's TempDir).
func TestMain(m *testing.M) { os.Exit(buildtest.Main(m)) }

// binaryDir builds the static intoto-ci binary once per test binary and returns the directory holding it.
func binaryDir(tb testing.TB) string {
	tb.Helper()
	return filepath.Dir(buildtest.IntotoCI(tb))
}

// copyTree copies the regular files and directories under src into dst.
func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
	if err != nil {
		tb.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

// newProject lays out a GitLab project in a temporary git repository: the templates at gitlab/ and the
// example pipeline at the root, its .gitlab-ci.yml passed through edit (when not nil). The origin remote
// is gitlab.com/grp/app, the project the test tokens are minted for.
func newProject(tb testing.TB, edit func(string) string) string {
	tb.Helper()
	dir := tb.TempDir()
	copyTree(tb, filepath.Join(repoRoot, "gitlab"), filepath.Join(dir, "gitlab"))
	copyTree(tb, filepath.Join(repoRoot, "examples", "gitlab"), dir)
	if edit != nil {
		p := filepath.Join(dir, ".gitlab-ci.yml")
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		edited := edit(string(b))
		if edited == string(b) {
			tb.Fatal("edit left .gitlab-ci.yml unchanged")
		}
		if err := os.WriteFile(p, []byte(edited), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	commit(tb, dir)
	return dir
}

// commit (re)commits everything in the project, so gitlab-ci-local sees a clean tree with an origin.
func commit(tb testing.TB, dir string) {
	tb.Helper()
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		git(tb, dir, "init", "-q", "-b", "main")
		git(tb, dir, "remote", "add", "origin", "https://gitlab.com/grp/app.git")
	}
	git(tb, dir, "add", "-A")
	git(tb, dir, "commit", "-q", "--allow-empty", "-m", "example")
	git(tb, dir, "update-ref", "refs/remotes/origin/main", "HEAD")
	git(tb, dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main")
}

func git(tb testing.TB, dir string, args ...string) {
	tb.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=ci", "-c", "user.email=ci@example.com",
		"-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// gclResult is one gitlab-ci-local run.
type gclResult struct {
	stdout, stderr string
	code           int
}

// runGCL runs gitlab-ci-local in the project with pathDirs first on PATH and a private HOME.
func runGCL(tb testing.TB, project string, pathDirs []string, args ...string) gclResult {
	tb.Helper()
	gcl := gitlabCILocal(tb)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, gcl, args...)
	cmd.Dir = project
	path := os.Getenv("PATH")
	if len(pathDirs) > 0 {
		path = strings.Join(pathDirs, string(os.PathListSeparator)) + string(os.PathListSeparator) + path
	}
	cmd.Env = append(os.Environ(), "PATH="+path, "HOME="+tb.TempDir(), "FORCE_COLOR=0", "NO_COLOR=1",
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := gclResult{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok || ctx.Err() != nil {
			tb.Fatalf("gitlab-ci-local %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, res.stdout, res.stderr)
		}
		res.code = ee.ExitCode()
	}
	return res
}
