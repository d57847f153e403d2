//go:build unix

package runner

import (
	"errors"
	"os"
	"os/exec"
	"syscall"
)

// startInGroup makes the command the leader of a new process group, so that it and everything it
// starts can be signalled together.
func startInGroup(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
}

// signalGroup sends s to every process of the group led by p.
func signalGroup(p *os.Process, s os.Signal) error {
	sig, ok := s.(syscall.Signal)
	if !ok {
		return p.Signal(s)
	}
	err := syscall.Kill(-p.Pid, sig)
	if errors.Is(err, syscall.ESRCH) {
		return nil // the whole group is gone
	}
	return err
}

// killGroup kills every process left in the group led by p.
func killGroup(p *os.Process) error { return signalGroup(p, syscall.SIGKILL) }
