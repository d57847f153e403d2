//go:build !unix

package runner

import (
	"os"
	"os/exec"
)

// Process groups are a unix notion: elsewhere only the direct child is signalled.
func startInGroup(*exec.Cmd) {}

func signalGroup(p *os.Process, s os.Signal) error { return p.Signal(s) }

func killGroup(p *os.Process) error { return p.Kill() }
