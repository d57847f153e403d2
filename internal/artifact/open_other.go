//go:build !unix

package artifact

import (
	"errors"
	"io"
	"os"
)

// handle is an open file.
type handle = *os.File

// openFile opens f by its path.
func openFile(f *fileJob, _ *[]byte) (handle, error) { return os.Open(f.fullPath()) }

// readFile reads once; 0, nil means end of file.
func readFile(f handle, buf []byte) (int, error) {
	n, err := f.Read(buf)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func closeFile(f handle) { _ = f.Close() } // read-only: nothing to lose on close

// openDirFile opens a directory for listing.
func openDirFile(path string, _ bool) (*os.File, int, error) {
	f, err := os.Open(path)
	return f, -1, err
}
