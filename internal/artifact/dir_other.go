//go:build !linux

package artifact

import (
	"errors"
	"io"
	"os"
)

// dirSys is the open directory, listed with os.File.ReadDir; fd is its descriptor for openat (-1
// where there is none).
type dirSys struct {
	f  *os.File
	fd int
}

// dirBufSize is unused here: ReadDir keeps its own buffer.
const dirBufSize = 0

// readDirBatch is how many entries one ReadDir call returns, so that hashing starts before a huge
// directory is fully listed.
const readDirBatch = 1024

func openDirHandle(path string, nofollow bool) (*dirHandle, error) {
	f, fd, err := openDirFile(path, nofollow)
	if err != nil {
		return nil, err
	}
	return &dirHandle{sys: dirSys{f: f, fd: fd}, path: path}, nil
}

func (d *dirHandle) closeDir() { _ = d.sys.f.Close() } // read-only: nothing to lose on close

// readDirEnts lists the next entries of d into ents (reset first); their names are copied into buf,
// valid until the next call. done reports the end of the listing.
func readDirEnts(d *dirHandle, buf []byte, ents []dirEnt) (_ []dirEnt, done bool, _ error) {
	ents = ents[:0]
	des, err := d.sys.f.ReadDir(readDirBatch)
	buf = buf[:0]
	for _, de := range des {
		start := len(buf)
		buf = append(buf, de.Name()...)
		ents = append(ents, dirEnt{name: buf[start:len(buf):len(buf)], typ: de.Type()})
	}
	switch {
	case errors.Is(err, io.EOF) || (err == nil && len(des) == 0):
		return ents, len(ents) == 0, nil
	case err != nil:
		return ents, false, &os.PathError{Op: "readdirent", Path: d.path, Err: err}
	}
	return ents, false, nil
}
