package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden want.json files")

// sentinels maps the names a case may expect to the errors Result.Err must wrap.
var sentinels = map[string]error{
	"ErrLayoutSignature":   ErrLayoutSignature,
	"ErrLayoutExpired":     ErrLayoutExpired,
	"ErrThreshold":         ErrThreshold,
	"ErrInconsistentLinks": ErrInconsistentLinks,
	"ErrRules":             ErrRules,
	"ErrInspection":        ErrInspection,
	"ErrSublayout":         ErrSublayout,
	"ErrRunBinding":        ErrRunBinding,
	"ErrArtifactName":      ErrArtifactName,
}

// TestCases runs every testdata/cases/<name>/case.json: it builds the chain, verifies it, checks the
// verdict against the case's "want" and the JSON report against want.json (-update rewrites it).
func TestCases(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "cases", "*", "case.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no cases under testdata/cases")
	}
	for _, p := range dirs {
		dir := filepath.Dir(p)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			spec := readCase(t, p)
			c := buildCase(t, spec)
			res, err := Verify(context.Background(), c.opts)
			if err != nil {
				t.Fatalf("Verify: unexpected error %v", err)
			}
			checkVerdict(t, res, spec.Want)
			checkGolden(t, filepath.Join(dir, "want.json"), res)
		})
	}
}

func readCase(t testing.TB, path string) *caseSpec {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var spec caseSpec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&spec); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &spec
}

func checkVerdict(t testing.TB, res *Result, want wantSpec) {
	t.Helper()
	if res.Verified != want.Verified {
		t.Fatalf("Verified = %v, want %v (failure: %v)", res.Verified, want.Verified, res.Err())
	}
	if want.Verified {
		if res.Failure != nil || res.Err() != nil {
			t.Errorf("verified result has a failure: %v", res.Failure)
		}
	} else {
		if res.Failure == nil {
			t.Fatal("refused result without a failure")
		}
		if got := string(res.Failure.Stage); got != want.Stage {
			t.Errorf("failure stage = %q, want %q (%v)", got, want.Stage, res.Failure)
		}
		if res.Failure.Step != want.Step {
			t.Errorf("failure step = %q, want %q (%v)", res.Failure.Step, want.Step, res.Failure)
		}
		if want.Error != "" {
			s, ok := sentinels[want.Error]
			if !ok {
				t.Fatalf("case names unknown sentinel %q", want.Error)
			}
			if !errors.Is(res.Err(), s) {
				t.Errorf("Err() = %v, want it to wrap %s", res.Err(), want.Error)
			}
		}
	}
	if want.Warnings != nil && len(res.Warnings) != *want.Warnings {
		t.Errorf("got %d warnings %q, want %d", len(res.Warnings), res.Warnings, *want.Warnings)
	}
}

// checkGolden compares the JSON report with a golden file, or rewrites it with -update.
func checkGolden(t testing.TB, path string, res *Result) {
	t.Helper()
	got, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}
