package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DefaultMaxCapture is the byproduct cap per stream when Options.MaxCapture is 0. Recorded output is
// escaped and base64-encoded into the link several times over, so the cap bounds memory and link size;
// the console still gets everything.
const DefaultMaxCapture = 1 << 20

// DefaultKillGrace is how long a child may take to exit after the context is cancelled and a
// termination signal was forwarded, before it is killed.
const DefaultKillGrace = 10 * time.Second

// Exit codes for commands that could not be started, as POSIX shells report them.
const (
	ExitNotFound      = 127
	ExitCannotExecute = 126
)

// ErrNoCommand is returned when Options.Argv is empty.
var ErrNoCommand = errors.New("no command to run")

// Options describe the command to run.
type Options struct {
	// Argv is the command and its arguments; Argv[0] is looked up in PATH unless it contains a slash.
	Argv []string
	// Dir is the working directory; "" means the current one.
	Dir string
	// Env is the child's complete environment, already scrubbed by the caller. nil means an empty
	// environment, not this process's (unlike os/exec): a scrubbed list that came out nil must never
	// turn into the full environment with the tokens it was scrubbed of.
	Env []string
	// Stdin is passed to the child. An *os.File (os.Stdin) is handed over as is, so terminals work;
	// nil means /dev/null.
	Stdin io.Reader
	// Stdout and Stderr receive the child's streams live; nil discards them (they are still captured).
	Stdout, Stderr io.Writer
	// MaxCapture caps each recorded stream; 0 means DefaultMaxCapture, negative records nothing.
	// Beyond the cap output still streams live; the recorded copy is truncated and flagged.
	MaxCapture int64
	// KillGrace is how long the child may run after ctx is cancelled and a termination signal was
	// forwarded before it is killed; 0 means DefaultKillGrace.
	KillGrace time.Duration
	// OwnGroup runs the command in a process group of its own (unix): forwarded signals, the
	// termination on cancellation and the kill after the grace period reach the whole group, and
	// whatever of the group is still running when the command has exited is killed before Run
	// returns. Verify's inspections use it: nothing an inspection started may outlive it, change
	// the tree while its products are hashed, or outlive verify. Without it (run's wrapped command)
	// the child shares this process's group and only the child is signalled.
	OwnGroup bool
}

// Result is how the command ended and what it printed.
type Result struct {
	// ExitCode is the child's exit status; 128+n if it was killed by signal n; 127 if the command
	// was not found and 126 if it could not be executed.
	ExitCode int
	// Signal names the signal that killed the child ("SIGTERM", "SIGKILL", …), "" otherwise.
	Signal string
	// Stdout and Stderr are the recorded streams, at most MaxCapture bytes each.
	Stdout, Stderr []byte
	// StdoutTruncated and StderrTruncated report that the stream was longer than the cap.
	StdoutTruncated, StderrTruncated bool
}

// Run runs the command and waits for it. The error is non-nil only when the command could not be
// started; a Result with exit code 127 (not found) or 126 (not executable, bad directory, …) comes
// with it. A command that runs and fails is a Result, not an error.
//
// Signals: while the child runs, SIGINT and SIGTERM received by this process are forwarded to it. When
// ctx is cancelled the child is not killed at once: the signal that cancelled ctx (if any) is forwarded,
// or SIGTERM is sent when none arrives, and the child is killed only if it is still running KillGrace
// later. Unless Options.OwnGroup, the child shares this process's process group, so a terminal's
// Ctrl-C reaches it directly as well as through forwarding.
func Run(ctx context.Context, opts Options) (*Result, error) {
	if len(opts.Argv) == 0 {
		return nil, ErrNoCommand
	}
	limit := opts.MaxCapture
	if limit == 0 {
		limit = DefaultMaxCapture
	}
	if limit < 0 {
		limit = 0
	}
	grace := opts.KillGrace
	if grace <= 0 {
		grace = DefaultKillGrace
	}
	// One lock for both live writers: callers often pass the same writer for both streams.
	liveMu := new(sync.Mutex)
	stdout := &tee{live: opts.Stdout, liveMu: liveMu, limit: limit}
	stderr := &tee{live: opts.Stderr, liveMu: liveMu, limit: limit}

	cmd := exec.Command(opts.Argv[0], opts.Argv[1:]...)
	if cmd.Err != nil { // lookup failure
		return startFailure(opts.Argv[0], cmd.Err)
	}
	cmd.Dir = opts.Dir
	cmd.Env = opts.Env
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = opts.Stdin
	cmd.Stdout = stdout
	cmd.Stderr = stderr
	// A grandchild that keeps the output pipes open (a daemon) must not hang the step forever.
	cmd.WaitDelay = 5 * time.Second
	if opts.OwnGroup {
		startInGroup(cmd)
	}

	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, forwardedSignals()...)
	defer signal.Stop(sigs)

	if err := cmd.Start(); err != nil {
		return startFailure(opts.Argv[0], err)
	}

	exited := make(chan struct{})
	if opts.OwnGroup {
		// Kill the rest of the group as soon as its leader exits: a background job holding the
		// output pipes would otherwise keep Wait waiting.
		go func() {
			if awaitExit(cmd.Process) {
				_ = killGroup(cmd.Process)
			}
		}()
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c := &child{p: cmd.Process, sigs: sigs, exited: exited, grace: grace, group: opts.OwnGroup}
		c.supervise(ctx)
	}()
	waitErr := cmd.Wait()
	close(exited)
	wg.Wait()
	if opts.OwnGroup {
		// What the command left running (a background job, a daemon) dies with it. The group
		// outlives its leader, so this reaches it even though the leader has been waited for.
		_ = killGroup(cmd.Process)
	}

	res := &Result{
		Stdout: stdout.buf, Stderr: stderr.buf,
		StdoutTruncated: stdout.truncated, StderrTruncated: stderr.truncated,
	}
	st := cmd.ProcessState
	if st == nil {
		return nil, fmt.Errorf("wait for %q: %w", opts.Argv[0], waitErr)
	}
	res.ExitCode = st.ExitCode()
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signal = signalName(ws.Signal())
		res.ExitCode = 128 + int(ws.Signal())
	}
	return res, nil
}

