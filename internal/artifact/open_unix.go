//go:build unix

package artifact

import (
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// handle is an open file descriptor.
type handle int

// openFile opens f for reading; with f.nofollow a symlink in the last component fails (the entry
// changed since it was listed as a regular file). A file found while walking is opened relative to its
// directory's descriptor (openat): one path component to look up instead of the whole path, and no way
// for a directory swapped for a symlink since the listing to redirect the open outside the tree. cname
// is scratch space for the NUL-terminated name, reused across calls so that opening allocates nothing.
func openFile(f *fileJob, cname *[]byte) (handle, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC
	if f.nofollow {
		flags |= unix.O_NOFOLLOW
	}
	dirfd, target := unix.AT_FDCWD, f.path
	if f.dir != nil {
		dirfd, target = f.dir.sys.fd, f.base
	}
	if indexNUL(target) >= 0 {
		return -1, &os.PathError{Op: "open", Path: f.fullPath(), Err: syscall.EINVAL}
	}
	b := append(append((*cname)[:0], target...), 0)
	*cname = b
	for {
		fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(&b[0])),
			uintptr(flags), 0, 0, 0)
		if errno == syscall.EINTR {
			continue
		}
		if errno != 0 {
			return -1, &os.PathError{Op: "open", Path: f.fullPath(), Err: errno}
		}
		return handle(fd), nil
	}
}

func indexNUL(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return i
		}
	}
	return -1
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

// openDirFD opens a directory; with nofollow a symlink in the last component fails.
func openDirFD(path string, nofollow bool) (int, error) {
	flags := unix.O_RDONLY | unix.O_CLOEXEC | unix.O_DIRECTORY
	if nofollow {
		flags |= unix.O_NOFOLLOW
	}
	for {
		fd, err := unix.Open(path, flags, 0)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return -1, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return fd, nil
	}
}
