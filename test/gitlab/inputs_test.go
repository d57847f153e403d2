package gitlab

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestIncludeRejectsBadInputs: wrong input values fail when the pipeline is expanded (include time),
// through the templates' options:, regex: and type:, with GitLab's message.
func TestIncludeRejectsBadInputs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, old, new, want string
	}{
		{"step with a space", "step: package", `step: "pack age"`, "`step` input: `pack age` does not match required regex"},
		{"unknown signing mode", "      signing-config: $SIGNING_CONFIG\n  - local: gitlab/run.yml",
			"      signing-config: $SIGNING_CONFIG\n      signing: keyles\n  - local: gitlab/run.yml",
			"`signing` input: `keyles` cannot be used because it is not in the list of allowed options"},
		{"absolute links dir", "      layout-key: .intoto/layout.pub", "      layout-key: .intoto/layout.pub\n      links-dir: /etc",
			"`links-dir` input: `/etc` does not match required regex"},
		{"needs not an array", "needs: [build, package]", "needs: build", "`needs` input: provided value is not a array"},
		{"missing command", "      command: tar -czf dist/app.tar.gz dist/app.txt\n", "",
			"`command` input: required value has not been provided"},
		{"bad checksum", "      products: dist/app.txt\n", "      products: dist/app.txt\n      install: download\n      checksums-sha256: abc\n",
			"`checksums-sha256` input: `abc` does not match required regex"},
		{"same-run not boolean", "      trusted-root: $TRUSTED_ROOT", "      trusted-root: $TRUSTED_ROOT\n      same-run: yes please",
			"`same-run` input: provided value is not a boolean"},
		{"image by tag (the job image's old input name)", "      trusted-root: $TRUSTED_ROOT", "      trusted-root: $TRUSTED_ROOT\n      image: ghcr.io/intoto-ci/intoto-ci:v0.1.0",
			"`image` input: `ghcr.io/intoto-ci/intoto-ci:v0.1.0` does not match required regex"},
		{"attach not boolean", "      trusted-root: $TRUSTED_ROOT", "      trusted-root: $TRUSTED_ROOT\n      attach: maybe",
			"`attach` input: provided value is not a boolean"},
		{"bad layout param", "      trusted-root: $TRUSTED_ROOT", "      trusted-root: $TRUSTED_ROOT\n      param: novalue",
			"`param` input: `novalue` does not match required regex"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			project := newProject(t, func(s string) string { return strings.Replace(s, c.old, c.new, 1) })
			res := runGCL(t, project, nil, "--preview", "--no-color", "--no-json-schema-validation")
			if res.code == 0 {
				t.Fatalf("gitlab-ci-local --preview exited 0, want a failure mentioning %q", c.want)
			}
			if !strings.Contains(res.stdout+res.stderr, c.want) {
				t.Fatalf("got output\n%s%s\nwant it to contain %q", res.stdout, res.stderr, c.want)
			}
		})
	}
}

// TestIncludeInputNames checks what GitLab checks and gitlab-ci-local does not: every include of a
// template passes only inputs its spec declares, and every required input.
func TestIncludeInputNames(t *testing.T) {
	t.Parallel()
	specs := map[string]map[string]inputSpec{}
	for _, name := range []string{"run.yml", "verify.yml"} {
		specs["gitlab/"+name] = readSpec(t, filepath.Join(repoRoot, "gitlab", name))
	}
	for _, example := range []string{"gitlab", "gitlab/image", "gitlab-deploy"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "examples", example, ".gitlab-ci.yml"))
		if err != nil {
			t.Fatal(err)
		}
		var ci struct {
			Include []struct {
				Local  string         `yaml:"local"`
				Inputs map[string]any `yaml:"inputs"`
			} `yaml:"include"`
		}
		if err := yaml.Unmarshal(b, &ci); err != nil {
			t.Fatal(err)
		}
		if len(ci.Include) == 0 {
			t.Fatalf("examples/%s includes nothing", example)
		}
		for i, inc := range ci.Include {
			spec, ok := specs[inc.Local]
			if !ok {
				t.Errorf("examples/%s include %d: local %q is not a template under gitlab/", example, i, inc.Local)
				continue
			}
			if err := checkInputs(spec, inc.Inputs); err != nil {
				t.Errorf("examples/%s include %d (%s): %v", example, i, inc.Local, err)
			}
		}
	}
	// The checker itself: an unknown name and a missing required input are reported.
	if err := checkInputs(specs["gitlab/run.yml"], map[string]any{"step": "x", "command": "y", "material": "src"}); err == nil ||
		!strings.Contains(err.Error(), `unknown input "material"`) {
		t.Errorf("got %v, want an unknown input error", err)
	}
	// The job's image was input image before v0.2.0: GitLab refuses the old name in run.yml as unknown
	// (gitlab-ci-local does not check unknown inputs, so this checks the spec).
	if err := checkInputs(specs["gitlab/run.yml"], map[string]any{"step": "x", "command": "y", "image": "alpine:3"}); err == nil ||
		!strings.Contains(err.Error(), `unknown input "image"`) {
		t.Errorf("got %v, want input image unknown in run.yml (renamed job-image)", err)
	}
	if err := checkInputs(specs["gitlab/run.yml"], map[string]any{"step": "x"}); err == nil ||
		!strings.Contains(err.Error(), `required input "command"`) {
		t.Errorf("got %v, want a missing required input error", err)
	}
}

type inputSpec struct {
	Default     any    `yaml:"default"`
	Type        string `yaml:"type"`
	Options     []any  `yaml:"options"`
	Regex       string `yaml:"regex"`
	Description string `yaml:"description"`
}

// readSpec reads the spec:inputs header (the first YAML document) of a template.
func readSpec(tb testing.TB, path string) map[string]inputSpec {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var header struct {
		Spec struct {
			Inputs map[string]inputSpec `yaml:"inputs"`
		} `yaml:"spec"`
	}
	dec := yaml.NewDecoder(f)
	dec.KnownFields(true)
	if err := dec.Decode(&header); err != nil {
		tb.Fatalf("%s: spec header: %v", path, err)
	}
	if len(header.Spec.Inputs) == 0 {
		tb.Fatalf("%s: no spec:inputs", path)
	}
	for name, in := range header.Spec.Inputs {
		if in.Description == "" {
			tb.Errorf("%s: input %q has no description", path, name)
		}
	}
	return header.Spec.Inputs
}

func checkInputs(spec map[string]inputSpec, given map[string]any) error {
	var problems []string
	for name := range given {
		if _, ok := spec[name]; !ok {
			problems = append(problems, fmt.Sprintf("unknown input %q", name))
		}
	}
	for name, in := range spec {
		if _, ok := given[name]; !ok && in.Default == nil {
			problems = append(problems, fmt.Sprintf("required input %q not given", name))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("%s", strings.Join(problems, "; "))
}
