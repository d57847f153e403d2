package faults

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/wire"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// keyDir makes a signing key and a links dir for wrapped-command tests.
func keyDir(t *testing.T) (key, links string) {
	t.Helper()
	dir := t.TempDir()
	harness.Key(t, dir, "k")
	links = filepath.Join(dir, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "k"), links
}

func runArgs(key, links string, cmd ...string) []string {
	return append([]string{"run", "--step", "s", "--key", key, "--links-dir", links, "--"}, cmd...)
}

func readLink(t *testing.T, links string) *intoto.Link {
	t.Helper()
	m := harness.Glob(t, filepath.Join(links, "s.*.link"))
	if len(m) != 1 {
		t.Fatalf("got links %v, want one", m)
	}
	l, err := wire.DecodeLink(harness.Payload(t, m[0]))
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The wrapped command's exit code is intoto-ci's, also when a signal killed it (128+n), and the
// link records it.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0}, {"exit 1", 1}, {"exit 7", 7}, {"exit 255", 255},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)}, {"kill -KILL $$", 128 + int(syscall.SIGKILL)},
		{"kill -SEGV $$", 128 + int(syscall.SIGSEGV)},
	} {
		t.Run(tc.script, func(t *testing.T) {
			t.Parallel()
			key, links := keyDir(t)
			r := harness.Run(t, harness.Cmd{Args: runArgs(key, links, "sh", "-c", tc.script)})
			if r.Code != tc.want {
				t.Fatalf("got exit %d, want %d: %s", r.Code, tc.want, r)
			}
			if got := readLink(t, links).ByProducts["return-value"]; got != float64(tc.want) {
				t.Errorf("link return-value %v, want %d", got, tc.want)
			}
		})
	}
	t.Run("command not found", func(t *testing.T) {
		t.Parallel()
		key, links := keyDir(t)
		r := harness.Run(t, harness.Cmd{Args: runArgs(key, links, "/nonexistent/cmd")})
		if r.Code == 0 {
			t.Fatalf("a command that cannot start: got exit 0: %s", r)
		}
	})
}

// SIGTERM sent to intoto-ci reaches the wrapped command, whose own exit code (from its trap) is
// intoto-ci's, and whose link is still written.
func TestSIGTERMForwarded(t *testing.T) {
	t.Parallel()
	key, links := keyDir(t)
	marker := filepath.Join(t.TempDir(), "got-term")
	script := `trap 'echo term > ` + marker + `; exit 42' TERM; echo ready; while :; do sleep 0.05; done`
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := harness.Command(t, ctx, harness.Cmd{Args: runArgs(key, links, "sh", "-c", script)})
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("the command did not start: %q %v", sc.Text(), sc.Err())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, out) //nolint:errcheck // drain
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != 42 {
		t.Fatalf("got exit %d (%v), want the trap's 42", code, err)
	}
	if _, err := os.Stat(marker); err != nil {
		t.Errorf("the command never saw SIGTERM: %v", err)
	}
	if got := readLink(t, links).ByProducts["return-value"]; got != float64(42) {
		t.Errorf("link return-value %v, want 42", got)
	}
}

// Hundreds of MB of output stream through without intoto-ci's memory growing with them: the peak RSS
// for 400 MiB of output is about that for 40 MiB (both beyond the 16 MiB capture cap, so the link's
// encoding costs the same); the link keeps a capped prefix and says it is truncated.
func TestHugeOutputStreamed(t *testing.T) {
	t.Parallel()
	small := streamPeak(t, 40<<20)
	large := streamPeak(t, 400<<20)
	t.Logf("peak RSS %d MiB for 50 MiB of output, %d MiB for 500 MiB", small>>10, large>>10)
	if large > small+small/2+64<<10 {
		t.Errorf("memory grows with the output: peak RSS %d MiB for 50 MiB, %d MiB for 500 MiB", small>>10, large>>10)
	}
}

