//go:build !linux

package runner

import "os"

// awaitExit is not available here (it returns false at once): the group is killed after cmd.Wait,
// which waits up to its WaitDelay for pipes that the group's other members hold.
func awaitExit(*os.Process) bool { return false }
