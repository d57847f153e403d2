//go:build unix

package verify

import (
	"os"
	"syscall"
)

// openRead opens path for reading as os.Open does, without what os.Open adds for files that can wait
// (switching the descriptor to non-blocking and trying to register it with the poller, five system
// calls that fail or are undone for a regular file): a links directory is thousands of small files.
func openRead(path string) (*os.File, error) {
	for {
		fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
