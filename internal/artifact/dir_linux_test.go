//go:build linux

package artifact

import (
	"context"
	"encoding/binary"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/sys/unix"
)

// dirent64 encodes one struct linux_dirent64 record, padded to 8 bytes as the kernel does.
func dirent64(ino uint64, typ uint8, name string) []byte {
	n := (19 + len(name) + 1 + 7) &^ 7
	b := make([]byte, n)
	binary.NativeEndian.PutUint64(b[0:8], ino)
	binary.NativeEndian.PutUint64(b[8:16], 1)
	binary.NativeEndian.PutUint16(b[16:18], uint16(n))
	b[18] = typ
	copy(b[19:], name)
	return b
}

type listed struct {
	Name string
	Type fs.FileMode
}

func listedOf(ents []dirEnt) []listed {
	var out []listed
	for _, e := range ents {
		out = append(out, listed{string(e.name), e.typ})
	}
	return out
}

func TestParseDirents(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"f": "x", "sub/g": "y", "l": "->f"})
	if err := syscall.Mkfifo(filepath.Join(dir, "p"), 0o644); err != nil {
		t.Fatal(err)
	}
	dh, err := openDirHandle(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	defer dh.closeDir()

	var buf []byte
	for _, r := range [][]byte{
		dirent64(1, unix.DT_DIR, "."),
		dirent64(2, unix.DT_DIR, ".."),
		dirent64(3, unix.DT_REG, "r"),   // trusted as listed: not stat'ed
		dirent64(0, unix.DT_REG, "del"), // no inode: left out
		dirent64(4, unix.DT_UNKNOWN, "f"),
		dirent64(5, unix.DT_UNKNOWN, "sub"),
		dirent64(6, unix.DT_UNKNOWN, "l"),
		dirent64(7, unix.DT_UNKNOWN, "p"),
		dirent64(8, unix.DT_UNKNOWN, "gone"), // vanished: left out
		dirent64(9, unix.DT_LNK, "s"),
		dirent64(10, unix.DT_DIR, "d"),
		dirent64(11, unix.DT_SOCK, "sock"),
		dirent64(12, unix.DT_REG, ".hidden"),
	} {
		buf = append(buf, r...)
	}
	ents, err := parseDirents(dh, buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []listed{
		{"r", 0}, {"f", 0}, {"sub", fs.ModeDir}, {"l", fs.ModeSymlink}, {"p", fs.ModeIrregular},
		{"s", fs.ModeSymlink}, {"d", fs.ModeDir}, {"sock", fs.ModeIrregular}, {".hidden", 0},
	}
	if diff := cmp.Diff(want, listedOf(ents)); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}

	for _, bad := range [][]byte{
		buf[:10],                         // cut inside a header
		buf[:len(dirent64(1, 0, "."))+5], // cut inside a record
		func() []byte { b := dirent64(1, unix.DT_REG, "x"); b[16], b[17] = 0, 0; return b }(), // zero length
	} {
		if _, err := parseDirents(dh, bad, nil); err == nil {
			t.Errorf("parseDirents(%d bytes of a malformed listing) succeeded", len(bad))
		}
	}
}

// TestReadDirEntsMatchesReadDir lists a directory larger than one getdents buffer.
func TestReadDirEntsMatchesReadDir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	files := map[string]string{}
	for i := range 3000 {
		files[fmt.Sprintf("file-with-a-longish-name-%04d", i)] = ""
	}
	files["sub/x"] = ""
	files["link"] = "->sub"
	writeTree(t, dir, files)

	dh, err := openDirHandle(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer dh.closeDir()
	buf := make([]byte, dirBufSize)
	var got []listed
	calls := 0
	for {
		ents, done, err := readDirEnts(dh, buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if done {
			break
		}
		got = append(got, listedOf(ents)...)
	}
	if calls < 3 {
		t.Errorf("listed %d entries in %d calls, want several batches", len(got), calls)
	}
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var want []listed
	for _, de := range des {
		want = append(want, listed{de.Name(), de.Type()})
	}
	cmpName := func(a, b listed) int { return strings.Compare(a.Name, b.Name) }
	slices.SortFunc(got, cmpName)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-os.ReadDir +readDirEnts):\n%s", diff)
	}
}

// TestRecordClosesDirectories checks that every directory opened while walking is closed again,
// including those whose files are symlinks (hashed by path, not through the directory). Not parallel:
// it counts the process's open descriptors.
func TestRecordClosesDirectories(t *testing.T) {
	dir := t.TempDir()
	tree := map[string]string{}
	for i := range 20 {
		tree[fmt.Sprintf("d%d/f", i)] = "x"
		tree[fmt.Sprintf("d%d/l", i)] = "->f"
		tree[fmt.Sprintf("d%d/x.pyc", i)] = "excluded"
		tree[fmt.Sprintf("d%d/e/", i)] = ""
	}
	writeTree(t, dir, tree)
	openFDs := func() int {
		des, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Skipf("cannot count descriptors: %v", err)
		}
		return len(des)
	}
	before := openFDs()
	for _, workers := range []int{1, 4} {
		got, err := Record(context.Background(), []string{"."}, Options{BasePath: dir, DefaultExcludes: true, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if got.Len() != 40 {
			t.Errorf("recorded %d files, want 40", got.Len())
		}
	}
	if after := openFDs(); after != before {
		t.Errorf("%d descriptors open after recording, %d before", after, before)
	}
}

// FuzzParseDirents feeds arbitrary bytes to the listing parser: it must not panic, and every entry it
// returns has a real name.
func FuzzParseDirents(f *testing.F) {
	f.Add(append(dirent64(1, unix.DT_REG, "a"), dirent64(2, unix.DT_DIR, "..")...))
	f.Add(dirent64(3, unix.DT_UNKNOWN, "missing"))
	f.Add(dirent64(4, unix.DT_LNK, "a-name-long-enough-to-need-padding"))
	f.Add([]byte{1, 2, 3})
	dir := f.TempDir()
	dh, err := openDirHandle(dir, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(dh.closeDir)
	f.Fuzz(func(t *testing.T, b []byte) {
		ents, _ := parseDirents(dh, b, nil)
		for _, e := range ents {
			n := string(e.name)
			if n == "" || n == "." || n == ".." || strings.IndexByte(n, 0) >= 0 {
				t.Errorf("entry named %q", n)
			}
		}
	})
}
