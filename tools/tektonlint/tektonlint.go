// Package tektonlint checks the Tekton resources shipped under tekton/ (and the examples) with Tekton's own
// types and validation (github.com/tektoncd/pipeline), and cross-checks the parameters a Task passes to the
// StepActions it references and a Pipeline passes to the Tasks it references.
//
// It lives in the separate tools module so that the main module does not depend on Kubernetes.
package tektonlint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	v1 "github.com/tektoncd/pipeline/pkg/apis/pipeline/v1"
	"github.com/tektoncd/pipeline/pkg/apis/pipeline/v1beta1"
	"sigs.k8s.io/yaml"
)

// Set holds every resource found in a group of files, by name.
type Set struct {
	StepActions map[string]*v1beta1.StepAction
	Tasks       map[string]*v1.Task
	Pipelines   map[string]*v1.Pipeline
	// Where records the file (and document index) each resource came from, for messages.
	Where map[string]string
}

func newSet() *Set {
	return &Set{
		StepActions: map[string]*v1beta1.StepAction{},
		Tasks:       map[string]*v1.Task{},
		Pipelines:   map[string]*v1.Pipeline{},
		Where:       map[string]string{},
	}
}

var docSep = regexp.MustCompile(`(?m)^---[ \t]*$`)

// splitDocs splits a multi-document YAML stream; empty documents are dropped.
func splitDocs(b []byte) [][]byte {
	var out [][]byte
	for _, d := range docSep.Split(string(b), -1) {
		if strings.TrimSpace(stripComments(d)) == "" {
			continue
		}
		out = append(out, []byte(d))
	}
	return out
}

func stripComments(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(l), "#") {
			continue
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return b.String()
}

type header struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
}

// Load decodes every *.yaml/*.yml file under the given directories strictly into Tekton's types.
func Load(dirs ...string) (*Set, error) {
	s := newSet()
	var errs []error
	for _, dir := range dirs {
		err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
				return nil
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for i, doc := range splitDocs(b) {
				where := fmt.Sprintf("%s#%d", path, i)
				if err := s.add(where, doc); err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", where, err))
				}
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("walk %s: %w", dir, err))
		}
	}
	return s, errors.Join(errs...)
}

func (s *Set) add(where string, doc []byte) error {
	var h header
	if err := yaml.Unmarshal(doc, &h); err != nil {
		return fmt.Errorf("decode header: %w", err)
	}
	if h.Metadata.Name == "" {
		return errors.New("metadata.name is empty")
	}
	key := h.Kind + "/" + h.Metadata.Name
	if prev, ok := s.Where[key]; ok {
		return fmt.Errorf("%s defined twice (also in %s)", key, prev)
	}
	s.Where[key] = where
	switch {
	case h.APIVersion == "tekton.dev/v1beta1" && h.Kind == "StepAction":
		var o v1beta1.StepAction
		if err := yaml.UnmarshalStrict(doc, &o); err != nil {
			return fmt.Errorf("strict decode %s: %w", key, err)
		}
		s.StepActions[o.Name] = &o
	case h.APIVersion == "tekton.dev/v1" && h.Kind == "Task":
		var o v1.Task
		if err := yaml.UnmarshalStrict(doc, &o); err != nil {
			return fmt.Errorf("strict decode %s: %w", key, err)
		}
		s.Tasks[o.Name] = &o
	case h.APIVersion == "tekton.dev/v1" && h.Kind == "Pipeline":
		var o v1.Pipeline
		if err := yaml.UnmarshalStrict(doc, &o); err != nil {
			return fmt.Errorf("strict decode %s: %w", key, err)
		}
		s.Pipelines[o.Name] = &o
	default:
		return fmt.Errorf("unsupported apiVersion/kind %s %s", h.APIVersion, h.Kind)
	}
	return nil
}

