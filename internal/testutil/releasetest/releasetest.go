// Package releasetest builds the release as `make release` does (.goreleaser.yaml, through the goreleaser
// pinned in tools/release/go.mod, snapshot, nothing published) for the tests that check it or install from
// it. The full release (two binaries for six platforms) is the costliest build of the suite, so Shared builds
// it once per source tree and test run: test packages run as separate processes, so the build sits in a
// directory named by a digest of its inputs, guarded by a file lock, and every later caller reuses it.
// Imported only by tests.
package releasetest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Dist is one release build.
type Dist struct {
	Dir     string            // the dist folder goreleaser wrote: archives and checksums.txt
	Version string            // the version the assets carry, e.g. v0.1.0
	Sums    map[string]string // asset file name → sha256, from Dir/checksums.txt
	Took    time.Duration     // wall time of the build (of the earlier build when reused)
}

// Asset is the path of one asset of the release.
func (d *Dist) Asset(name string) string { return filepath.Join(d.Dir, name) }

// Assets lists the asset names checksums.txt holds, sorted.
func (d *Dist) Assets() []string {
	names := make([]string, 0, len(d.Sums))
	for n := range d.Sums {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Options of one build.
type Options struct {
	// GoCache is the Go build cache the build uses; empty means the caller's. A separate, empty cache
	// is what shows a build is reproducible rather than replayed from the cache.
	GoCache string
	// Dir is where the source copy and its dist go; empty means a fresh temporary directory.
	Dir string
}

// underCI tells whether a missing tool must fail the test rather than skip it.
func underCI() bool {
	v, err := strconv.ParseBool(os.Getenv("CI"))
	return err == nil && v
}

// Root is the repository root: the nearest directory above the working directory with .goreleaser.yaml.
func Root(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, ".goreleaser.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no .goreleaser.yaml above the working directory")
		}
		dir = parent
	}
}

// assetLine is one line of checksums.txt naming an intoto-ci archive; it gives the release's version.
var assetLine = regexp.MustCompile(`(?m)^[0-9a-f]{64}  intoto-ci_(v[^_\s]+)_[a-z0-9]+_[a-z0-9]+\.(?:tar\.gz|zip)$`)

// Version is the release checksums.txt at the root names (what `make release` builds by default), or
// v0.0.0-test when it names none.
func Version(tb testing.TB, root string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(root, "checksums.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	if m := assetLine.FindSubmatch(b); m != nil {
		return string(m[1])
	}
	return "v0.0.0-test"
}

// sources are the files and trees a release is built from (tests and test data left out).
var sources = []string{"go.mod", "go.sum", ".goreleaser.yaml", "Dockerfile", "cmd", "internal"}

// skipSource leaves out tests, test data and the test helpers under internal/testutil (no release
// binary imports them), so that changing a test helper does not rebuild the release.
func skipSource(rel string, d fs.DirEntry) bool {
	return d.Name() == "testdata" || strings.HasSuffix(d.Name(), "_test.go") || (d.IsDir() && d.Name() == "testutil")
}

