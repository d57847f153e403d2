//go:build !unix

package runner

import "os"

// forwardedSignals are the signals passed on to the child.
func forwardedSignals() []os.Signal { return []os.Signal{os.Interrupt} }
