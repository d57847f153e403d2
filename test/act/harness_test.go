package act

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The refs action.yml pins; act maps them to the stand-ins under test/actions.
const (
	uploadArtifactRef   = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"
	downloadArtifactRef = "actions/download-artifact@d3f86a106a0bac45b974a628896c90dbdf5c8093"
	setupGoRef          = "actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5"
	// actionRef is how the example and test workflows use this repository's action.
	actionRef = "intoto-ci/intoto-ci@main"
)

// actTimeout bounds one act invocation.
const actTimeout = 9 * time.Minute

// underCI tells whether a missing tool must fail the test rather than skip it.
func underCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// unavailable skips the test, or fails it under CI=true.
func unavailable(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if underCI() {
		tb.Fatalf("unavailable under CI: "+format, args...)
	}
	tb.Skipf("unavailable: "+format, args...)
}

var gopath = sync.OnceValues(func() (string, error) {
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.Split(string(out), string(os.PathListSeparator))[0]), nil
})

// tool finds a binary on PATH or in $(go env GOPATH)/bin, where .ci/setup installs act and actionlint.
func tool(tb testing.TB, name string) string {
	tb.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if gp, err := gopath(); err == nil {
		p := filepath.Join(gp, "bin", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	unavailable(tb, "%s not found on PATH or in $(go env GOPATH)/bin (run .ci/setup)", name)
	return ""
}

// repoRoot is the repository root (the test runs in test/act).
func repoRoot(tb testing.TB) string {
	tb.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "action.yml")); err != nil {
		tb.Fatalf("repository root: %v", err)
	}
	return root
}

// standIns returns the directory of the stand-in artifact actions, with their node_modules installed.
func standIns(tb testing.TB) string {
	tb.Helper()
	dir := filepath.Join(repoRoot(tb), "test", "actions")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@actions", "artifact")); err != nil {
		unavailable(tb, "stand-in artifact actions not installed (run .ci/setup: npm install in test/actions): %v", err)
	}
	tool(tb, "node")
	return dir
}

// copyTree copies the regular files under src into dst, leaving out what skip says.
func copyTree(tb testing.TB, src, dst string, skip func(rel string, d fs.DirEntry) bool) {
	tb.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skip != nil && skip(rel, d) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
	if err != nil {
		tb.Fatalf("copy %s to %s: %v", src, dst, err)
	}
}

func writeFile(tb testing.TB, path, content string) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// actionSource copies what the action needs to build intoto-ci (action.yml, checksums.txt, the Go module
// without tests and test data) into a fresh directory, so act copies a small tree for every job.
func actionSource(tb testing.TB) string {
	tb.Helper()
	root := repoRoot(tb)
	dst := tb.TempDir()
	for _, f := range []string{"action.yml", "checksums.txt", "scripts/action-install.sh", "go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			tb.Fatal(err)
		}
		writeFile(tb, filepath.Join(dst, f), string(b))
	}
	for _, d := range []string{"cmd", "internal"} {
		copyTree(tb, filepath.Join(root, d), filepath.Join(dst, d), func(rel string, e fs.DirEntry) bool {
			return e.Name() == "testdata" || strings.HasSuffix(e.Name(), "_test.go")
		})
	}
	return dst
}