// child is a started command under supervision: the signals this process receives, a channel closed
// when the child has exited, and how long it may outlive a cancellation.
type child struct {
	p      *os.Process
	sigs   <-chan os.Signal
	exited <-chan struct{}
	grace  time.Duration
	group  bool // the child leads its own process group: signal the group
}

// signal passes s on; the child may have exited meanwhile, and there is nothing to do then.
func (c *child) signal(s os.Signal) {
	if c.group {
		_ = signalGroup(c.p, s)
		return
	}
	_ = c.p.Signal(s)
}

// kill kills the child, or its whole process group.
func (c *child) kill() {
	if c.group {
		_ = killGroup(c.p)
		return
	}
	_ = c.p.Kill()
}

// supervise forwards signals to the child until it exits and handles cancellation of ctx.
func (c *child) supervise(ctx context.Context) {
	select {
	case <-c.exited:
		return
	case s := <-c.sigs:
		c.signal(s)
		c.forward(ctx.Done())
	case <-ctx.Done():
		// The cancellation usually comes from the signal this process is receiving too; give it a
		// moment to arrive so that the child gets that one, else ask politely with SIGTERM.
		select {
		case s := <-c.sigs:
			c.signal(s)
		case <-time.After(100 * time.Millisecond):
			c.signal(syscall.SIGTERM)
		case <-c.exited:
			return
		}
		c.killAfter()
	}
}

// forward keeps forwarding signals until the child exits or done is closed (never, if nil); then it
// kills the child if it outlives the grace period.
func (c *child) forward(done <-chan struct{}) {
	for {
		select {
		case <-c.exited:
			return
		case s := <-c.sigs:
			c.signal(s)
		case <-done:
			c.killAfter()
			return
		}
	}
}

// killAfter forwards signals for the grace period, then kills the child if it is still running.
func (c *child) killAfter() {
	t := time.NewTimer(c.grace)
	defer t.Stop()
	for {
		select {
		case <-c.exited:
			return
		case s := <-c.sigs:
			c.signal(s)
		case <-t.C:
			c.kill()
			return
		}
	}
}

func startFailure(name string, err error) (*Result, error) {
	code := ExitCannotExecute
	if errors.Is(err, exec.ErrNotFound) || (errors.Is(err, fs.ErrNotExist) && !isDirError(err)) {
		code = ExitNotFound
	}
	return &Result{ExitCode: code}, fmt.Errorf("start %q: %w", name, err)
}

// isDirError reports whether a start error is about the working directory rather than the program.
func isDirError(err error) bool {
	var pe *fs.PathError
	return errors.As(err, &pe) && pe.Op == "chdir"
}

// tee writes to the live console and to a capped capture buffer. exec.Cmd gives each stream its own
// goroutine, so both streams drain concurrently; only the live writers, which may be one and the same,
// share a lock.
type tee struct {
	live      io.Writer
	liveMu    *sync.Mutex
	liveErr   error
	limit     int64
	buf       []byte
	truncated bool
}

func (t *tee) Write(p []byte) (int, error) {
	if t.live != nil && t.liveErr == nil {
		// A console that went away (EPIPE) must not stop the child or the capture: keep draining.
		t.liveMu.Lock()
		_, err := t.live.Write(p)
		t.liveMu.Unlock()
		if err != nil {
			t.liveErr = err
		}
	}
	room := t.limit - int64(len(t.buf))
	q := p
	if int64(len(q)) > room {
		q = q[:max(room, 0)]
		t.truncated = true
	}
	if len(q) > 0 {
		if need := len(t.buf) + len(q); need > cap(t.buf) {
			n := max(2*cap(t.buf), need, 4096)
			n = min(n, int(t.limit))
			nb := make([]byte, len(t.buf), n)
			copy(nb, t.buf)
			t.buf = nb
		}
		t.buf = append(t.buf, q...)
	}
	return len(p), nil
}

// ByProducts is the link's byproducts of a run: its exit code and recorded streams, and
// "truncated": true when either stream was longer than what was recorded.
func (r *Result) ByProducts() map[string]any {
	bp := map[string]any{
		"return-value": r.ExitCode,
		"stdout":       string(r.Stdout),
		"stderr":       string(r.Stderr),
	}
	if r.StdoutTruncated || r.StderrTruncated {
		bp["truncated"] = true
	}
	return bp
}

// ScrubEnv returns environ without the variables named in drop (ID tokens and the means to request
// them, key secrets), for the wrapped command.
func ScrubEnv(environ []string, drop []string) []string {
	if len(drop) == 0 {
		return environ
	}
	out := environ[:0:0]
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(drop, name) {
			out = append(out, kv)
		}
	}
	return out
}
