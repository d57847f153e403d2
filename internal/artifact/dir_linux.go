//go:build linux

package artifact

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// dirSys is the open directory: a bare descriptor, listed with getdents64 straight into the worker's
// buffer. os.File.ReadDir would allocate two objects per entry (and an lstat for each entry whose type
// the file system leaves unknown, which we also do), for names that are copied once more anyway.
type dirSys struct{ fd int }

// dirBufSize is the getdents64 buffer: a directory of a few hundred entries is read in one call
// (plus the one that returns nothing), a huge one in batches of about a thousand.
const dirBufSize = 32 << 10

func openDirHandle(path string, nofollow bool) (*dirHandle, error) {
	fd, err := openDirFD(path, nofollow)
	if err != nil {
		return nil, err
	}
	return &dirHandle{sys: dirSys{fd: fd}, path: path}, nil
}

func (d *dirHandle) closeDir() { _ = unix.Close(d.sys.fd) } // read-only: nothing to lose on close

// readDirEnts lists the next entries of d into ents (reset first); their names point into buf and are
// valid until the next call. done reports the end of the listing ("." and ".." are left out).
func readDirEnts(d *dirHandle, buf []byte, ents []dirEnt) (_ []dirEnt, done bool, _ error) {
	var n int
	err := ignoringEINTR(func() error {
		var err error
		n, err = unix.Getdents(d.sys.fd, buf)
		return err
	})
	if err != nil {
		return ents[:0], false, &os.PathError{Op: "readdirent", Path: d.path, Err: err}
	}
	if n <= 0 {
		return ents[:0], true, nil
	}
	ents, err = parseDirents(d, buf[:n], ents[:0])
	return ents, false, err
}

// parseDirents appends the entries of a getdents64 result b to ents. An entry whose type the file system
// leaves unknown is lstat'ed relative to d; one gone by then is left out.
func parseDirents(d *dirHandle, b []byte, ents []dirEnt) ([]dirEnt, error) {
	// struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, NUL-terminated d_name.
	const nameOff = 19
	for len(b) > 0 {
		if len(b) < nameOff {
			return ents, &os.PathError{Op: "readdirent", Path: d.path, Err: syscall.EIO}
		}
		reclen := int(binary.NativeEndian.Uint16(b[16:18]))
		if reclen <= nameOff || reclen > len(b) {
			return ents, &os.PathError{Op: "readdirent", Path: d.path, Err: syscall.EIO}
		}
		rec := b[:reclen]
		b = b[reclen:]
		if binary.NativeEndian.Uint64(rec[0:8]) == 0 {
			continue // no inode: a deleted entry (os.ReadDir skips these too)
		}
		name := rec[nameOff:]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		if len(name) == 0 || (name[0] == '.' && (len(name) == 1 || (len(name) == 2 && name[1] == '.'))) {
			continue
		}
		var typ fs.FileMode
		switch rec[18] {
		case unix.DT_REG:
			typ = 0
		case unix.DT_DIR:
			typ = fs.ModeDir
		case unix.DT_LNK:
			typ = fs.ModeSymlink
		case unix.DT_UNKNOWN:
			// Some file systems do not fill d_type; ask, without following a symlink.
			var st unix.Stat_t
			err := ignoringEINTR(func() error {
				return unix.Fstatat(d.sys.fd, string(name), &st, unix.AT_SYMLINK_NOFOLLOW)
			})
			if err == syscall.ENOENT {
				continue // gone since it was listed
			}
			if err != nil {
				return ents, &os.PathError{Op: "lstat", Path: d.path + string(os.PathSeparator) + string(name), Err: err}
			}
			typ = modeType(st.Mode)
		default:
			typ = fs.ModeIrregular // fifo, socket, device: skipped
		}
		ents = append(ents, dirEnt{name: name, typ: typ})
	}
	return ents, nil
}

func modeType(m uint32) fs.FileMode {
	switch m & unix.S_IFMT {
	case unix.S_IFREG:
		return 0
	case unix.S_IFDIR:
		return fs.ModeDir
	case unix.S_IFLNK:
		return fs.ModeSymlink
	}
	return fs.ModeIrregular
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
