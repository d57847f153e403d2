// Package harness drives the intoto-ci binary from black-box tests (test/attack, test/faults): it
// builds the binary once per test binary, runs it with an environment of the test's choosing, and
// reads its `verify --json` report.
package harness

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/fixture"
)

// Main runs the tests and removes the binary built for them. Call it from TestMain.
func Main(m *testing.M) int { return buildtest.Main(m) }

// Binary returns the path of an intoto-ci binary built from this checkout (once per test binary).
func Binary(tb testing.TB) string {
	tb.Helper()
	return buildtest.IntotoCI(tb)
}

// Cmd is one invocation of intoto-ci.
type Cmd struct {
	Args []string
	// Env is the whole environment (PATH and HOME are added when missing): nothing leaks in from the
	// test process, so CI detection and token sources see only what the test sets.
	Env   map[string]string
	Dir   string
	Stdin io.Reader
	// Timeout bounds the run (default 3 minutes); a test never hangs on a stuck binary.
	Timeout time.Duration
	// Wrap runs the binary through another program (e.g. unshare): Wrap[0] is executed with Wrap[1:],
	// the binary's path and Args appended.
	Wrap []string
}

// Result is what one invocation did.
type Result struct {
	Code     int
	Out, Err string
}

func (r Result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.Code, clip(r.Out), clip(r.Err))
}

func clip(s string) string {
	if len(s) > 4000 {
		return s[:4000] + "…"
	}
	return s
}

// Environ turns a map into an environment list with PATH and HOME defaulted.
func Environ(env map[string]string) []string {
	list := []string{}
	for k, v := range env {
		list = append(list, k+"="+v)
	}
	if _, ok := env["PATH"]; !ok {
		list = append(list, "PATH="+os.Getenv("PATH"))
	}
	if _, ok := env["HOME"]; !ok {
		list = append(list, "HOME="+os.TempDir())
	}
	return list
}

// Command returns the exec.Cmd for c without starting it.
func Command(tb testing.TB, ctx context.Context, c Cmd) *exec.Cmd {
	tb.Helper()
	args := append([]string{Binary(tb)}, c.Args...)
	if len(c.Wrap) > 0 {
		args = append(append([]string{}, c.Wrap...), args...)
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = Environ(c.Env)
	cmd.Dir = c.Dir
	cmd.Stdin = c.Stdin
	return cmd
}

// Run runs intoto-ci and returns its exit code and output. It fails the test only when the binary
// cannot be started or is killed by a signal.
func Run(tb testing.TB, c Cmd) Result {
	tb.Helper()
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := Command(tb, ctx, c)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	r := Result{Out: out.String(), Err: errb.String()}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && exit.ExitCode() >= 0:
		r.Code = exit.ExitCode()
	default:
		tb.Fatalf("intoto-ci %s: %v\n%s", strings.Join(c.Args, " "), err, r)
	}
	return r
}

// IC runs intoto-ci with args and an empty environment.
func IC(tb testing.TB, args ...string) Result {
	tb.Helper()
	return Run(tb, Cmd{Args: args})
}

// Must runs intoto-ci with args and fails the test unless it exits 0.
func Must(tb testing.TB, args ...string) Result {
	tb.Helper()
	r := IC(tb, args...)
	if r.Code != 0 {
		tb.Fatalf("intoto-ci %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// Report is the part of the `verify --json` report the attack tests assert.
type Report struct {
	Verified bool `json:"verified"`
	Failure  *struct {
		Stage     string   `json:"stage"`
		Step      string   `json:"step"`
		Rule      string   `json:"rule"`
		Artifacts []string `json:"artifacts"`
		Reason    string   `json:"reason"`
	} `json:"failure"`
	Steps []struct {
		Name     string `json:"name"`
		Kind     string `json:"kind"`
		Status   string `json:"status"`
		Err      string `json:"error"`
		Rejected []struct {
			File, Signer, Reason string
		} `json:"rejected"`
		Inspection *struct {
			ExitCode int  `json:"exit_code"`
			TimedOut bool `json:"timed_out"`
		} `json:"inspection"`
	} `json:"steps"`
	Warnings []string `json:"warnings"`
}

// ParseReport decodes a `verify --json` report from r's stdout.
func ParseReport(tb testing.TB, r Result) *Report {
	tb.Helper()
	var rep Report
	if err := json.Unmarshal([]byte(r.Out), &rep); err != nil {
		tb.Fatalf("verify --json report: %v\n%s", err, r)
	}
	return &rep
}

// Rejections joins every rejected file's reason, for assertions.
func (r *Report) Rejections() string {
	var parts []string
	for _, s := range r.Steps {
		for _, rj := range s.Rejected {
			parts = append(parts, s.Name+": "+rj.File+": "+rj.Reason)
		}
	}
	return strings.Join(parts, " | ")
}

// Key makes a key pair NAME (private PEM) and NAME.pub in dir with `intoto-ci key generate`.
func Key(tb testing.TB, dir, name string) *keys.Key {
	tb.Helper()
	return fixture.Key(tb, Binary(tb), dir, name, "")
}

// WriteJSON writes v, indented, to path (creating its directory).
func WriteJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	WriteFile(tb, path, data)
}

// WriteFile writes data to path, creating its directory.
func WriteFile(tb testing.TB, path string, data []byte) {
	tb.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		tb.Fatal(err)
	}
}

// ReadFile reads path or fails the test.
func ReadFile(tb testing.TB, path string) []byte {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// Glob returns the files matching pattern (possibly none).
func Glob(tb testing.TB, pattern string) []string {
	tb.Helper()
	m, err := filepath.Glob(pattern)
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// Payload returns the signed document of a DSSE or legacy envelope file, or of a Sigstore bundle.
func Payload(tb testing.TB, path string) []byte {
	tb.Helper()
	var env struct {
		Payload      string          `json:"payload"`
		Signed       json.RawMessage `json:"signed"`
		DSSEEnvelope *struct {
			Payload string `json:"payload"`
		} `json:"dsseEnvelope"`
	}
	if err := json.Unmarshal(ReadFile(tb, path), &env); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	switch {
	case env.Signed != nil:
		return env.Signed
	case env.DSSEEnvelope != nil:
		env.Payload = env.DSSEEnvelope.Payload
	}
	p, err := base64.StdEncoding.DecodeString(env.Payload)
	if err != nil {
		tb.Fatalf("%s: payload: %v", path, err)
	}
	return p
}

// InCI reports whether missing tools are failures rather than reasons to skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// Need skips the test (fails it under CI=true) unless ok.
func Need(tb testing.TB, ok bool, msg string) {
	tb.Helper()
	if ok {
		return
	}
	if InCI() {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}
