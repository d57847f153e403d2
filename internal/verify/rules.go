package verify

import (
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/rules"
)

// ErrRules is the sentinel of a refusal because an artifact rule failed (the Failure's chain also
// holds the *rules.RuleError).
var ErrRules = errors.New("artifact rules not satisfied")

// verifyStepRules applies every step's material rules then product rules to the reduced links
// (stage 8, verify_all_item_rules over layout.steps).
func (v *verification) verifyStepRules() (*Failure, error) {
	for _, s := range v.layout.Steps {
		if f, err := v.verifyItemRules(KindStep, s.Name, s.ExpectedMaterials, s.ExpectedProducts); f != nil || err != nil {
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
	sr := v.res.step(kind, name)
	traces := &RuleTraces{}
	if sr != nil {
		sr.Rules = traces
	}
	items := make(map[string]*rules.Item, len(v.reduced))
	for n, l := range v.reduced {
		items[n] = &rules.Item{Name: n, Materials: l.Materials, Products: l.Products}
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
			return nil, fmt.Errorf("%w: %s %q: %w", ErrLayoutInvalid, kind, name, err)
		}
		// Explain the refusal: run the refusing list again, naming what each rule consumed.
		if named, _ := rules.Verify(item, pass.kind, pass.rules, items, rules.Options{Trace: true}); named != nil {
			*pass.trace = namedRuleTrace(named)
		}
		f := newFailure(ErrRules, StageRules, name, err.Error(), err)
		f.Rule = re.Rule
		f.Artifacts = re.Artifacts
		return f, nil
	}
	if sr != nil {
		sr.Status = StatusPassed
	}
	return nil, nil
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
