// Package image builds the step image from the repository's Dockerfile with Debian's docker.io daemon,
// fully offline: the daemon runs without iptables or a bridge, its socket and data under a temporary
// directory; the base image is imported from a busybox-static rootfs and tagged with the name the
// Dockerfile's FROM uses; the binary is compiled on the host. The image then runs `version`, verifies a
// sample chain, and refuses a missing layout or links with a clear message; it runs as non-root. The
// binaries are the release's (the build the suite shares), in the context layout the release uses.
package image

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
)

const (
	repoRoot  = "../.."
	testImage = "intoto-ci:test"
)

func requireTool(tb testing.TB, what, reason string) {
	tb.Helper()
	if ci, err := strconv.ParseBool(os.Getenv("CI")); err == nil && ci {
		tb.Fatalf("%s unavailable under CI: %s (run .ci/setup)", what, reason)
	}
	tb.Skipf("%s unavailable: %s (run .ci/setup)", what, reason)
}

// daemon is a dockerd started by the test.
type daemon struct {
	dir  string
	host string // DOCKER_HOST
	cmd  *exec.Cmd
	log  string
}

// startDaemon starts dockerd with everything under a fresh directory and stops it (by PID, SIGTERM
// then SIGKILL) when the test ends.
func startDaemon(tb testing.TB) *daemon {
	tb.Helper()
	for _, name := range []string{"dockerd", "docker", "containerd", "runc"} {
		if _, err := exec.LookPath(name); err != nil {
			requireTool(tb, name, err.Error())
		}
	}
	if os.Geteuid() != 0 {
		requireTool(tb, "dockerd", "needs root")
	}
	dir, err := os.MkdirTemp("", "icd") // short: the socket path must fit in sun_path
	if err != nil {
		tb.Fatal(err)
	}
	d := &daemon{dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"), log: filepath.Join(dir, "dockerd.log")}
	logf, err := os.Create(d.log)
	if err != nil {
		tb.Fatal(err)
	}
	d.cmd = exec.Command("dockerd",
		"--iptables=false", "--ip6tables=false", "--bridge=none", "--ip-forward=false", "--ip-masq=false",
		"--host", d.host,
		"--data-root", filepath.Join(dir, "data"),
		"--exec-root", filepath.Join(dir, "exec"),
		"--pidfile", filepath.Join(dir, "dockerd.pid"),
		"--containerd-namespace", "intoto-ci-test", "--containerd-plugins-namespace", "intoto-ci-test-plugins")
	d.cmd.Stdout, d.cmd.Stderr = logf, logf
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := d.cmd.Start(); err != nil {
		logf.Close()
		requireTool(tb, "dockerd", err.Error())
	}
	exited := make(chan error, 1)
	go func() { exited <- d.cmd.Wait(); logf.Close() }()
	tb.Cleanup(func() {
		if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			tb.Logf("signal dockerd (pid %d): %v", d.cmd.Process.Pid, err)
		}
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			tb.Logf("dockerd (pid %d) ignored SIGTERM; killing it", d.cmd.Process.Pid)
			if err := d.cmd.Process.Kill(); err != nil {
				tb.Logf("kill dockerd: %v", err)
			}
			<-exited
		}
		if err := os.RemoveAll(dir); err != nil {
			tb.Logf("remove %s: %v", dir, err)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		if _, err := d.docker(context.Background(), nil, "version", "--format", "{{.Server.Version}}"); err == nil {
			return d
		}
		select {
		case err := <-exited:
			exited <- err
			reason := fmt.Sprintf("dockerd exited (%v):\n%s", err, tail(d.log))
			requireTool(tb, "dockerd", reason)
		case <-time.After(300 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tb.Fatalf("dockerd not ready after 60s:\n%s", tail(d.log))
		}
	}
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 30 {
		lines = lines[len(lines)-30:]
	}
	return strings.Join(lines, "\n")
}

// result of a docker command.
type result struct {
	stdout, stderr string
	code           int
}

// docker runs the docker CLI against the daemon; err is set only when docker could not run at all or
// exited non-zero (the result is filled in either way).
func (d *daemon) docker(ctx context.Context, stdin io.Reader, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_HOST="+d.host, "DOCKER_CONFIG="+filepath.Join(d.dir, "config"), "DOCKER_BUILDKIT=0")
	cmd.Stdin = stdin
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		res.code = ee.ExitCode()
	}
	if err != nil {
		return res, fmt.Errorf("docker %s: %w\n%s", strings.Join(args, " "), err, res.stderr)
	}
	return res, nil
}

func (d *daemon) must(tb testing.TB, stdin io.Reader, args ...string) result {
	tb.Helper()
	res, err := d.docker(context.Background(), stdin, args...)
	if err != nil {
		tb.Fatal(err)
	}
	return res
}

// baseImage is the FROM of the Dockerfile (its BASE_IMAGE default).
func baseImage(tb testing.TB, dockerfile string) string {
	tb.Helper()
	m := regexp.MustCompile(`(?m)^ARG BASE_IMAGE=(\S+)$`).FindStringSubmatch(dockerfile)
	if m == nil {
		tb.Fatal("Dockerfile has no ARG BASE_IMAGE=<default>")
	}
	return m[1]
}

// rootfs returns a tar of a minimal busybox root: /bin/busybox (static) and applet links, /tmp 1777.
func rootfs(tb testing.TB) io.Reader {
	tb.Helper()
	bb, err := exec.LookPath("busybox")
	if err != nil {
		requireTool(tb, "busybox (busybox-static)", err.Error())
	}
	body, err := os.ReadFile(bb)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	epoch := time.Unix(0, 0)
	add := func(h *tar.Header, data []byte) {
		h.ModTime = epoch
		if err := tw.WriteHeader(h); err != nil {
			tb.Fatal(err)
		}
		if data != nil {
			if _, err := tw.Write(data); err != nil {
				tb.Fatal(err)
			}
		}
	}
	for _, d := range []string{"bin", "etc", "usr", "usr/local", "usr/local/bin"} {
		add(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755}, nil)
	}
	add(&tar.Header{Typeflag: tar.TypeDir, Name: "tmp/", Mode: 0o1777}, nil)
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "bin/busybox", Mode: 0o755, Size: int64(len(body))}, body)
	for _, applet := range []string{"sh", "cat", "cp", "id", "ls", "mkdir", "mv", "chmod", "tar", "echo", "env", "sha256sum", "grep", "sed", "printf"} {
		add(&tar.Header{Typeflag: tar.TypeSymlink, Name: "bin/" + applet, Linkname: "busybox"}, nil)
	}
	passwd := []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
	add(&tar.Header{Typeflag: tar.TypeReg, Name: "etc/passwd", Mode: 0o644, Size: int64(len(passwd))}, passwd)
	if err := tw.Close(); err != nil {
		tb.Fatal(err)
	}
	return &buf
}

