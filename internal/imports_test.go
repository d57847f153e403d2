// Package internal_test holds checks that span the internal packages.
package internal_test

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestEngineImports enforces the one-way import rule: the engine knows nothing of CI platforms, identity
// tokens, signing services or the network; the CLI is the only place where they meet.
func TestEngineImports(t *testing.T) {
	t.Parallel()
	engine := []string{"intoto", "wire", "keys", "linkfile", "rules", "artifact", "envelope", "runner", "verify", "report", "layout", "vsa", "step"}
	forbidden := []string{
		"github.com/intoto-ci/intoto-ci/internal/ci",
		"github.com/intoto-ci/intoto-ci/internal/identity",
		"github.com/intoto-ci/intoto-ci/internal/sigstore",
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

// TestLeanBinary keeps sigstore-go's signing and verification (and what they pull in: Rekor's
// OpenAPI client, gRPC, govalidator) out of the intoto-ci binary, so that their package initialisers
// do not run in every key-signed step. They belong in intoto-ci-sigstore, which intoto-ci runs only
// for keyless work (internal/keyless). The registry client (go-containerregistry, with the docker
// config and zstd packages it pulls in) stays out the same way: intoto-ci runs attach and
// verify --image in intoto-ci-sigstore. So do trusted roots, signing configs and TUF (sigstore-go's
// root and tuf packages, go-tuf, the timestamp-authority verifier): resolving services from a signing
// config and reading a bundle's certificate are requests to the helper too (keyless.Backend).
func TestLeanBinary(t *testing.T) {
	t.Parallel()
	deps := func(pkg string) map[string]bool {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		m := map[string]bool{}
		for _, d := range strings.Fields(string(out)) {
			m[d] = true
		}
		return m
	}
	heavy := []string{
		"github.com/intoto-ci/intoto-ci/internal/sigstore",
		"github.com/sigstore/sigstore-go/pkg/sign",
		"github.com/sigstore/sigstore-go/pkg/verify",
		"github.com/sigstore/sigstore-go/pkg/bundle",
		"github.com/go-openapi/strfmt",
		"github.com/asaskevich/govalidator",
		"google.golang.org/grpc",
		"github.com/intoto-ci/intoto-ci/internal/oci/ggcr",
		"github.com/google/go-containerregistry/pkg/v1/remote",
		"github.com/docker/cli/cli/config",
		// Trusted roots, signing configs and TUF: the helper reads them (trust, sigstore).
		"github.com/intoto-ci/intoto-ci/internal/trust",
		"github.com/sigstore/sigstore-go/pkg/root",
		"github.com/sigstore/sigstore-go/pkg/tuf",
		"github.com/theupdateframework/go-tuf/v2/metadata",
		"github.com/theupdateframework/go-tuf/v2/metadata/updater",
		"github.com/sigstore/timestamp-authority/v2/pkg/verification",
	}
	lean, full := deps("../cmd/intoto-ci"), deps("../cmd/intoto-ci-sigstore")
	for _, h := range heavy {
		if lean[h] {
			t.Errorf("cmd/intoto-ci depends on %s", h)
		}
		// The check would prove nothing if the names were wrong: the helper must have them.
		if !full[h] {
			t.Errorf("cmd/intoto-ci-sigstore does not depend on %s: is the name right?", h)
		}
	}
}

// TestModelPure holds internal/intoto to what its doc says: the model reads no files and does no key
// cryptography (internal/keys does); it decodes and encodes bytes it is given.
func TestModelPure(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./intoto").CombinedOutput()
	if err != nil {
		t.Fatalf("go list ./intoto: %v\n%s", err, out)
	}
	imports := strings.Fields(string(out))
	if len(imports) < 2 {
		t.Fatalf("go list ./intoto listed %d imports: the check would prove nothing", len(imports))
	}
	for _, imp := range imports {
		switch {
		case imp == "os", imp == "io/fs", imp == "path/filepath", imp == "os/exec",
			imp == "crypto" || strings.HasPrefix(imp, "crypto/"),
			imp == "github.com/intoto-ci/intoto-ci/internal/keys":
			t.Errorf("internal/intoto imports %s", imp)
		}
	}
}

// floors places every internal package on a floor: a package imports only packages on lower floors,
// so the shape has no cycle and no upward import, and a new package must be given a place here
// (docs/dev/TEAM.md draws the same picture). Test helpers (internal/testutil) are outside the house.
var floors = map[string]int{
	// 0: the model and what knows nothing else.
	"intoto": 0, "runner": 0, "backoff": 0, "ci/github": 0,
	// 1: formats, keys, rules, recording, CI platforms, identity tokens.
	"wire": 1, "keys": 1, "rules": 1, "artifact": 1, "ci": 1, "identity": 1,
	// 2: signed envelopes; the demo's chain.
	"envelope": 2, "demo": 2,
	// 3: verification, layout authoring, registry types.
	"verify": 3, "layout": 3, "oci": 3,
	// 4: what a verification result feeds, and the keyless boundary.
	"keyless": 4, "report": 4, "vsa": 4,
	// 5: writing links; trusted roots (helper only).
	"linkfile": 5, "trust": 5,
	// 6: Sigstore and the registry client (helper only); a whole step (run, record start/stop).
	"sigstore": 6, "oci/ggcr": 6, "step": 6,
	// 7: flags into options.
	"cli": 7,
}

func TestFloors(t *testing.T) {
	t.Parallel()
	const prefix = "github.com/intoto-ci/intoto-ci/internal/"
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list ./...: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, ok := strings.CutPrefix(fields[0], prefix)
		if !ok || strings.HasPrefix(pkg, "testutil/") {
			continue
		}
		floor, placed := floors[pkg]
		if !placed {
			t.Errorf("internal/%s has no floor: give it one in floors (and in docs/dev/TEAM.md)", pkg)
			continue
		}
		seen++
		for _, imp := range fields[1:] {
			dep, ok := strings.CutPrefix(imp, prefix)
			if !ok {
				continue
			}
			if f, placed := floors[dep]; placed && f >= floor {
				t.Errorf("internal/%s (floor %d) imports internal/%s (floor %d): imports go down only", pkg, floor, dep, f)
			}
		}
	}
	if seen != len(floors) {
		t.Errorf("go list found %d of the %d packages with a floor: a package was removed or renamed", seen, len(floors))
	}
}

// TestFloorsDocumented holds docs/dev/TEAM.md's floor table to floors: the same packages on the same
// floors, so the picture a newcomer reads is the one the build enforces.
func TestFloorsDocumented(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("../docs/dev/TEAM.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]int{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		floor, err := strconv.Atoi(strings.TrimSpace(cells[1]))
		if err != nil {
			continue
		}
		for _, pkg := range strings.Split(cells[2], ",") {
			documented[strings.TrimSpace(pkg)] = floor
		}
	}
	for pkg, floor := range floors {
		if f, ok := documented[pkg]; !ok {
			t.Errorf("TEAM.md has no floor for internal/%s (floor %d)", pkg, floor)
		} else if f != floor {
			t.Errorf("TEAM.md puts internal/%s on floor %d, the build on %d", pkg, f, floor)
		}
	}
	for pkg := range documented {
		if _, ok := floors[pkg]; !ok {
			t.Errorf("TEAM.md places %s, which has no floor in the build", pkg)
		}
	}
}
