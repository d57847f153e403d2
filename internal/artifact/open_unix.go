//go:build unix

package artifact

import (
	"os"
	"syscall"
)

// openFile opens a file for reading; with nofollow a symlink in the last component fails (the entry
// changed since it was listed as a regular file).
// handle is an open file descriptor.
type handle int

func openFile(path string, nofollow bool) (handle, error) {
	flags := syscall.O_RDONLY | syscall.O_CLOEXEC
	if nofollow {
		flags |= syscall.O_NOFOLLOW
	}
	for {
		fd, err := syscall.Open(path, flags, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return handle(fd), nil
	}
}

// readFile reads once; 0, nil means end of file.
func readFile(fd handle, buf []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), buf)
		if err == syscall.EINTR {
			continue
		}
		if n < 0 {
			n = 0
		}
		return n, err
	}
}

func closeFile(fd handle) { _ = syscall.Close(int(fd)) } // read-only: nothing to lose on close

// openDir opens a directory; with nofollow a symlink in the last component fails.
func openDir(path string, nofollow bool) (*os.File, error) {
	flags := syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_DIRECTORY
	if nofollow {
		flags |= syscall.O_NOFOLLOW
	}
	for {
		fd, err := syscall.Open(path, flags, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return os.NewFile(uintptr(fd), path), nil
	}
}
