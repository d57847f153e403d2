//go:build !unix

package artifact

import "time"

// processCPU is unknown here.
func processCPU() time.Duration { return -1 }
