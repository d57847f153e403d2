package act

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
)

type actionFile struct {
	Inputs  map[string]struct{ Description, Default string } `yaml:"inputs"`
	Outputs map[string]struct{ Description, Value string }   `yaml:"outputs"`
	Runs    struct {
		Using string `yaml:"using"`
		Steps []struct {
			Name  string            `yaml:"name"`
			ID    string            `yaml:"id"`
			If    string            `yaml:"if"`
			Run   string            `yaml:"run"`
			Shell string            `yaml:"shell"`
			Uses  string            `yaml:"uses"`
			Env   map[string]string `yaml:"env"`
		} `yaml:"steps"`
	} `yaml:"runs"`
}

func readAction(t *testing.T) actionFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(b, &a); err != nil {
		t.Fatalf("parse action.yml: %v", err)
	}
	return a
}

// TestActionStepsHaveShell fails when a composite run step lacks shell: GitHub rejects such an action,
// act does not.
func TestActionStepsHaveShell(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	if a.Runs.Using != "composite" {
		t.Fatalf("runs.using: got %q, want composite", a.Runs.Using)
	}
	for i, s := range a.Runs.Steps {
		switch {
		case s.Run != "" && s.Uses != "":
			t.Errorf("step %d (%s): has both run and uses", i, s.Name)
		case s.Run != "" && s.Shell == "":
			t.Errorf("step %d (%s): run step without shell", i, s.Name)
		case s.Run == "" && s.Uses == "":
			t.Errorf("step %d (%s): neither run nor uses", i, s.Name)
		}
	}
}

var pinnedUses = regexp.MustCompile(`^[\w.-]+/[\w.-]+@[0-9a-f]{40}$`)

// TestActionPinsActionsBySHA: the action's own dependencies are pinned by commit, as the design says.
func TestActionPinsActionsBySHA(t *testing.T) {
	t.Parallel()
	for _, s := range readAction(t).Runs.Steps {
		if s.Uses != "" && !pinnedUses.MatchString(s.Uses) {
			t.Errorf("step %q uses %q: want owner/repo@<40-hex commit>", s.Name, s.Uses)
		}
	}
}

// actionOnlyInputs are the inputs that belong to the action, not to an intoto-ci flag.
var actionOnlyInputs = map[string]bool{"mode": true, "run": true, "command": true, "links-artifact-prefix": true, "version": true,
	"download-url": true, /* where the install step fetches the release */
	"key-password": true /* passed as INTOTO_CI_KEY_PASSWORD, never on the command line */}

// TestActionInputsMapToFlags: every other input reaches the flag of the same name, and no step reads an
// input inside a script (inputs go through env:, so they are never interpolated into shell code).
func TestActionInputsMapToFlags(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	var scripts strings.Builder
	envOfInput := map[string]string{} // input → env var it is passed in
	for _, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "${{") {
			t.Errorf("step %q interpolates an expression into its script; pass it through env:", s.Name)
		}
		scripts.WriteString(s.Run)
		for k, v := range s.Env {
			if m := regexp.MustCompile(`^\$\{\{ inputs\.([\w-]+) \}\}$`).FindStringSubmatch(v); m != nil {
				envOfInput[m[1]] = k
			}
		}
	}
	for name := range a.Inputs {
		if name != strings.ToLower(name) || strings.Contains(name, "_") {
			t.Errorf("input %q: want kebab-case", name)
		}
		if actionOnlyInputs[name] {
			continue
		}
		env, ok := envOfInput[name]
		if !ok {
			t.Errorf("input %q is passed to no step", name)
			continue
		}
		if want := strings.ToUpper(strings.ReplaceAll(name, "-", "_")); env != want {
			t.Errorf("input %q is passed as %s, want %s", name, env, want)
		}
		if !regexp.MustCompile(`(?m)(--` + regexp.QuoteMeta(name) + `\b[^\n]*\$\{?` + env + `\b)`).MatchString(scripts.String()) {
			t.Errorf("input %q does not reach flag --%s", name, name)
		}
	}
	for name, o := range a.Outputs {
		if !strings.HasPrefix(o.Value, "${{ steps.") {
			t.Errorf("output %q: value %q, want a step output", name, o.Value)
		}
	}
}

