//go:build unix

package runner

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestHelperProcess is not a test: it is the child the other tests run (the os/exec test pattern).
func TestHelperProcess(t *testing.T) {
	if os.Getenv("RUNNER_TEST_HELPER") != "1" {
		return
	}
	args := os.Args
	for len(args) > 0 && args[0] != "--" {
		args = args[1:]
	}
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, "helper: no mode")
		os.Exit(2)
	}
	os.Exit(helper(args[1], args[2:]))
}

func helper(mode string, args []string) int {
	switch mode {
	case "exit":
		n, _ := strconv.Atoi(args[0])
		fmt.Println("exiting with", n)
		return n
	case "echo":
		fmt.Fprint(os.Stdout, args[0])
		fmt.Fprint(os.Stderr, args[1])
		return 0
	case "cat":
		if _, err := io.Copy(os.Stdout, os.Stdin); err != nil {
			return 1
		}
		return 0
	case "env":
		fmt.Print(strings.Join(os.Environ(), "\n"))
		return 0
	case "pwd":
		wd, _ := os.Getwd()
		fmt.Print(wd)
		return 0
	case "kill-self":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(10 * time.Second)
		return 0
	case "trap":
		// Wait for SIGTERM/SIGINT, report it on stdout and exit 42 (or ignore it with "ignore").
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ready")
		for s := range c {
			if len(args) > 0 && args[0] == "ignore" {
				fmt.Println("ignoring", s)
				continue
			}
			fmt.Println("got", s)
			return 42
		}
	case "count":
		// Exit 40+n after the n-th signal, reporting each one.
		n, _ := strconv.Atoi(args[0])
		c := make(chan os.Signal, 4)
		signal.Notify(c, syscall.SIGTERM, syscall.SIGINT)
		fmt.Println("ready")
		for i := 1; ; i++ {
			s := <-c
			fmt.Printf("signal %d %v\n", i, s)
			if i == n {
				return 40 + n
			}
		}
	case "sleep":
		fmt.Println("ready")
		time.Sleep(30 * time.Second)
		return 0
	case "flood":
		// Interleave n bytes on each stream in chunks larger than a pipe buffer: a reader that drains
		// one stream to EOF before the other deadlocks here.
		n, _ := strconv.Atoi(args[0])
		chunk := bytes.Repeat([]byte("0123456789abcdef"), 128<<10/16)
		for written := 0; written < n; written += len(chunk) {
			c := chunk[:min(len(chunk), n-written)]
			if _, err := os.Stdout.Write(c); err != nil {
				return 1
			}
			if _, err := os.Stderr.Write(c); err != nil {
				return 1
			}
		}
		return 0
	}
	fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
	return 2
}

func helperArgv(mode string, args ...string) []string {
	return append([]string{os.Args[0], "-test.run=^TestHelperProcess$", "--", mode}, args...)
}

func helperEnv() []string {
	return append(os.Environ(), "RUNNER_TEST_HELPER=1")
}

func run(t *testing.T, opts Options) *Result {
	t.Helper()
	if opts.Env == nil {
		opts.Env = helperEnv()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	res, err := Run(ctx, opts)
	if err != nil {
		t.Fatalf("Run(%q): %v", opts.Argv, err)
	}
	return res
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	for _, code := range []int{0, 3, 255} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			res := run(t, Options{Argv: helperArgv("exit", strconv.Itoa(code))})
			if res.ExitCode != code || res.Signal != "" {
				t.Errorf("got exit %d signal %q, want %d", res.ExitCode, res.Signal, code)
			}
			if want := fmt.Sprintf("exiting with %d\n", code); string(res.Stdout) != want {
				t.Errorf("got stdout %q, want %q", res.Stdout, want)
			}
		})
	}
}

func TestKilledBySignal(t *testing.T) {
	t.Parallel()
	res := run(t, Options{Argv: helperArgv("kill-self")})
	if res.ExitCode != 128+9 || res.Signal != "SIGKILL" {
		t.Errorf("got exit %d signal %q, want 137 killed", res.ExitCode, res.Signal)
	}
}

func TestSameWriterForBothStreams(t *testing.T) {
	t.Parallel()
	var both bytes.Buffer // not safe for concurrent use: Run must serialise the two streams
	res := run(t, Options{Argv: helperArgv("flood", strconv.Itoa(1<<20)), Stdout: &both, Stderr: &both})
	if res.ExitCode != 0 || both.Len() != 2<<20 {
		t.Errorf("got exit %d and %d live bytes, want 0 and %d", res.ExitCode, both.Len(), 2<<20)
	}
}