// releaseContext lays out the step image's build context as the release does (goreleaser's
// <os>/<arch>/<binary>), from the linux archives of the release build the suite shares, for the daemon's
// architecture, and returns the path of intoto-ci in it and the release's version.
func releaseContext(tb testing.TB, ctxDir string) (string, string) {
	tb.Helper()
	dist := releasetest.Shared(tb)
	dir := filepath.Join(ctxDir, "linux", runtime.GOARCH)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	for _, name := range []string{"intoto-ci", "intoto-ci-sigstore"} {
		archive := dist.Asset(name + "_" + dist.Version + "_linux_" + runtime.GOARCH + ".tar.gz")
		if out, err := exec.Command("tar", "-xzf", archive, "-C", dir, name).CombinedOutput(); err != nil {
			tb.Fatalf("unpack %s: %v\n%s", archive, err, out)
		}
	}
	return filepath.Join(dir, "intoto-ci"), dist.Version
}

// chain records and signs a one-step supply chain with keys on the host, world-readable so the
// image's non-root user can read it through a bind mount.
func chain(tb testing.TB, bin string) string {
	tb.Helper()
	dir, err := os.MkdirTemp("", "icchain")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			tb.Logf("remove %s: %v", dir, err)
		}
	})
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "chain"))); err != nil {
		tb.Fatal(err)
	}
	keys := tb.TempDir()
	run := func(args ...string) {
		tb.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("intoto-ci %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, "alice"))
	run("key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, "owner"))
	for _, k := range []string{"alice.pub", "owner.pub"} {
		b, err := os.ReadFile(filepath.Join(keys, k))
		if err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, k), b, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	run("run", "--step", "build", "--signing", "key", "--key", filepath.Join(keys, "alice"), "--links-dir", "links",
		"--materials", "src", "--products", "dist/app.txt", "--", "sh", "-c", "mkdir -p dist && cp src/hello.txt dist/app.txt")
	layouttest.WriteJSON(tb, filepath.Join(dir, "layout.yaml"), filepath.Join(keys, "layout.json"))
	run("sign", "--file", filepath.Join(keys, "layout.json"), "--key", filepath.Join(keys, "owner"), "--output", "root.layout")
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		mode := os.FileMode(0o644)
		if d.IsDir() {
			mode = 0o755
		}
		return os.Chmod(path, mode)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return dir
}

func TestStepImage(t *testing.T) {
	d := startDaemon(t)
	dockerfile, err := os.ReadFile(filepath.Join(repoRoot, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	base := baseImage(t, string(dockerfile))
	start := time.Now()
	d.must(t, rootfs(t), "import", "-", base)
	t.Logf("imported %s in %v", base, time.Since(start))

	ctxDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), dockerfile, 0o644); err != nil {
		t.Fatal(err)
	}
	bin, version := releaseContext(t, ctxDir)
	start = time.Now()
	d.must(t, nil, "build", "--build-arg", "VERSION="+version, "--build-arg", "REVISION=0123abcd",
		"--build-arg", "TARGETARCH="+runtime.GOARCH, "-t", testImage, ctxDir)
	t.Logf("built %s in %v", testImage, time.Since(start))

	t.Run("metadata", func(t *testing.T) {
		res := d.must(t, nil, "image", "inspect", "--format",
			`{{.Config.User}}|{{index .Config.Labels "org.opencontainers.image.version"}}|{{index .Config.Labels "org.opencontainers.image.revision"}}|{{json .Config.Entrypoint}}|{{.Size}}`, testImage)
		f := strings.Split(strings.TrimSpace(res.stdout), "|")
		if len(f) != 5 {
			t.Fatalf("inspect output %q", res.stdout)
		}
		if f[0] != "65532:65532" {
			t.Errorf("got user %q, want 65532:65532", f[0])
		}
		if f[1] != version || f[2] != "0123abcd" {
			t.Errorf("got version/revision labels %q/%q, want %q/%q", f[1], f[2], version, "0123abcd")
		}
		if f[3] != `["/usr/local/bin/intoto-ci"]` {
			t.Errorf("got entrypoint %s", f[3])
		}
		size, err := strconv.ParseInt(f[4], 10, 64)
		if err != nil || size > 64<<20 {
			t.Errorf("got image size %s, want under 64 MiB", f[4])
		}
		t.Logf("image size %.1f MiB", float64(size)/(1<<20))
	})

	t.Run("non-root with a shell", func(t *testing.T) {
		res := d.must(t, nil, "run", "--rm", "--network", "none", "--entrypoint", "sh", testImage, "-c",
			"id -u; id -g; command -v intoto-ci; echo $INTOTO_CI_IMAGE; /usr/local/bin/intoto-ci-sigstore version")
		got := strings.Fields(res.stdout)
		if len(got) < 5 || got[0] != "65532" || got[1] != "65532" || got[2] != "/usr/local/bin/intoto-ci" || got[3] != version {
			t.Errorf("got %q, want uid 65532, gid 65532, intoto-ci on PATH, INTOTO_CI_IMAGE=%s (the GitLab templates' marker)", res.stdout, version)
		}
		if !strings.Contains(res.stdout, version) || strings.Count(res.stdout, version) < 2 {
			t.Errorf("intoto-ci-sigstore in the image does not run as %s: %q", version, res.stdout)
		}
	})

	t.Run("version", func(t *testing.T) {
		res := d.must(t, nil, "run", "--rm", "--network", "none", testImage, "version")
		if !strings.Contains(res.stdout, "intoto-ci "+version+" linux/"+runtime.GOARCH) {
			t.Errorf("got %q, want the version %s", res.stdout, version)
		}
	})

	c := chain(t, bin)
	verify := func(extra ...string) (result, error) {
		args := append([]string{"run", "--rm", "--network", "none", "-v", c + ":/work:ro", "-w", "/work", testImage, "verify"}, extra...)
		return d.docker(context.Background(), nil, args...)
	}
	t.Run("verify chain", func(t *testing.T) {
		res, err := verify("--layout", "root.layout", "--layout-key", "owner.pub", "--links-dir", "links")
		if err != nil {
			t.Fatalf("verify in the image: %v\nstdout:\n%s", err, res.stdout)
		}
	})
	t.Run("missing layout", func(t *testing.T) {
		res, err := verify("--layout", "missing.layout", "--layout-key", "owner.pub", "--links-dir", "links")
		if err == nil || res.code != 2 || !strings.Contains(res.stderr, "missing.layout") {
			t.Errorf("got exit %d, stderr %q; want exit 2 naming missing.layout", res.code, res.stderr)
		}
	})
	t.Run("missing links", func(t *testing.T) {
		res, err := verify("--layout", "root.layout", "--layout-key", "owner.pub", "--links-dir", "nolinks")
		if err == nil || res.code != 2 || !strings.Contains(res.stderr, "nolinks") {
			t.Errorf("got exit %d, stderr %q; want exit 2 naming the links dir", res.code, res.stderr)
		}
	})
}
