package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchSmoke builds intoto-ci and this program, and runs the whole benchmark at a minuscule scale
// without peers. It checks that everything runs and prints a table, never how fast.
func TestBenchSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two binaries")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	for _, b := range [][2]string{{"intoto-ci", "github.com/intoto-ci/intoto-ci/cmd/intoto-ci"}, {"bench", "github.com/intoto-ci/intoto-ci/scripts/bench"}} {
		if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, b[0]), b[1]).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", b[1], err, out)
		}
	}
	cmd := exec.CommandContext(context.Background(), filepath.Join(bin, "bench"), "-intoto-ci", filepath.Join(bin, "intoto-ci"),
		"-scale", "0.0002", "-runs", "1", "-peers", "none", "-many", "-dir", filepath.Join(dir, "work"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("bench: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"| record 20 files", "| verify a 3-step chain, 20 artifacts", "wrap `true`", `"rows":`} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}
