// Package buildtest builds the intoto-ci binary from this checkout once per test binary, for the
// black-box tests that run it as a user (or a CI runner) would. Imported only by tests.
package buildtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// built is per test binary by nature: every test of the package shares one build.
var built struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// IntotoCI returns the path of a static intoto-ci binary built from this checkout (CGO_ENABLED=0, so
// it also runs in a minimal image or another step's container). Its keyless helper, intoto-ci-sigstore,
// is built beside it, as a release installs them.
func IntotoCI(tb testing.TB) string {
	tb.Helper()
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "intoto-ci-test-bin-")
		if err != nil {
			built.err = err
			return
		}
		built.dir = dir
		built.path = filepath.Join(dir, "intoto-ci")
		cmd := exec.Command("go", "build", "-trimpath", "-o", dir+string(filepath.Separator),
			"github.com/intoto-ci/intoto-ci/cmd/intoto-ci", "github.com/intoto-ci/intoto-ci/cmd/intoto-ci-sigstore")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("build intoto-ci and intoto-ci-sigstore: %w\n%s", err, out)
		}
	})
	if built.err != nil {
		tb.Fatal(built.err)
	}
	return built.path
}

// Main runs the tests and removes the binary built for them (it is shared by all tests, so no single
// test's TempDir can own it). Call it from TestMain: os.Exit(buildtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if built.dir != "" {
		if err := os.RemoveAll(built.dir); err != nil {
			fmt.Fprintf(os.Stderr, "remove %s: %v\n", built.dir, err)
		}
	}
	return code
}
