package tektonlint

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestShipped validates every resource shipped under tekton/, examples/tekton/ and examples/tekton-deploy/
// together: the example Pipelines reference the shipped Tasks, which reference the shipped StepActions.
func TestShipped(t *testing.T) {
	t.Parallel()
	s, err := Load("../../tekton", "../../examples/tekton", "../../examples/tekton-deploy")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.StepActions) == 0 || len(s.Tasks) == 0 || len(s.Pipelines) == 0 {
		t.Fatalf("got %d StepActions, %d Tasks, %d Pipelines, want at least one of each",
			len(s.StepActions), len(s.Tasks), len(s.Pipelines))
	}
	if err := s.Validate(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestRejects proves the checks bite: each testdata/bad/*.yaml is combined with the shipped resources
// and must fail with a message containing the text in its first line ("# want: …").
func TestRejects(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/bad/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/bad cases")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(b), "\n")
			want, ok := strings.CutPrefix(first, "# want: ")
			if !ok {
				t.Fatalf("%s: first line must be '# want: <error text>'", f)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "case.yaml"), b, 0o644); err != nil {
				t.Fatal(err)
			}
			s, err := Load("../../tekton", dir)
			if err == nil {
				err = s.Validate(context.Background())
			}
			if err == nil {
				t.Fatalf("got no error, want one containing %q", want)
			}
			if !strings.Contains(err.Error(), want) {
				t.Fatalf("got error %v, want one containing %q", err, want)
			}
		})
	}
}