// flagsWithoutInput are the run and verify flags the action deliberately does not expose, with why.
var flagsWithoutInput = map[string]string{
	"identity-token":      "the action signs with the job's own OIDC token; a token input would put a bearer token in the workflow",
	"identity-token-file": "as identity-token: the job's token is requested by intoto-ci itself",
	"identity-token-env":  "as identity-token: the job's token is requested by intoto-ci itself",
	"json":                "report: json does the same",
}

// flagNames lists the flags `intoto-ci CMD -h` prints.
func flagNames(t *testing.T, cmd string) []string {
	t.Helper()
	out, _ := exec.Command(buildtest.IntotoCI(t), cmd, "-h").CombinedOutput() // -h exits non-zero
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z][a-z0-9-]*)`).FindAllStringSubmatch(string(out), -1) {
		names = append(names, m[1])
	}
	if len(names) < 10 {
		t.Fatalf("intoto-ci %s -h listed %d flags: %s", cmd, len(names), out)
	}
	return names
}

// TestEveryFlagHasAnInput: every flag of intoto-ci run, verify and attach has the action input of the same name
// (which TestActionInputsMapToFlags then follows to the flag), except the few listed with a reason.
func TestEveryFlagHasAnInput(t *testing.T) {
	t.Parallel()
	a := readAction(t)
	for _, cmd := range []string{"run", "verify", "attach"} {
		for _, f := range flagNames(t, cmd) {
			if _, ok := a.Inputs[f]; !ok && flagsWithoutInput[f] == "" {
				t.Errorf("intoto-ci %s --%s has no action input %q", cmd, f, f)
			}
		}
	}
	for f, why := range flagsWithoutInput {
		if _, ok := a.Inputs[f]; ok {
			t.Errorf("input %q exists although the list says: %s", f, why)
		}
	}
}

// TestActionlintExamples lints the example workflows with actionlint, with the action itself in place of
// intoto-ci/intoto-ci@main so that every with: key is checked against action.yml's inputs.
func TestActionlintExamples(t *testing.T) {
	t.Parallel()
	bin := tool(t, "actionlint")
	root := repoRoot(t)
	repo := t.TempDir()
	b, err := os.ReadFile(filepath.Join(root, "action.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".github", "actions", "intoto-ci", "action.yml"), string(b))
	// actionlint resolves local actions from the project root, which it finds by its .git.
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	workflows, err := filepath.Glob(filepath.Join(root, "examples", "github*", "*.yml"))
	if err != nil || len(workflows) == 0 {
		t.Fatalf("no example workflows: %v", err)
	}
	var files []string
	for _, wf := range workflows {
		b, err := os.ReadFile(wf)
		if err != nil {
			t.Fatal(err)
		}
		local := strings.ReplaceAll(string(b), actionRef, "./.github/actions/intoto-ci")
		if local == string(b) {
			t.Errorf("%s does not use %s", wf, actionRef)
		}
		dst := filepath.Join(repo, ".github", "workflows", filepath.Base(wf))
		writeFile(t, dst, local)
		files = append(files, dst)
	}
	tests, err := filepath.Glob(filepath.Join("testdata", "workflows", "*.yml"))
	if err != nil || len(tests) == 0 {
		t.Fatalf("no test workflows: %v", err)
	}
	for _, wf := range tests {
		b, err := os.ReadFile(wf)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(repo, ".github", "workflows", "test-"+filepath.Base(wf))
		writeFile(t, dst, strings.ReplaceAll(string(b), actionRef, "./.github/actions/intoto-ci"))
		files = append(files, dst)
	}
	cmd := exec.Command(bin, append([]string{"-no-color", "-shellcheck=", "-pyflakes="}, files...)...)
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("actionlint: %v\n%s", err, out)
	}
}
