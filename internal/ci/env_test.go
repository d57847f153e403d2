package ci

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/identity"
)

func TestHiddenEnv(t *testing.T) {
	t.Parallel()
	got := HiddenEnv("MY_TOKEN", "", KeyPasswordEnv)
	for _, want := range []string{KeyPasswordEnv, identity.EnvGitHubRequestURL, identity.EnvGitHubRequestToken,
		identity.EnvSigstoreIDToken, "ACTIONS_RUNTIME_TOKEN", "CI_JOB_JWT_V2", "MY_TOKEN"} {
		if !slices.Contains(got, want) {
			t.Errorf("HiddenEnv() = %v, missing %s", got, want)
		}
	}
	if slices.Contains(got, "") || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(got) {
		t.Errorf("HiddenEnv() holds an empty or repeated name: %v", got)
	}
	for _, visible := range []string{"GITHUB_RUN_ID", PlatformEnv, "GITHUB_SHA", "CI_JOB_TOKEN", GitHubTokenEnv, GitLabRegistryPass} {
		if slices.Contains(got, visible) {
			t.Errorf("HiddenEnv() hides %s, which every step sees anyway", visible)
		}
	}
}

// Every variable the code reads by name is in Variables: a sweep of the non-test sources for
// getenv("NAME") calls and for the Env… name constants of internal/identity.
func TestVariablesCoverTheCode(t *testing.T) {
	t.Parallel()
	known := map[string]bool{}
	for _, v := range Variables() {
		known[v.Name] = true
	}
	read := regexp.MustCompile(`(?:getenv|Getenv|LookupEnv|env)\("([A-Z][A-Z0-9_]+)"\)|\bEnv[A-Za-z]+\s*=\s*"([A-Z][A-Z0-9_]+)"`)
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "testutil" {
				return filepath.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return nil
			}
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range read.FindAllStringSubmatch(string(data), -1) {
				if name := m[1] + m[2]; !known[name] {
					t.Errorf("%s reads %s, which ci.Variables does not list", path, name)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// docs/formats.md's table lists exactly Variables, with the same hidden column.
func TestVariablesDocumented(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../../docs/formats.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Z][A-Z0-9_]+)` \\| (yes|no) \\|")
	documented := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(string(data), -1) {
		documented[m[1]] = m[2] == "yes"
	}
	for _, v := range Variables() {
		hidden, ok := documented[v.Name]
		switch {
		case !ok:
			t.Errorf("docs/formats.md does not list %s", v.Name)
		case hidden != v.Hidden:
			t.Errorf("docs/formats.md says %s hidden=%v, ci.Variables says %v", v.Name, hidden, v.Hidden)
		}
		delete(documented, v.Name)
	}
	for name := range documented {
		t.Errorf("docs/formats.md lists %s, which ci.Variables does not", name)
	}
}
