package gitlab

// Kept in step with the copies in test/tekton and test/image. Drop them for `intoto-ci sign` once the CLI
// compiles the YAML layout form of docs/DESIGN.md itself.

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// yamlLayout is the authoring form of a layout (docs/DESIGN.md "Formats").
type yamlLayout struct {
	Expires       string `yaml:"expires"`
	Readme        string `yaml:"readme"`
	Functionaries map[string]struct {
		Key           string            `yaml:"key"`
		Issuer        string            `yaml:"issuer"`
		Subject       string            `yaml:"subject"`
		SubjectRegexp string            `yaml:"subject_regexp"`
		Claims        map[string]string `yaml:"claims"`
	} `yaml:"functionaries"`
	Steps []struct {
		Name          string   `yaml:"name"`
		Functionaries []string `yaml:"functionaries"`
		Threshold     int      `yaml:"threshold"`
		Command       []string `yaml:"command"`
		Materials     []string `yaml:"materials"`
		Products      []string `yaml:"products"`
	} `yaml:"steps"`
	Inspections []struct {
		Name      string   `yaml:"name"`
		Run       []string `yaml:"run"`
		Materials []string `yaml:"materials"`
		Products  []string `yaml:"products"`
	} `yaml:"inspections"`
}

// compileLayout turns a YAML layout into unsigned in-toto layout JSON; key paths are relative to the
// YAML file.
func compileLayout(tb testing.TB, src []byte, dir string) []byte {
	tb.Helper()
	var y yamlLayout
	dec := yaml.NewDecoder(strings.NewReader(string(src)))
	dec.KnownFields(true)
	if err := dec.Decode(&y); err != nil {
		tb.Fatalf("layout YAML: %v", err)
	}
	expires, err := time.Parse(time.RFC3339, y.Expires)
	if err != nil {
		tb.Fatalf("layout expires: %v", err)
	}
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: expires.UTC().Format(intoto.ExpiresFormat), Readme: y.Readme,
		Keys: map[string]*intoto.Key{}, Steps: []*intoto.Step{}, Inspections: []*intoto.Inspection{}}
	keyIDs := map[string]string{}
	for name, f := range y.Functionaries {
		if f.Key != "" {
			k, err := intoto.LoadKey(filepath.Join(dir, f.Key))
			if err != nil {
				tb.Fatalf("functionary %s: %v", name, err)
			}
			keyIDs[name] = l.AddKey(k)
			continue
		}
		if l.Identities == nil {
			l.Identities = map[string]*intoto.Identity{}
		}
		id := &intoto.Identity{Issuer: f.Issuer, Subject: f.Subject, SubjectRegexp: f.SubjectRegexp}
		for c, v := range f.Claims {
			if id.Claims == nil {
				id.Claims = map[string]intoto.ClaimMatch{}
			}
			id.Claims[c] = intoto.ClaimMatch{Exact: v}
		}
		l.Identities[name] = id
	}
	rules := func(rs []string) []intoto.Rule {
		out := []intoto.Rule{}
		for _, r := range rs {
			out = append(out, intoto.Rule(strings.Fields(r)))
		}
		return out
	}
	for _, s := range y.Steps {
		st := &intoto.Step{Type: intoto.TypeStep, Name: s.Name, Threshold: s.Threshold, PubKeys: []string{},
			ExpectedCommand: append([]string{}, s.Command...), ExpectedMaterials: rules(s.Materials), ExpectedProducts: rules(s.Products)}
		for _, f := range s.Functionaries {
			if id, ok := keyIDs[f]; ok {
				st.PubKeys = append(st.PubKeys, id)
			} else {
				st.Identities = append(st.Identities, f)
			}
		}
		l.Steps = append(l.Steps, st)
	}
	for _, in := range y.Inspections {
		l.Inspections = append(l.Inspections, &intoto.Inspection{Type: intoto.TypeInspection, Name: in.Name, Run: in.Run,
			ExpectedMaterials: rules(in.Materials), ExpectedProducts: rules(in.Products)})
	}
	if err := l.Validate(); err != nil {
		tb.Fatalf("compiled layout: %v", err)
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// writeLayoutJSON compiles the YAML layout at src into dst (unsigned).
func writeLayoutJSON(tb testing.TB, src, dst string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, compileLayout(tb, b, filepath.Dir(src)), 0o644); err != nil {
		tb.Fatal(err)
	}
}
