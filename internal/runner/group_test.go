//go:build linux

package runner

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// alive reports whether pid is a running (not zombie) process.
func alive(t *testing.T, pid int) bool {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) STATE …: the state follows the last ')'.
	rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

// grandchild starts sh, which starts a sleep that ignores SIGINT and SIGTERM and writes its pid, then
// does what tail says; it returns the options and where the pid is written.
func grandchild(t *testing.T, tail string, group bool) (Options, string) {
	pidfile := filepath.Join(t.TempDir(), "pid")
	script := `(trap '' INT TERM; exec sleep 600) & echo $! > ` + pidfile + `; ` + tail
	return Options{Argv: []string{"sh", "-c", script}, Env: []string{"PATH=" + os.Getenv("PATH")},
		KillGrace: 200 * time.Millisecond, OwnGroup: group}, pidfile
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	for range 100 {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("no pid written")
	return 0
}

// With OwnGroup, nothing the command started outlives Run: not on cancellation (a timeout, an
// interrupted verify), not when the command exits and leaves a background job behind. Without it
// (the control) the grandchild survives, which is what the tests would otherwise miss.
func TestOwnGroupKillsGrandchildren(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, tail string
		cancel     bool
	}{
		{name: "cancelled", tail: "wait", cancel: true},
		{name: "exited", tail: "exit 0"},
	} {
		for _, group := range []bool{true, false} {
			t.Run(tc.name+"/group="+strconv.FormatBool(group), func(t *testing.T) {
				t.Parallel()
				opts, pidfile := grandchild(t, tc.tail, group)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				if tc.cancel {
					go func() { readPid(t, pidfile); cancel() }()
				}
				if _, err := Run(ctx, opts); err != nil {
					t.Fatal(err)
				}
				pid := readPid(t, pidfile)
				if !group {
					defer func() { _ = killPid(pid) }()
				}
				// SIGKILL is delivered asynchronously: give the kernel a moment.
				deadline := time.Now().Add(3 * time.Second)
				for group && alive(t, pid) && time.Now().Before(deadline) {
					time.Sleep(20 * time.Millisecond)
				}
				if got := alive(t, pid); got == group {
					t.Errorf("grandchild alive after Run: %v, want %v", got, !group)
				}
			})
		}
	}
}

func killPid(pid int) error {
	p, err := os.FindProcess(pid)
	if err != nil {
		return err
	}
	return p.Kill()
}
