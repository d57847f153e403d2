package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

// TestMissingHelperIsOperational: a signing config or a trusted root that intoto-ci cannot hand to a
// missing intoto-ci-sigstore is a broken installation (exit 3, naming the helper), while the same
// request with a bad signing config or chain, answered, is the user's input (exit 2).
func TestMissingHelperIsOperational(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := keyless.Exec{Path: filepath.Join(dir, keyless.HelperName)}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"mediaType":"nonsense"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	run := []string{"run", "--step", "s", "--links-dir", dir, "--signing", "keyless", "--identity-token", "x.y.z",
		"--signing-config", bad, "--", "true"}
	create := []string{"trusted-root", "create", "--fulcio", "url=https://f.example,certificate-chain=" + bad, "-o", filepath.Join(dir, "tr.json")}
	for _, args := range [][]string{run, create} {
		if r := invokeWith(t, missing, nil, args...); r.code != ExitFailure || !strings.Contains(r.err, keyless.HelperName) {
			t.Errorf("%s without the helper: got exit %d %q, want 3 naming %s", args[0], r.code, r.err, keyless.HelperName)
		}
		// The control: the backend answers (in this process) and the input is refused as input.
		if r := invoke(t, nil, args...); r.code != ExitUsage {
			t.Errorf("%s with a bad input: got exit %d %q, want 2", args[0], r.code, r.err)
		}
	}
}
