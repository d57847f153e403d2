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
	items := v.ruleItems()
	outs := make([]itemOutcome, len(steps))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(steps)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(steps); i = int(next.Add(1) - 1) {
				s := steps[i]
				outs[i] = v.evalItemRules(KindStep, s.Name, items)
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
	items := v.ruleItems()
	for _, in := range v.layout.Inspections {
		if f, err := v.applyItemRules(KindInspection, in.Name, v.evalItemRules(KindInspection, in.Name, items)); f != nil || err != nil {
			return f, err
		}
	}
	return nil, nil
}

// ruleItems is the evidence of every step (and inspection, once they ran) for the rules: built once
// per stage, read by every item's rules.
func (v *verification) ruleItems() map[string]*rules.Item {
	items := make(map[string]*rules.Item, len(v.reduced))
	for n, ev := range v.reduced {
		items[n] = rules.NewItem(n, ev.Materials, ev.Products)
	}
	return items
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

// evalItemRules evaluates one item's material rules then its product rules (as checkRuleGrammar
// parsed them) against items (ruleItems). It only reads v and items.
func (v *verification) evalItemRules(kind Kind, name string, items map[string]*rules.Item) itemOutcome {
	traces := &RuleTraces{}
	parsed := v.rules[ruleKey{kind, name}] // none for a name that is no item of the layout
	item := items[name]
	if item == nil {
		item = &rules.Item{Name: name}
	}
	for _, pass := range []struct {
		kind   rules.Kind
		parsed []*rules.Parsed
		trace  *[]RuleTrace
	}{
		{rules.Materials, parsed[0], &traces.Materials},
		{rules.Products, parsed[1], &traces.Products},
	} {
		trace, err := rules.VerifyParsed(item, pass.kind, pass.parsed, items, rules.Options{})
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
		if named, _ := rules.VerifyParsed(item, pass.kind, pass.parsed, items, rules.Options{Trace: true}); named != nil {
			*pass.trace = namedRuleTrace(named)
		}
		f := newFailure(ErrRules, StageRules, name, err.Error(), err)
		f.Rule = re.Rule
		f.Artifacts = re.Artifacts
		f.Hints = rules.ExplainParsed(item, pass.kind, pass.parsed, items, re.Artifacts, maxHints)
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

// ruleKey names a step or an inspection.
type ruleKey struct {
	kind Kind
	name string
}

// itemRules are one item's material and product rules, parsed.
type itemRules [2][]*rules.Parsed

// checkRuleGrammar parses every rule of the layout so that an unknown rule word or a malformed rule
// makes the layout invalid before any link is read, as in-toto-python's layout validation does
// (rather than a threshold refusal when links are missing, or never, when a step has no links). It
// returns the parsed rules, patterns compiled, for the rule stages.
func checkRuleGrammar(l *intoto.Layout) (map[ruleKey]itemRules, error) {
	out := make(map[ruleKey]itemRules, len(l.Steps)+len(l.Inspections))
	check := func(kind Kind, name string, materials, products []intoto.Rule) error {
		var ir itemRules
		for i, rs := range [][]intoto.Rule{materials, products} {
			p, err := rules.ParseAll(rs)
			if err != nil {
				return fmt.Errorf("%w: %s %q: %w", ErrLayoutInvalid, kind, name, err)
			}
			ir[i] = p
		}
		out[ruleKey{kind, name}] = ir
		return nil
	}
	for _, s := range l.Steps {
		if err := check(KindStep, s.Name, s.ExpectedMaterials, s.ExpectedProducts); err != nil {
			return nil, err
		}
	}
	for _, in := range l.Inspections {
		if err := check(KindInspection, in.Name, in.ExpectedMaterials, in.ExpectedProducts); err != nil {
			return nil, err
		}
	}
	return out, nil
}
