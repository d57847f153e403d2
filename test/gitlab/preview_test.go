package gitlab

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// TestPreviewGolden pins the YAML the example expands to once gitlab/run.yml and gitlab/verify.yml are
// included with its inputs. Regenerate with: go test ./test/gitlab -run TestPreviewGolden -update
func TestPreviewGolden(t *testing.T) {
	t.Parallel()
	project := newProject(t, nil)
	res := runGCL(t, project, nil, "--preview", "--no-color")
	if res.code != 0 {
		t.Fatalf("gitlab-ci-local --preview exited %d\nstderr:\n%s", res.code, res.stderr)
	}
	golden := filepath.Join("testdata", "preview.golden.yml")
	if *update {
		if err := os.WriteFile(golden, []byte(res.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), res.stdout); diff != "" {
		t.Errorf("expanded YAML differs from %s (-want +got; -update to accept):\n%s", golden, diff)
	}
}
