//go:build !unix

package runner

import (
	"os"
	"syscall"
)

// forwardedSignals are the signals passed on to the child.
func forwardedSignals() []os.Signal { return []os.Signal{os.Interrupt} }

// signalName names a signal.
func signalName(s syscall.Signal) string { return s.String() }
