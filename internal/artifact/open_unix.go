//go:build unix

package artifact

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// handle is an open file descriptor.
type handle int

// openFile opens a file for reading; with nofollow a symlink in the last component fails (the entry
// changed since it was listed as a regular file). With dir set, name is opened relative to that directory's descriptor (openat): one path component to
// look up instead of the whole path, and no way for a directory swapped for a symlink since the listing
// to redirect the open outside the tree. path is then only used in errors.
func openFile(dir *dirHandle, name, path string, nofollow bool) (handle, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	dirfd, target := unix.AT_FDCWD, path
	if dir != nil {
		dirfd, target = dir.fd, name
	}
	for {
		fd, err := unix.Openat(dirfd, target, flags, 0)
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

// dirFD returns the descriptor openFile uses for files of the open directory f.
func dirFD(f *os.File) int { return int(f.Fd()) }

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