func TestStreamsLiveAndCaptured(t *testing.T) {
	t.Parallel()
	var out, errb bytes.Buffer
	res := run(t, Options{Argv: helperArgv("echo", "to out", "to err"), Stdout: &out, Stderr: &errb})
	if out.String() != "to out" || errb.String() != "to err" {
		t.Errorf("got live %q / %q, want %q / %q", out.String(), errb.String(), "to out", "to err")
	}
	if string(res.Stdout) != "to out" || string(res.Stderr) != "to err" || res.StdoutTruncated || res.StderrTruncated {
		t.Errorf("got captured %+v, want both streams untruncated", res)
	}
}

func TestStdinPassthrough(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("line of input\n", 50000)
	var live bytes.Buffer
	res := run(t, Options{Argv: helperArgv("cat"), Stdin: strings.NewReader(in), Stdout: &live})
	if string(res.Stdout) != in || live.String() != in {
		t.Errorf("got %d captured and %d live bytes, want %d", len(res.Stdout), live.Len(), len(in))
	}
}

func TestDirAndEnv(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	res := run(t, Options{Argv: helperArgv("pwd"), Dir: dir})
	if want, _ := filepath.EvalSymlinks(dir); string(res.Stdout) != dir && string(res.Stdout) != want {
		t.Errorf("got working directory %q, want %q", res.Stdout, dir)
	}
	res = run(t, Options{Argv: helperArgv("env"), Env: []string{"RUNNER_TEST_HELPER=1", "ONLY=this"}})
	got := strings.Split(string(res.Stdout), "\n")
	if len(got) != 2 || got[1] != "ONLY=this" {
		t.Errorf("got environment %q, want exactly the scrubbed one", got)
	}
	// nil is an empty environment, never the parent's. The helper needs its marker variable, so
	// run env(1) itself when present.
	envBin, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env(1)")
	}
	ctx := context.Background()
	res, err = Run(ctx, Options{Argv: []string{envBin}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Stdout) != 0 {
		t.Errorf("got environment %q for nil Env, want none", res.Stdout)
	}
}

// countWriter counts bytes, keeping none.
type countWriter struct {
	mu sync.Mutex
	n  int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += int64(len(p))
	c.mu.Unlock()
	return len(p), nil
}

func TestLargeInterleavedOutputIsCapped(t *testing.T) {
	t.Parallel()
	const n = 50 << 20
	const limit = 1 << 20
	var out, errw countWriter
	res := run(t, Options{Argv: helperArgv("flood", strconv.Itoa(n)), Stdout: &out, Stderr: &errw, MaxCapture: limit})
	if res.ExitCode != 0 {
		t.Fatalf("got exit %d (stderr %q), want 0", res.ExitCode, res.Stderr[:min(len(res.Stderr), 200)])
	}
	if out.n != n || errw.n != n {
		t.Errorf("got %d/%d live bytes, want %d on each stream", out.n, errw.n, n)
	}
	if len(res.Stdout) != limit || len(res.Stderr) != limit || cap(res.Stdout) > limit || cap(res.Stderr) > limit {
		t.Errorf("got captures of %d/%d bytes (cap %d/%d), want exactly %d", len(res.Stdout), len(res.Stderr),
			cap(res.Stdout), cap(res.Stderr), limit)
	}
	if !res.StdoutTruncated || !res.StderrTruncated {
		t.Errorf("got truncated %v/%v, want both", res.StdoutTruncated, res.StderrTruncated)
	}
	if !bytes.HasPrefix(res.Stdout, []byte("0123456789abcdef")) {
		t.Errorf("got capture starting %q, want the start of the stream", res.Stdout[:16])
	}
}

func TestNoCapture(t *testing.T) {
	t.Parallel()
	var live bytes.Buffer
	res := run(t, Options{Argv: helperArgv("echo", "x", ""), Stdout: &live, MaxCapture: -1})
	if len(res.Stdout) != 0 || !res.StdoutTruncated || live.String() != "x" {
		t.Errorf("got %q truncated=%v live %q, want nothing captured and x live", res.Stdout, res.StdoutTruncated, live.String())
	}
}

