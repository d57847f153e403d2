package cli

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
)

// TestRegistryCommandsRunInHelper: intoto-ci, which links no registry client, runs attach in
// intoto-ci-sigstore and exits with the helper's code (3: the registry is unreachable); without the
// helper beside it, it says what to install (exit 3).
func TestRegistryCommandsRunInHelper(t *testing.T) {
	t.Parallel()
	ic := buildtest.IntotoCI(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "k"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(bin string) (int, string) {
		cmd := exec.Command(bin, "attach", "--image", "127.0.0.1:1/a:v1", "--layout", "x", "--layout-key", "k")
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		return cmd.ProcessState.ExitCode(), string(out)
	}
	if code, out := run(ic); code != ExitFailure || !strings.Contains(out, "intoto-ci attach: registry 127.0.0.1:1") {
		t.Errorf("through the helper: exit %d\n%s", code, out)
	}
	// A copy of intoto-ci alone in a directory has no helper beside it.
	alone := filepath.Join(t.TempDir(), "intoto-ci")
	data, err := os.ReadFile(ic)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(alone, data, 0o755); err != nil {
		t.Fatal(err)
	}
	if code, out := run(alone); code != ExitFailure || !strings.Contains(out, "registry access runs in intoto-ci-sigstore: ") {
		t.Errorf("without the helper: exit %d\n%s", code, out)
	}
}
