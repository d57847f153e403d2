package linkfile

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes data to path through a temporary file in the same directory and a rename, so a
// reader never sees half a link and a failed write leaves any earlier file intact.
func WriteFile(path string, data []byte) error {
	return WriteFileFrom(path, bytes.NewReader(data))
}

// WriteFileFrom is WriteFile of what src writes: a large envelope is streamed into the
// temporary file rather than built in memory first. On any failure, src's included, the temporary file
// is removed and the error names path.
func WriteFileFrom(path string, src io.WriterTo) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(tmp, 256<<10)
	_, werr := src.WriteTo(bw)
	if werr == nil {
		werr = bw.Flush()
	}
	// No fsync: the rename already keeps readers from half a file, and durability across a crash of
	// the machine buys nothing in CI (the job dies with it); it would cost every step a disk flush.
	// A full disk still fails here: space is reserved at write (local filesystems) or reported at
	// close (NFS).
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