func TestStartFailures(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	if err := os.WriteFile(notExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		opts Options
		code int
	}{
		{"not in PATH", Options{Argv: []string{"intoto-ci-no-such-command"}}, 127},
		{"missing path", Options{Argv: []string{filepath.Join(dir, "nope")}}, 127},
		{"not executable", Options{Argv: []string{notExec}}, 126},
		{"bad dir", Options{Argv: helperArgv("exit", "0"), Dir: filepath.Join(dir, "nodir")}, 126},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := Run(context.Background(), tc.opts)
			if err == nil || res == nil || res.ExitCode != tc.code {
				t.Fatalf("got %+v, %v; want exit %d and an error", res, err, tc.code)
			}
			if !strings.Contains(err.Error(), tc.opts.Argv[0]) {
				t.Errorf("got error %q, want it to name %q", err, tc.opts.Argv[0])
			}
		})
	}
	if _, err := Run(context.Background(), Options{}); !errors.Is(err, ErrNoCommand) {
		t.Errorf("got %v, want ErrNoCommand", err)
	}
}

// readyWriter closes ready when "ready\n" has been written.
type readyWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	ready chan struct{}
	once  sync.Once
}

func newReadyWriter() *readyWriter { return &readyWriter{ready: make(chan struct{})} }

func (w *readyWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "ready\n") {
		w.once.Do(func() { close(w.ready) })
	}
	return len(p), nil
}

func waitReady(t *testing.T, w *readyWriter) {
	t.Helper()
	select {
	case <-w.ready:
	case <-time.After(30 * time.Second):
		t.Fatal("child never became ready")
	}
}

// TestSignalForwarded sends SIGTERM to the test process itself; Run must pass it on to the child and
// keep this process alive. Not parallel: every running Run would forward it.
func TestSignalForwarded(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			w := newReadyWriter()
			type ret struct {
				res *Result
				err error
			}
			done := make(chan ret, 1)
			go func() {
				res, err := Run(context.Background(), Options{Argv: helperArgv("trap"), Env: helperEnv(), Stdout: w})
				done <- ret{res, err}
			}()
			waitReady(t, w)
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Fatal(err)
			}
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.res.ExitCode != 42 || !strings.Contains(string(r.res.Stdout), "got "+sig.String()) {
				t.Errorf("got exit %d stdout %q, want 42 after the child saw %v", r.res.ExitCode, r.res.Stdout, sig)
			}
		})
	}
}

// TestEverySignalForwarded: not only the first.
func TestEverySignalForwarded(t *testing.T) {
	w := newReadyWriter()
	done := make(chan *Result, 1)
	go func() {
		res, err := Run(context.Background(), Options{Argv: helperArgv("count", "3"), Env: helperEnv(), Stdout: w})
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	waitReady(t, w)
	for i, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGINT} {
		if err := syscall.Kill(os.Getpid(), sig); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("signal %d", i+1)
		for deadline := time.Now().Add(10 * time.Second); ; {
			w.mu.Lock()
			seen := strings.Contains(w.buf.String(), want)
			w.mu.Unlock()
			if seen {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("child never reported %q", want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if res := <-done; res == nil || res.ExitCode != 43 {
		t.Errorf("got %+v, want exit 43 after three signals", res)
	}
}

// TestCancelForwardsThenKills: cancelling ctx sends the child SIGTERM; a child that ignores it is killed
// after the grace period.
func TestCancelForwardsThenKills(t *testing.T) {
	t.Run("exits on SIGTERM", func(t *testing.T) {
		w := newReadyWriter()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { waitReady(t, w); cancel() }()
		res, err := Run(ctx, Options{Argv: helperArgv("trap"), Env: helperEnv(), Stdout: w, KillGrace: 20 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 42 || !strings.Contains(string(res.Stdout), "got terminated") {
			t.Errorf("got exit %d stdout %q, want 42 after SIGTERM", res.ExitCode, res.Stdout)
		}
	})
	t.Run("ignores SIGTERM", func(t *testing.T) {
		w := newReadyWriter()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() { waitReady(t, w); cancel() }()
		start := time.Now()
		res, err := Run(ctx, Options{Argv: helperArgv("trap", "ignore"), Env: helperEnv(), Stdout: w, KillGrace: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if res.ExitCode != 137 || res.Signal != "SIGKILL" || !strings.Contains(string(res.Stdout), "ignoring terminated") {
			t.Errorf("got exit %d signal %q stdout %q, want 137 killed after ignoring SIGTERM", res.ExitCode, res.Signal, res.Stdout)
		}
		if d := time.Since(start); d > 20*time.Second {
			t.Errorf("took %v, want about the grace period", d)
		}
	})
}
