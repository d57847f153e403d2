package verify

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/rules"
)

// ErrRules is the sentinel of a refusal because an artifact rule failed (the Failure's chain also
// holds the *rules.RuleError).
var ErrRules = errors.New("artifact rules not satisfied")

// maxHints bounds the explanations of one rule refusal.
const maxHints = 10

// verifyStepRules applies every step's material rules then product rules to the reduced links
// (stage 8, verify_all_item_rules over layout.steps). Steps are evaluated by GOMAXPROCS goroutines
// (the rules only read the links) and their outcomes applied in layout order up to the first
// refusal, as if evaluated one after the other.
func (v *verification) verifyStepRules() (*Failure, error) {
	steps := v.layout.Steps
	outs := make([]itemOutcome, len(steps))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(steps)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(steps); i = int(next.Add(1) - 1) {
				s := steps[i]
				outs[i] = v.evalItemRules(KindStep, s.Name, s.ExpectedMaterials, s.ExpectedProducts)
			}
		})
	}
	wg.Wait()
	for i, s := range steps {
		if f, err := v.applyItemRules(KindStep, s.Name, outs[i]); f != nil || err != nil {
			return f, err
		}
	}
	return nil, nil
}

// verifyInspectionRules applies every inspection's rules; the reduced links now also hold the
// inspections' own links, so their MATCH rules may name steps and inspections (stage 10).
func (v *verification) verifyInspectionRules() (*Failure, error) {
	for _, in := range v.layout.Inspections {
		if f, err := v.verifyItemRules(KindInspection, in.Name, in.ExpectedMaterials, in.ExpectedProducts); f != nil || err != nil {
			return f, err
		}
	}
	return nil, nil
}

// verifyItemRules applies one item's material rules then its product rules.
func (v *verification) verifyItemRules(kind Kind, name string, materials, products []intoto.Rule) (*Failure, error) {
	return v.applyItemRules(kind, name, v.evalItemRules(kind, name, materials, products))
}

// itemOutcome is what evalItemRules found: the rule traces, and a refusal or an error.
type itemOutcome struct {
	traces *RuleTraces
	f      *Failure
	err    error
}

// applyItemRules records an item's outcome in the result.
func (v *verification) applyItemRules(kind Kind, name string, o itemOutcome) (*Failure, error) {
	sr := v.res.step(kind, name)
	if sr != nil {
		sr.Rules = o.traces
	}
	if o.f != nil || o.err != nil {
		return o.f, o.err
	}
	if sr != nil {
		sr.Status = StatusPassed
	}
	return nil, nil
}

// evalItemRules evaluates one item's material rules then its product rules. It only reads v.
func (v *verification) evalItemRules(kind Kind, name string, materials, products []intoto.Rule) itemOutcome {
	traces := &RuleTraces{}
	items := make(map[string]*rules.Item, len(v.reduced))
	for n, ev := range v.reduced {
		items[n] = rules.NewItem(n, ev.Materials, ev.Products)
	}
	item := items[name]
	if item == nil {
		item = &rules.Item{Name: name}
	}
	for _, pass := range []struct {
		kind  rules.Kind
		rules []intoto.Rule
		trace *[]RuleTrace
	}{
		{rules.Materials, materials, &traces.Materials},
		{rules.Products, products, &traces.Products},
	} {
		trace, err := rules.Verify(item, pass.kind, pass.rules, items, rules.Options{})
		if trace != nil {
			*pass.trace = ruleTrace(trace)
		}
		if err == nil {
			continue
		}
		var re *rules.RuleError
		if !errors.As(err, &re) {
			// An unparsable rule in a signed layout: the layout is broken, not the supply chain.
			return itemOutcome{traces: traces, err: fmt.Errorf("%w: %s %q: %w", ErrLayoutInvalid, kind, name, err)}
		}
		// Explain the refusal: run the refusing list again, naming what each rule consumed.
		if named, _ := rules.Verify(item, pass.kind, pass.rules, items, rules.Options{Trace: true}); named != nil {
			*pass.trace = namedRuleTrace(named)
		}
		f := newFailure(ErrRules, StageRules, name, err.Error(), err)
		f.Rule = re.Rule
		f.Artifacts = re.Artifacts
		f.Hints = rules.Explain(item, pass.kind, pass.rules, items, re.Artifacts, maxHints)
		return itemOutcome{traces: traces, f: f}
	}
	return itemOutcome{traces: traces}
}

// ruleTrace turns the engine's trace into the report's.
func ruleTrace(t *rules.Trace) []RuleTrace {
	out := make([]RuleTrace, 0, len(t.Entries))
	for _, e := range t.Entries {
		out = append(out, RuleTrace{Rule: e.Rule, Before: e.Before, After: e.After})
	}
	return out
}

// namedRuleTrace is ruleTrace with the names consumed by and remaining after each rule.
func namedRuleTrace(t *rules.Trace) []RuleTrace {
	out := make([]RuleTrace, 0, len(t.Entries))
	for _, e := range t.Entries {
		out = append(out, RuleTrace{Rule: e.Rule, Before: e.Before, After: e.After,
			Consumed: e.Consumed, Remaining: e.QueueAfter})
	}
	return out
}

// checkRuleGrammar parses every rule of the layout so that an unknown rule word or a malformed rule
// makes the layout invalid before any link is read, as in-toto-python's layout validation does
// (rather than a threshold refusal when links are missing, or never, when a step has no links).
func checkRuleGrammar(l *intoto.Layout) error {
	check := func(kind, name string, lists ...[]intoto.Rule) error {
		for _, rs := range lists {
			if _, err := rules.ParseAll(rs); err != nil {
				return fmt.Errorf("%w: %s %q: %w", ErrLayoutInvalid, kind, name, err)
			}
		}
		return nil
	}
	for _, s := range l.Steps {
		if err := check("step", s.Name, s.ExpectedMaterials, s.ExpectedProducts); err != nil {
			return err
		}
	}
	for _, in := range l.Inspections {
		if err := check("inspection", in.Name, in.ExpectedMaterials, in.ExpectedProducts); err != nil {
			return err
		}
	}
	return nil
}
