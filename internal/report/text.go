package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Text writes the report for people: the layout, one line per step and inspection (ok, REFUSED or
// skipped; who signed; what failed), the rule trace and identity comparison of a refusal, warnings,
// and a verdict line.
func Text(w io.Writer, res *verify.Result) error {
	tw := &textWriter{w: w, width: nameWidth(res)}
	tw.layout(res, "")
	for i := range res.Steps {
		tw.step(&res.Steps[i], res, "")
	}
	for _, warn := range res.Warnings {
		tw.printf("warning: %s\n", warn)
	}
	if res.Verified {
		tw.printf("VERIFIED\n")
	} else {
		tw.printf("REFUSED: %s\n", Refusal(res))
	}
	return tw.err
}

type textWriter struct {
	w     io.Writer
	width int // of the step name column
	err   error
}

func nameWidth(res *verify.Result) int {
	w := 0
	for _, s := range res.Steps {
		w = max(w, len(s.Name))
	}
	return min(w, 30)
}

func (t *textWriter) printf(format string, a ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, a...)
	}
}

func (t *textWriter) layout(res *verify.Result, indent string) {
	l := res.Layout
	name := l.Path
	if name == "" {
		name = "(layout)"
	}
	t.printf("%slayout %s", indent, name)
	if l.Expires != "" {
		t.printf(", expires %s", l.Expires)
	}
	if len(l.Signers) > 0 {
		t.printf(", signed by %s", strings.Join(l.Signers, ", "))
	}
	t.printf("\n")
	if res.Failure != nil && res.Failure.Step == "" {
		t.printf("%s  REFUSED  %s: %s\n", indent, res.Failure.Stage, res.Failure.Reason)
	}
}

func (t *textWriter) step(s *verify.StepResult, res *verify.Result, indent string) {
	var head strings.Builder
	fmt.Fprintf(&head, "%s  %-8s %-10s %-*s", indent, statusWord(s), s.Kind, t.width, s.Name)
	if sg := signers(s); len(sg) > 0 {
		fmt.Fprintf(&head, "  signed by %s", strings.Join(sg, ", "))
	}
	if s.Kind == verify.KindStep && s.Threshold > 0 && (s.Threshold > 1 || s.Functionaries < s.Threshold) {
		fmt.Fprintf(&head, "  (%d of %d functionaries)", s.Functionaries, s.Threshold)
	}
	if s.Status == verify.StatusSkipped && !res.Verified {
		head.WriteString("  (not checked: verification stopped earlier)")
	}
	t.printf("%s\n", strings.TrimRight(head.String(), " "))
	in := indent + "           "
	if s.Err != "" {
		t.printf("%s%s\n", in, s.Err)
	}
	if s.Inspection != nil && (s.Inspection.ExitCode != 0 || s.Inspection.TimedOut) {
		t.printf("%sran %s: exit %d", in, strings.Join(s.Inspection.Command, " "), s.Inspection.ExitCode)
		if s.Inspection.TimedOut {
			t.printf(" (timed out)")
		}
		t.printf("\n")
	}
	// Rejected files matter when the step did not get its links; on a pass they are noise.
	if s.Status != verify.StatusPassed || len(s.Links) < s.Threshold {
		for _, r := range s.Rejected {
			t.rejection(r, in)
		}
	}
	if s.Status == verify.StatusFailed && s.Rules != nil && res.Failure != nil && res.Failure.Stage == verify.StageRules {
		productsRefused := len(s.Rules.Products) > 0
		t.trace("materials", s.Rules.Materials, !productsRefused, res.Failure, in)
		t.trace("products", s.Rules.Products, productsRefused, res.Failure, in)
	}
	if s.Sublayout != nil {
		t.layout(s.Sublayout, in)
		sub := &textWriter{w: t.w, width: nameWidth(s.Sublayout), err: t.err}
		for i := range s.Sublayout.Steps {
			sub.step(&s.Sublayout.Steps[i], s.Sublayout, in)
		}
		t.err = sub.err
		if !s.Sublayout.Verified {
			t.printf("%s  sublayout REFUSED: %s\n", in, Refusal(s.Sublayout))
		}
	}
}

func (t *textWriter) rejection(r verify.Rejection, in string) {
	t.printf("%srejected %s: %s", in, r.File, r.Reason)
	if r.Signer != "" {
		t.printf(" (signer %s)", r.Signer)
	}
	t.printf("\n")
	for _, m := range r.Mismatches {
		t.printf("%s  against identity %q:\n", in, m.Identity)
		if len(m.Fields) == 0 {
			for _, s := range m.Mismatches {
				t.printf("%s    ✗ %s\n", in, s)
			}
			continue
		}
		width := 0
		for _, f := range m.Fields {
			width = max(width, len(fieldLabel(f.Field)))
		}
		for _, f := range m.Fields {
			mark := "✓"
			if !f.OK {
				mark = "✗"
			}
			t.printf("%s    %s %-*s  expected %s, got %q\n", in, mark, width, fieldLabel(f.Field), f.Want, f.Got)
		}
	}
}

// fieldLabel names an identity field as people know it.
func fieldLabel(field string) string {
	switch field {
	case "subject":
		return "subject (SAN)"
	case "issuer":
		return "issuer"
	}
	return field
}

// trace prints the rule trace of one list, marking the refusing rule: the last rule of the list that
// refused (products rules run only after every material rule passed).
func (t *textWriter) trace(kind string, tr []verify.RuleTrace, refusing bool, f *verify.Failure, in string) {
	if len(tr) == 0 {
		return
	}
	t.printf("%s%s rules:\n", in, kind)
	for i, e := range tr {
		mark := " "
		if refusing && i == len(tr)-1 {
			mark = "✗"
		}
		t.printf("%s  %s %-50s queue %d → %d", in, mark, e.Rule, e.Before, e.After)
		if len(e.Consumed) > 0 {
			t.printf("  consumed %s", quoteList(e.Consumed, 5))
		}
		t.printf("\n")
		if mark == "✗" && len(f.Artifacts) > 0 {
			t.printf("%s      refused %s\n", in, quoteList(f.Artifacts, 10))
			for _, h := range f.Hints {
				t.printf("%s      why: %s\n", in, h)
			}
		}
	}
}
