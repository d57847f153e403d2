//go:build unix && !linux

package artifact

import "os"

// openDirFile opens a directory for listing; with nofollow a symlink in the last component fails. The
// descriptor is returned too, for openat.
func openDirFile(path string, nofollow bool) (*os.File, int, error) {
	fd, err := openDirFD(path, nofollow)
	if err != nil {
		return nil, -1, err
	}
	return os.NewFile(uintptr(fd), path), fd, nil
}