// gitRepo makes dir a git repository with one commit and an origin on github.com/acme/app, as act reads
// the repository, ref and commit from git. It returns the commit.
func gitRepo(tb testing.TB, dir string) string {
	tb.Helper()
	git := func(args ...string) string {
		cmd := exec.Command("git", append([]string{"-c", "commit.gpgsign=false", "-c", "init.defaultBranch=main"}, args...)...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=test", "GIT_AUTHOR_EMAIL=test@example.com",
			"GIT_COMMITTER_NAME=test", "GIT_COMMITTER_EMAIL=test@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("checkout", "-q", "-B", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "fixture")
	git("remote", "add", "origin", "https://github.com/acme/app.git")
	return git("rev-parse", "HEAD")
}

func freePort(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

// actConfig is one act invocation.
type actConfig struct {
	repo     string            // the workflow repository (a git repository)
	workflow string            // workflow file, relative to repo
	action   string            // directory act maps intoto-ci/intoto-ci@main to
	env      map[string]string // --env
	vars     map[string]string // --var
	// serverURL, when set, is GITHUB_SERVER_URL: where the action downloads the release from.
	serverURL string
	// procEnv overrides variables of act's own environment (what host-mode steps see), e.g. PATH.
	procEnv []string
	// eventPath, when set, is the push event act runs (e.g. a tag's ref).
	eventPath string
	// event is the event act runs: push when empty, or e.g. workflow_dispatch with inputs.
	event  string
	inputs map[string]string // --input, for workflow_dispatch
}

// actResult is what an act invocation left behind.
type actResult struct {
	log       string
	err       error
	jobs      map[string]string // job id → "succeeded" or "failed"
	artifacts string            // the artifact server's storage
}

var jobLine = regexp.MustCompile(`(?m)^\[([^\]]+)\] \S*\s+Job (succeeded|failed)\s*$`)

// runAct runs `act push` (or cfg.event) in host mode, fully offline: actions/checkout is act's local copy, every other
// action is a local directory, the artifact server listens on loopback.
func runAct(tb testing.TB, cfg actConfig) actResult {
	tb.Helper()
	actBin := tool(tb, "act")
	actions := standIns(tb)
	tmp := tb.TempDir()
	event := cfg.event
	if event == "" {
		event = "push"
	}
	args := []string{event,
		"-W", cfg.workflow,
		"-P", "ubuntu-latest=-self-hosted",
		"--action-offline-mode",
		"--action-cache-path", filepath.Join(tmp, "cache"),
		"--artifact-server-path", filepath.Join(tmp, "artifacts"),
		"--artifact-server-addr", "127.0.0.1",
		"--artifact-server-port", freePort(tb),
		"--cache-server-addr", "127.0.0.1",
		"--no-cache-server",
		"--log-prefix-job-id",
		"--concurrent-jobs", "1",
		"--local-repository", actionRef + "=" + cfg.action,
		"--local-repository", uploadArtifactRef + "=" + filepath.Join(actions, "upload-artifact"),
		"--local-repository", downloadArtifactRef + "=" + filepath.Join(actions, "download-artifact"),
		"--local-repository", setupGoRef + "=" + filepath.Join(actions, "setup-go"),
		"--env", "NODE_PATH=" + filepath.Join(actions, "node_modules"),
	}
	if cfg.eventPath != "" {
		args = append(args, "--eventpath", cfg.eventPath)
	}
	if cfg.serverURL != "" {
		args = append(args, "--env", "GITHUB_SERVER_URL="+cfg.serverURL)
	}
	for _, k := range sortedKeys(cfg.env) {
		args = append(args, "--env", k+"="+cfg.env[k])
	}
	for _, k := range sortedKeys(cfg.vars) {
		args = append(args, "--var", k+"="+cfg.vars[k])
	}
	for _, k := range sortedKeys(cfg.inputs) {
		args = append(args, "--input", k+"="+cfg.inputs[k])
	}
	ctx, cancel := context.WithTimeout(context.Background(), actTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, actBin, args...)
	cmd.Dir = cfg.repo
	cmd.Env = append(hostEnv(filepath.Join(tmp, "home")), cfg.procEnv...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		err = errors.Join(err, ctx.Err())
	}
	res := actResult{log: out.String(), err: err, jobs: map[string]string{}, artifacts: filepath.Join(tmp, "artifacts")}
	for _, m := range jobLine.FindAllStringSubmatch(res.log, -1) {
		res.jobs[m[1]] = m[2]
	}
	tb.Logf("act %s: %v in %s; jobs %v", cfg.workflow, err, time.Since(t0).Round(time.Second), res.jobs)
	logPath := filepath.Join(tmp, "act.log")
	if werr := os.WriteFile(logPath, out.Bytes(), 0o644); werr == nil {
		tb.Logf("act log: %s", logPath)
	}
	return res
}

// hostEnv is the test's environment for act, without anything that would make act or the steps believe
// they run on a real runner or hold a real token.
func hostEnv(home string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "GITHUB_") || strings.HasPrefix(k, "ACTIONS_") || strings.HasPrefix(k, "RUNNER_") ||
			k == "CI" || k == "INTOTO_CI_PLATFORM" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// job returns the status of the job whose id is id or starts with id (matrix legs).
func (r actResult) job(id string) string {
	if s, ok := r.jobs[id]; ok {
		return s
	}
	status := ""
	for k, s := range r.jobs {
		if strings.HasPrefix(k, id+"-") {
			if s == "failed" || status == "" {
				status = s
			}
		}
	}
	return status
}

// jobLog returns the lines act printed for job id.
func (r actResult) jobLog(id string) string {
	var b strings.Builder
	for _, line := range strings.Split(r.log, "\n") {
		if strings.HasPrefix(line, "["+id+"]") || strings.HasPrefix(line, "["+id+"-") {
			b.WriteString(line)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