// inputsDigest is a digest of everything a build depends on: the sources, the goreleaser pin, the version,
// the Go toolchain.
func inputsDigest(root, version string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00", version, runtime.Version())
	files := []string{"tools/release/go.mod", "tools/release/go.sum"}
	for _, src := range sources {
		err := filepath.WalkDir(filepath.Join(root, src), func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			if skipSource(rel, d) {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() {
				files = append(files, rel)
			}
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	for _, f := range files {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Shared returns the release built from this checkout with the caller's Go cache, building it when no
// earlier test of this run (in any package) has.
func Shared(tb testing.TB) *Dist {
	tb.Helper()
	root := Root(tb)
	version := Version(tb, root)
	key, err := inputsDigest(root, version)
	if err != nil {
		tb.Fatalf("digest the release's inputs: %v", err)
	}
	dir := filepath.Join(os.TempDir(), "intoto-ci-release-"+key)
	lock, err := os.OpenFile(dir+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		tb.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		tb.Fatalf("lock %s: %v", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing the file unlocks too
	done := filepath.Join(dir, "complete")
	if b, err := os.ReadFile(done); err == nil {
		d, err := load(filepath.Join(dir, "src", "dist"), version)
		if err != nil {
			tb.Fatalf("reuse the release built in %s: %v", dir, err)
		}
		took, _ := time.ParseDuration(strings.TrimSpace(string(b)))
		d.Took = took
		tb.Logf("reusing the release built earlier in this run (%s, built in %s)", d.Dir, took)
		return d
	}
	if err := os.RemoveAll(dir); err != nil {
		tb.Fatal(err)
	}
	d := Build(tb, Options{Dir: dir})
	if err := os.WriteFile(done, []byte(d.Took.String()+"\n"), 0o644); err != nil {
		tb.Fatal(err)
	}
	return d
}

// Build copies the sources into a fresh directory, makes it a git repository with one commit (fixed
// author, committer and dates, so two copies are the same commit), and runs the release there as
// `make release` does. GOFLAGS is cleared of -buildvcs=false, which this machine's Go environment sets:
// the release definition must say it itself.
func Build(tb testing.TB, opts Options) *Dist {
	tb.Helper()
	root := Root(tb)
	version := Version(tb, root)
	gorel := goreleaser(tb, root)
	dir := opts.Dir
	if dir == "" {
		dir = tb.TempDir()
	}
	src := filepath.Join(dir, "src")
	for _, s := range sources {
		if err := copyTree(filepath.Join(root, s), filepath.Join(src, s)); err != nil {
			tb.Fatalf("copy the release's sources: %v", err)
		}
	}
	env := buildEnv(version, opts.GoCache)
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=release", "-c", "user.email=release@example.com", "-c", "commit.gpgsign=false",
			"commit", "-q", "-m", "release sources"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = src, append(env, "GIT_AUTHOR_DATE=2026-01-01T00:00:00Z", "GIT_COMMITTER_DATE=2026-01-01T00:00:00Z")
		if out, err := cmd.CombinedOutput(); err != nil {
			tb.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	cmd := exec.Command(gorel, "release", "--snapshot", "--clean", "--skip=docker,publish,validate")
	cmd.Dir, cmd.Env = src, env
	t0 := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(t0)
	if err != nil {
		tb.Fatalf("goreleaser release --snapshot (VERSION=%s): %v\n%s", version, err, tail(out, 60))
	}
	d, err := load(filepath.Join(src, "dist"), version)
	if err != nil {
		tb.Fatalf("release in %s: %v", src, err)
	}
	d.Took = took
	tb.Logf("built release %s (%d assets) in %s, Go cache %q", version, len(d.Sums), took.Round(time.Second), opts.GoCache)
	return d
}

// buildEnv is the environment of a release build: the caller's, without GOFLAGS's -buildvcs=false and
// with GOCACHE replaced when asked.
func buildEnv(version, goCache string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case k == "GOFLAGS":
			var keep []string
			for _, f := range strings.Fields(v) {
				if !strings.HasPrefix(f, "-buildvcs") {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		case k == "GOCACHE" && goCache != "", k == "VERSION", strings.HasPrefix(k, "GIT_"):
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "VERSION="+version, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null")
	if goCache != "" {
		env = append(env, "GOCACHE="+goCache)
	}
	return env
}

// goreleaser returns the path of the pinned goreleaser, built (or found in the build cache) by `go tool`.
func goreleaser(tb testing.TB, root string) string {
	tb.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		tb.Fatalf("go not found: %v", err)
	}
	cmd := exec.Command("go", "tool", "-n", "-modfile="+filepath.Join(root, "tools", "release", "go.mod"), "goreleaser")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		msg := ""
		if errors.As(err, &ee) {
			msg = string(ee.Stderr)
		}
		if underCI() {
			tb.Fatalf("goreleaser (tools/release/go.mod) unavailable under CI: %v\n%s", err, msg)
		}
		tb.Skipf("goreleaser (tools/release/go.mod) unavailable (run .ci/setup): %v\n%s", err, msg)
	}
	return strings.TrimSpace(string(out))
}

// load reads a dist folder's checksums.txt and checks that every asset it names is there.
func load(dir, version string) (*Dist, error) {
	f, err := os.Open(filepath.Join(dir, "checksums.txt"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	d := &Dist{Dir: dir, Version: version, Sums: map[string]string{}}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("checksums.txt: malformed line %q", sc.Text())
		}
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("checksums.txt names %s: %w", name, err)
		}
		d.Sums[name] = sum
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(d.Sums) == 0 {
		return nil, errors.New("checksums.txt lists no asset")
	}
	return d, nil
}

func copyTree(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		if rel != "." && skipSource(rel, d) {
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
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, in); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}

func tail(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
