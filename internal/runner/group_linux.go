//go:build linux

package runner

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// awaitExit returns when the process has exited, without reaping it (cmd.Wait still does), so the
// group it leads can be killed before Wait waits for pipes that the group's other members hold. It
// reports whether it could wait.
func awaitExit(p *os.Process) bool {
	var info unix.Siginfo
	for {
		err := unix.Waitid(unix.P_PID, p.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		if !errors.Is(err, unix.EINTR) {
			return err == nil
		}
	}
}
