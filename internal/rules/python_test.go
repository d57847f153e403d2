package rules

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

type pythonCase struct {
	Name      string
	Step      string
	Kind      string
	Rules     []intoto.Rule
	Materials map[string]intoto.Digests
	Products  map[string]intoto.Digests
	Links     map[string]struct{ Materials, Products map[string]intoto.Digests }
	Want      struct {
		Queues  [][]string
		Refused string // "", "disallow", "require" or "crash" (python raised something else)
		Crash   string
	}
}

// TestPython replays in-toto-python's verify_item_rules on hand-written and random scenarios
// (testdata/python-rules.json, made by testdata/gen.py): same verdict, same queue after every
// rule. Python's trace has no entry for the refusing rule; ours does.
func TestPython(t *testing.T) {
	t.Parallel()
	var cases []pythonCase
	readJSON(t, "testdata/python-rules.json", &cases)
	if len(cases) < 100 {
		t.Fatalf("%d cases, want the generated set", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			item := &Item{Name: c.Step, Materials: intoto.NewArtifactSet(c.Materials), Products: intoto.NewArtifactSet(c.Products)}
			links := map[string]*Item{c.Step: item}
			for name, l := range c.Links {
				links[name] = &Item{Name: name, Materials: intoto.NewArtifactSet(l.Materials), Products: intoto.NewArtifactSet(l.Products)}
			}
			kind := Materials
			if c.Kind == "products" {
				kind = Products
			}
			tr, err := Verify(item, kind, c.Rules, links, Options{Trace: true})
			var queues [][]string
			if tr != nil {
				for _, e := range tr.Entries {
					queues = append(queues, e.QueueAfter)
				}
			}
			var re *RuleError
			switch c.Want.Refused {
			case "":
				if err != nil {
					t.Fatalf("Verify: %v, python accepts", err)
				}
			case "disallow", "require":
				if !errors.As(err, &re) {
					t.Fatalf("Verify error = %v, python refuses (%s)", err, c.Want.Refused)
				}
				want := map[string]error{"disallow": ErrDisallowed, "require": ErrRequired}[c.Want.Refused]
				if !errors.Is(err, want) {
					t.Errorf("Verify error = %v, want %v", err, want)
				}
				queues = queues[:len(queues)-1] // python has no trace entry for the refusing rule
			case "crash":
				// Python raised (e.g. KeyError for a source path that os.path.join rewrote). We
				// check only the rules python completed.
				queues = queues[:min(len(queues), len(c.Want.Queues))]
			}
			if diff := cmp.Diff(c.Want.Queues, queues, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("queues after each rule (-python +go):\n%s\nrules %q", diff, c.Rules)
			}
		})
	}
}
