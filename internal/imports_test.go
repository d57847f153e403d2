// Package internal_test holds checks that span the internal packages.
package internal_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestEngineImports enforces the one-way import rule: the engine knows nothing of CI platforms, identity
// tokens, signing services or the network; the CLI is the only place where they meet.
func TestEngineImports(t *testing.T) {
	t.Parallel()
	engine := []string{"intoto", "rules", "artifact", "envelope", "runner", "verify", "report", "layout"}
	forbidden := []string{
		"github.com/intoto-ci/intoto-ci/internal/ci",
		"github.com/intoto-ci/intoto-ci/internal/identity",
		"github.com/intoto-ci/intoto-ci/internal/signing",
		"github.com/intoto-ci/intoto-ci/internal/trust",
		"github.com/intoto-ci/intoto-ci/internal/cli",
		"net/http",
		"github.com/sigstore/sigstore-go/pkg/sign",
	}
	for _, pkg := range engine {
		t.Run(pkg, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("go", "list", "-deps", "./"+pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list -deps ./%s: %v\n%s", pkg, err, out)
			}
			deps := strings.Fields(string(out))
			if len(deps) < 2 {
				t.Fatalf("go list -deps ./%s listed %d packages: the check would prove nothing", pkg, len(deps))
			}
			for _, d := range deps {
				for _, f := range forbidden {
					if d == f {
						t.Errorf("internal/%s depends on %s", pkg, f)
					}
				}
			}
		})
	}
}