// Validate runs SetDefaults and Validate on every resource, then the cross-checks.
func (s *Set) Validate(ctx context.Context) error {
	var errs []error
	for _, name := range sortedKeys(s.StepActions) {
		o := s.StepActions[name]
		o.SetDefaults(ctx)
		if fe := o.Validate(ctx); fe != nil {
			errs = append(errs, fmt.Errorf("StepAction %s: %s", name, fe.Error()))
		}
	}
	for _, name := range sortedKeys(s.Tasks) {
		o := s.Tasks[name]
		o.SetDefaults(ctx)
		if fe := o.Validate(ctx); fe != nil {
			errs = append(errs, fmt.Errorf("Task %s: %s", name, fe.Error()))
		}
	}
	for _, name := range sortedKeys(s.Pipelines) {
		o := s.Pipelines[name]
		o.SetDefaults(ctx)
		if fe := o.Validate(ctx); fe != nil {
			errs = append(errs, fmt.Errorf("Pipeline %s: %s", name, fe.Error()))
		}
	}
	errs = append(errs, s.CrossCheck()...)
	return errors.Join(errs...)
}

// CrossCheck checks that every StepAction a Task references exists here and receives exactly the
// parameters it declares (all required ones, no unknown ones, matching types), and the same for the
// Tasks and workspaces a Pipeline references.
func (s *Set) CrossCheck() []error {
	var errs []error
	for _, tname := range sortedKeys(s.Tasks) {
		t := s.Tasks[tname]
		for i, st := range t.Spec.Steps {
			if st.Ref == nil {
				continue
			}
			at := fmt.Sprintf("Task %s step %d (%s)", tname, i, st.Name)
			sa, ok := s.StepActions[st.Ref.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: references unknown StepAction %q", at, st.Ref.Name))
				continue
			}
			errs = append(errs, checkParams(at, "StepAction "+sa.Name, sa.Spec.Params, st.Params)...)
		}
	}
	for _, pname := range sortedKeys(s.Pipelines) {
		p := s.Pipelines[pname]
		declared := map[string]bool{}
		for _, w := range p.Spec.Workspaces {
			declared[w.Name] = true
		}
		for _, pt := range append(append([]v1.PipelineTask{}, p.Spec.Tasks...), p.Spec.Finally...) {
			at := fmt.Sprintf("Pipeline %s task %s", pname, pt.Name)
			if pt.TaskRef == nil {
				continue
			}
			t, ok := s.Tasks[pt.TaskRef.Name]
			if !ok {
				errs = append(errs, fmt.Errorf("%s: references unknown Task %q", at, pt.TaskRef.Name))
				continue
			}
			errs = append(errs, checkParams(at, "Task "+t.Name, t.Spec.Params, pt.Params)...)
			bound := map[string]bool{}
			for _, wb := range pt.Workspaces {
				bound[wb.Name] = true
				if !hasWorkspace(t.Spec.Workspaces, wb.Name) {
					errs = append(errs, fmt.Errorf("%s: binds workspace %q that Task %s does not declare", at, wb.Name, t.Name))
				}
				if wb.Workspace != "" && !declared[wb.Workspace] {
					errs = append(errs, fmt.Errorf("%s: uses pipeline workspace %q that is not declared", at, wb.Workspace))
				}
			}
			for _, w := range t.Spec.Workspaces {
				if !w.Optional && !bound[w.Name] {
					errs = append(errs, fmt.Errorf("%s: Task %s needs workspace %q, not bound", at, t.Name, w.Name))
				}
			}
		}
	}
	return errs
}

func hasWorkspace(ws []v1.WorkspaceDeclaration, name string) bool {
	for _, w := range ws {
		if w.Name == name {
			return true
		}
	}
	return false
}

func checkParams(at, target string, specs v1.ParamSpecs, given v1.Params) []error {
	var errs []error
	byName := map[string]v1.ParamSpec{}
	for _, sp := range specs {
		byName[sp.Name] = sp
	}
	passed := map[string]bool{}
	for _, p := range given {
		passed[p.Name] = true
		sp, ok := byName[p.Name]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: passes param %q that %s does not declare", at, p.Name, target))
			continue
		}
		if sp.Type != "" && string(sp.Type) != string(p.Value.Type) {
			errs = append(errs, fmt.Errorf("%s: param %q is %s, %s declares %s", at, p.Name, p.Value.Type, target, sp.Type))
		}
	}
	for _, sp := range specs {
		if sp.Default == nil && !passed[sp.Name] {
			errs = append(errs, fmt.Errorf("%s: %s requires param %q, not passed", at, target, sp.Name))
		}
	}
	return errs
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
