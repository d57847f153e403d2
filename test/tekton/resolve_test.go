// Package tekton runs the Tekton resources under tekton/ on the host: a small resolver substitutes
// parameters from the example Pipeline through the Tasks into the StepActions exactly as Tekton does
// (strings, whole arrays with [*], workspace paths, defaults), maps each volume mount to a directory,
// and executes each StepAction's script with its env and args. Only the container is missing: the
// scripts, the parameter plumbing and the intoto-ci calls are the real ones. Tekton's own validation of
// the same files runs in the tools module (tools/tektonlint).
package tekton

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const repoRoot = "../.."

type paramSpec struct {
	Name    string `yaml:"name"`
	Type    string `yaml:"type"`
	Default any    `yaml:"default"`
}

type paramValue struct {
	Name  string `yaml:"name"`
	Value any    `yaml:"value"`
}

type stepAction struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Params []paramSpec `yaml:"params"`
		Image  string      `yaml:"image"`
		Env    []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
		Args         []string `yaml:"args"`
		Script       string   `yaml:"script"`
		VolumeMounts []struct {
			Name      string `yaml:"name"`
			MountPath string `yaml:"mountPath"`
		} `yaml:"volumeMounts"`
	} `yaml:"spec"`
}

type task struct {
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Spec struct {
		Params     []paramSpec `yaml:"params"`
		Workspaces []struct {
			Name string `yaml:"name"`
		} `yaml:"workspaces"`
		Volumes []struct {
			Name string `yaml:"name"`
		} `yaml:"volumes"`
		Steps []struct {
			Name string `yaml:"name"`
			Ref  *struct {
				Name string `yaml:"name"`
			} `yaml:"ref"`
			Params []paramValue `yaml:"params"`
		} `yaml:"steps"`
	} `yaml:"spec"`
}

type pipeline struct {
	Spec struct {
		Params []paramSpec `yaml:"params"`
		Tasks  []struct {
			Name     string   `yaml:"name"`
			RunAfter []string `yaml:"runAfter"`
			TaskRef  struct {
				Name string `yaml:"name"`
			} `yaml:"taskRef"`
			Params []paramValue `yaml:"params"`
		} `yaml:"tasks"`
	} `yaml:"spec"`
}

func readYAML(tb testing.TB, path string, v any) {
	tb.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
}

// resources are the shipped StepActions and Tasks, by name.
type resources struct {
	stepActions map[string]*stepAction
	tasks       map[string]*task
}

func loadResources(tb testing.TB) *resources {
	tb.Helper()
	r := &resources{stepActions: map[string]*stepAction{}, tasks: map[string]*task{}}
	sas, err := filepath.Glob(filepath.Join(repoRoot, "tekton", "stepactions", "*.yaml"))
	if err != nil || len(sas) == 0 {
		tb.Fatalf("no StepActions under tekton/stepactions (%v)", err)
	}
	for _, p := range sas {
		var sa stepAction
		readYAML(tb, p, &sa)
		r.stepActions[sa.Metadata.Name] = &sa
	}
	ts, err := filepath.Glob(filepath.Join(repoRoot, "tekton", "tasks", "*.yaml"))
	if err != nil || len(ts) == 0 {
		tb.Fatalf("no Tasks under tekton/tasks (%v)", err)
	}
	for _, p := range ts {
		var t task
		readYAML(tb, p, &t)
		r.tasks[t.Metadata.Name] = &t
	}
	return r
}

// values are resolved parameters: string or []string.
type values map[string]any

// withDefaults returns the declared params' defaults overridden by given (already substituted) values.
// A declared param without default and without value is an error, and so is an undeclared one.
func withDefaults(specs []paramSpec, given values) (values, error) {
	out := values{}
	declared := map[string]bool{}
	for _, s := range specs {
		declared[s.Name] = true
		if v, ok := given[s.Name]; ok {
			out[s.Name] = v
			continue
		}
		if s.Default == nil {
			return nil, fmt.Errorf("param %q has no value and no default", s.Name)
		}
		v, err := plain(s.Default)
		if err != nil {
			return nil, fmt.Errorf("param %q default: %w", s.Name, err)
		}
		out[s.Name] = v
	}
	for name := range given {
		if !declared[name] {
			return nil, fmt.Errorf("param %q is not declared", name)
		}
	}
	return out, nil
}

// plain turns a decoded YAML value into string or []string.
func plain(v any) (any, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case []any:
		out := []string{}
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("array element %v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("value %v (%T) is neither string nor array", v, v)
	}
}

var ref = regexp.MustCompile(`\$\((params|workspaces)\.([A-Za-z0-9_.-]+?)(\[\*\])?\)`)

// scope resolves $(params.x), $(params.x[*]) and $(workspaces.w.path).
type scope struct {
	params     values
	workspaces map[string]string
}

// str substitutes references inside a string; an array there is an error (as in Tekton).
func (s scope) str(in string) (string, error) {
	var err error
	out := ref.ReplaceAllStringFunc(in, func(m string) string {
		g := ref.FindStringSubmatch(m)
		if g[1] == "workspaces" {
			name, ok := strings.CutSuffix(g[2], ".path")
			p, found := s.workspaces[name]
			if !ok || !found {
				err = fmt.Errorf("unknown reference %s", m)
			}
			return p
		}
		v, ok := s.params[g[2]]
		if !ok {
			err = fmt.Errorf("unknown param in %s", m)
			return ""
		}
		str, isStr := v.(string)
		if !isStr || g[3] != "" {
			err = fmt.Errorf("array param used in a string: %s", m)
		}
		return str
	})
	return out, err
}

// list substitutes an array: an element that is exactly $(params.x[*]) expands to x's elements.
func (s scope) list(in []string) ([]string, error) {
	var out []string
	for _, e := range in {
		if g := ref.FindStringSubmatch(e); g != nil && g[0] == e && g[1] == "params" && g[3] == "[*]" {
			arr, ok := s.params[g[2]].([]string)
			if !ok {
				return nil, fmt.Errorf("%s is not an array param", e)
			}
			out = append(out, arr...)
			continue
		}
		v, err := s.str(e)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// value substitutes a param value given to a Task or StepAction.
func (s scope) value(v any) (any, error) {
	p, err := plain(v)
	if err != nil {
		return nil, err
	}
	if str, ok := p.(string); ok {
		return s.str(str)
	}
	return s.list(p.([]string))
}

func (s scope) given(ps []paramValue) (values, error) {
	out := values{}
	for _, p := range ps {
		v, err := s.value(p.Value)
		if err != nil {
			return nil, fmt.Errorf("param %s: %w", p.Name, err)
		}
		out[p.Name] = v
	}
	return out, nil
}
