//go:build unix

package artifact

import (
	"path/filepath"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRecordSkipsSpecialFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"a": "a"})
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	got := record(t, []string{".", "fifo"}, Options{BasePath: dir})
	if diff := cmp.Diff([]string{"a"}, names(got)); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
}
