//go:build !unix

package artifact

import (
	"errors"
	"io"
	"os"
)

// handle is an open file.
type handle = *os.File

func openFile(_ *dirHandle, _, path string, _ bool) (handle, error) { return os.Open(path) }

// dirFD is unused outside unix.
func dirFD(*os.File) int { return -1 }

// readFile reads once; 0, nil means end of file.
func readFile(f handle, buf []byte) (int, error) {
	n, err := f.Read(buf)
	if errors.Is(err, io.EOF) {
		err = nil
	}
	return n, err
}

func closeFile(f handle) { _ = f.Close() } // read-only: nothing to lose on close

func openDir(path string, _ bool) (*os.File, error) { return os.Open(path) }
