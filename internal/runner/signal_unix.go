//go:build unix

package runner

import (
	"os"
	"syscall"
)

// forwardedSignals are the signals passed on to the child.
func forwardedSignals() []os.Signal { return []os.Signal{syscall.SIGINT, syscall.SIGTERM} }