// streamPeak runs a command printing size bytes on stdout and size/4 on stderr and returns the peak
// RSS (KiB) of intoto-ci seen while reading its output.
func streamPeak(t *testing.T, size int) int64 {
	t.Helper()
	key, links := keyDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := harness.Command(t, ctx, harness.Cmd{Args: runArgs(key, links, "sh", "-c",
		"yes 0123456789abcdef | head -c "+strconv.Itoa(size)+"; yes fedcba | head -c "+strconv.Itoa(size/4)+" >&2")})
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	type res struct{ n, peak int64 }
	done := make(chan res, 2)
	for _, r := range []io.Reader{stdout, stderr} {
		go func() {
			buf := make([]byte, 1<<20)
			var out res
			for {
				k, err := r.Read(buf)
				out.n += int64(k)
				out.peak = max(out.peak, rssKiB(cmd.Process.Pid))
				if err != nil {
					done <- out
					return
				}
			}
		}()
	}
	a, b := <-done, <-done
	if err := cmd.Wait(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if a.n+b.n < int64(size+size/4) { // plus the link path run prints
		t.Errorf("got %d bytes of output, want %d", a.n+b.n, size+size/4)
	}
	if readLink(t, links).ByProducts["truncated"] != true {
		t.Errorf("link byproducts do not say truncated")
	}
	return max(a.peak, b.peak)
}

// rssKiB reads VmRSS of pid from /proc (0 when gone).
func rssKiB(pid int) int64 {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return n
		}
	}
	return 0
}

func TestStdinPassedThrough(t *testing.T) {
	t.Parallel()
	key, links := keyDir(t)
	r := harness.Run(t, harness.Cmd{Args: runArgs(key, links, "sh", "-c", "tr a-z A-Z"), Stdin: strings.NewReader("hello stdin\n")})
	if r.Code != 0 || !strings.Contains(r.Out, "HELLO STDIN") {
		t.Fatalf("stdin not passed: %s", r)
	}
	if got := readLink(t, links).ByProducts["stdout"]; got != "HELLO STDIN\n" {
		t.Errorf("recorded stdout %q", got)
	}
}

// A full or read-only links directory: the command's result survives, the error names the link, and
// no partial file is left behind. Needs root and a mount namespace.
func TestLinksDirFullOrReadOnly(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("unshare")
	harness.Need(t, err == nil && os.Geteuid() == 0 && exec.Command("unshare", "-m", "true").Run() == nil,
		"needs root and unshare -m")
	for _, tc := range []struct{ name, opts string }{{"full", "size=8k"}, {"read-only", "ro,size=1m"}} {
		for _, code := range []int{0, 9} {
			t.Run(tc.name+"/exit "+strconv.Itoa(code), func(t *testing.T) {
				t.Parallel()
				key, links := keyDir(t)
				bin := harness.Binary(t)
				// 64 KiB of output makes the link larger than the 8 KiB tmpfs.
				script := "echo out-marker; head -c 65536 /dev/zero | tr '\\0' x; exit " + strconv.Itoa(code)
				ns := `mount -t tmpfs -o "$1" tmpfs "$2" || exit 99; links=$2; shift 2; "$@"; code=$?
echo "LINKS-DIR:$(ls -A "$links" | tr '\n' ' ')" >&2; exit $code`
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
				defer cancel()
				cmd := exec.CommandContext(ctx, "unshare", "-m", "sh", "-c", ns, "sh", tc.opts, links, bin,
					"run", "--step", "s", "--key", key, "--links-dir", links, "--", "sh", "-c", script)
				cmd.Env = harness.Environ(nil)
				var out, errb strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &errb
				err := cmd.Run()
				got := cmd.ProcessState.ExitCode()
				want := code
				if code == 0 {
					want = 3
				}
				if got != want {
					t.Fatalf("got exit %d (%v), want %d\nstdout %.300s\nstderr %.2000s", got, err, want, out.String(), errb.String())
				}
				if !strings.HasPrefix(out.String(), "out-marker") {
					t.Errorf("command output lost: %.100q", out.String())
				}
				var errLines []string
				var listing string
				for _, l := range strings.Split(errb.String(), "\n") {
					if strings.HasPrefix(l, "intoto-ci ") {
						errLines = append(errLines, l)
					}
					if rest, ok := strings.CutPrefix(l, "LINKS-DIR:"); ok {
						listing = strings.TrimSpace(rest)
					}
				}
				if len(errLines) != 1 || !strings.Contains(errLines[0], "s.") || !strings.Contains(errLines[0], ".link") {
					t.Errorf("want one error line naming the link file, got %q", errLines)
				}
				if listing != "" {
					t.Errorf("links dir left with %q, want nothing (no half-written link)", listing)
				}
			})
		}
	}
}
