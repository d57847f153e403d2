package verify

import (
	"fmt"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Result is the outcome of a verification. Its JSON form is the documented `verify --json` report:
// keep field names stable, add fields rather than rename them.
type Result struct {
	// Verified is true only when every stage passed.
	Verified bool `json:"verified"`
	// Layout describes the layout that was verified.
	Layout LayoutInfo `json:"layout"`
	// Steps lists the layout's steps, then its inspections, in layout order.
	Steps []StepResult `json:"steps"`
	// Warnings are findings that do not refuse (command mismatches, ignored files).
	Warnings []string `json:"warnings,omitempty"`
	// Failure is the first refusal; nil when Verified.
	Failure *Failure `json:"failure,omitempty"`

	// Evidence holds, after a pass, the one link per step (and inspection) the rules were applied
	// to, by name: what a verification summary is made from. Not part of the JSON report.
	Evidence map[string]*Evidence `json:"-"`

	// bound and boundKeyed are, after a pass, the keyless links of this layout and its sublayouts and
	// the number of key-signed ones: a superlayout's run binding covers them.
	bound      []boundLink
	boundKeyed int
}

// Evidence is the link the rules were applied to for one step or inspection, and the artifacts they
// read: the link's own, or for a sublayout those of its first and last steps.
type Evidence struct {
	Link      *intoto.Link
	Materials intoto.ArtifactSet
	Products  intoto.ArtifactSet
}

// newEvidence returns l's evidence.
func newEvidence(l *intoto.Link) *Evidence {
	return &Evidence{Link: l, Materials: l.Materials, Products: l.Products}
}

// LayoutInfo identifies the verified layout.
type LayoutInfo struct {
	// Path is the layout file as given (empty when the layout came as bytes).
	Path string `json:"path,omitempty"`
	// Expires is the layout's expiry as written in it.
	Expires string `json:"expires,omitempty"`
	// Signers lists the pinned layout keys (keyids) and identities whose signature verified.
	Signers []string `json:"signers,omitempty"`
	// Readme is the layout's readme field.
	Readme string `json:"readme,omitempty"`
}

// Kind tells a step from an inspection.
type Kind string

// Kinds of StepResult.
const (
	KindStep       Kind = "step"
	KindInspection Kind = "inspection"
)

// Status is how far a step or inspection got.
type Status string

// Statuses of StepResult.
const (
	StatusPassed  Status = "passed"
	StatusFailed  Status = "failed"
	StatusSkipped Status = "skipped" // not (fully) checked: verification stopped before its rules ran
)

// StepResult is what verification found for one step or inspection.
type StepResult struct {
	Name   string `json:"name"`
	Kind   Kind   `json:"kind"`
	Status Status `json:"status"`
	// Threshold is the step's threshold (steps only).
	Threshold int `json:"threshold,omitempty"`
	// Functionaries counts the distinct authorized functionaries whose links were kept.
	Functionaries int `json:"functionaries,omitempty"`
	// Links are the accepted links (for an inspection: none, see Inspection).
	Links []LinkInfo `json:"links,omitempty"`
	// Rejected are files that carried this step's name but were not accepted.
	Rejected []Rejection `json:"rejected,omitempty"`
	// Rules are the traces of the material and product rules.
	Rules *RuleTraces `json:"rules,omitempty"`
	// Sublayout is the nested verification when this step was delegated to a sublayout.
	Sublayout *Result `json:"sublayout,omitempty"`
	// Inspection describes the inspection run (inspections only).
	Inspection *InspectionRun `json:"inspection,omitempty"`
	// Err is the reason this step failed, when it did.
	Err string `json:"error,omitempty"`
}

// LinkInfo is an accepted link.
type LinkInfo struct {
	// File is the link's path relative to the links directory.
	File string `json:"file"`
	// Functionary is the layout's name for the signer: a keyid, or an identity name.
	Functionary string `json:"functionary"`
	// Signer describes who signed: the keyid, or "subject (issuer)" for keyless.
	Signer string `json:"signer"`
	// Format is legacy, dsse or bundle.
	Format string `json:"format"`
	// Layout is true when the file is a sublayout.
	Layout bool `json:"layout,omitempty"`
	// Digest is the digest of the file as it was verified.
	Digest intoto.Digests `json:"digest,omitempty"`
}

// Rejection is a file that named a step but was not accepted as its evidence.
type Rejection struct {
	File   string `json:"file"`
	Signer string `json:"signer,omitempty"`
	Reason string `json:"reason"`
	// Mismatches lists, per candidate identity, why a keyless signer did not match.
	Mismatches []IdentityMismatch `json:"mismatches,omitempty"`
}

// IdentityMismatch explains why a keyless signer is not the named identity.
type IdentityMismatch struct {
	Identity   string   `json:"identity"`
	Mismatches []string `json:"mismatches"`
	// Fields compares every constraint of the identity with the certificate: issuer, subject (the
	// SAN) and each pinned claim, matching or not.
	Fields []FieldCheck `json:"fields,omitempty"`
}

// FieldCheck is one identity constraint against the certificate's value.
type FieldCheck struct {
	// Field is "issuer", "subject" or "claims.<name>".
	Field string `json:"field"`
	// Want is the constraint as written: a quoted exact value, or /regexp/ (anchored).
	Want string `json:"want"`
	Got  string `json:"got"`
	OK   bool   `json:"ok"`
}

// RuleTraces holds the rule traces of one item: one entry per rule applied, in order (rules after
// a refusing rule are not applied).
type RuleTraces struct {
	Materials []RuleTrace `json:"materials"`
	Products  []RuleTrace `json:"products"`
}

// RuleTrace is one applied artifact rule and the size of the artifact queue around it.
type RuleTrace struct {
	Rule   string `json:"rule"`
	Before int    `json:"queue_before"`
	After  int    `json:"queue_after"`
	// Consumed and Remaining name the artifacts this rule consumed and those left after it. They are
	// filled in only for the list that refused, to explain the refusal.
	Consumed  []string `json:"consumed,omitempty"`
	Remaining []string `json:"remaining,omitempty"`
}

// InspectionRun describes an inspection command run by the verifier.
type InspectionRun struct {
	Command  []string `json:"command"`
	ExitCode int      `json:"exit_code"`
	TimedOut bool     `json:"timed_out,omitempty"`
}

// Stage names the pipeline stage at which a verification was refused.
type Stage string

// Stages, in pipeline order.
const (
	StageSignature   Stage = "signature"
	StageExpiry      Stage = "expiry"
	StageThreshold   Stage = "threshold"
	StageSublayout   Stage = "sublayout"
	StageConsistency Stage = "consistency"
	StageRules       Stage = "rules"
	StageInspection  Stage = "inspection"
	StageRunBinding  Stage = "runbinding"
)

// Failure is a refusal: the stage, and where in the layout it happened. It is also an error whose
// chain holds the stage's sentinel (ErrLayoutSignature, ErrThreshold, …), see Result.Err.
type Failure struct {
	Stage     Stage    `json:"stage"`
	Step      string   `json:"step,omitempty"`
	Rule      string   `json:"rule,omitempty"`
	Artifacts []string `json:"artifacts,omitempty"`
	// Hints explain a rules refusal: for refused artifacts, what the MATCH rules that covered them
	// found at their destination (no link, no such artifact, another digest).
	Hints  []string `json:"hints,omitempty"`
	Signer string   `json:"signer,omitempty"`
	Reason string   `json:"reason"`

	errs []error // sentinel first, then causes
}

// Error describes the refusal in one line.
func (f *Failure) Error() string {
	var b strings.Builder
	b.WriteString(string(f.Stage))
	if f.Step != "" {
		fmt.Fprintf(&b, " (step %q)", f.Step)
	}
	b.WriteString(": ")
	b.WriteString(f.Reason)
	return b.String()
}

// Unwrap returns the stage sentinel and the underlying causes.
func (f *Failure) Unwrap() []error { return f.errs }

// Err returns nil when verified, otherwise the Failure as an error (errors.Is works with the sentinels).
func (r *Result) Err() error {
	if r == nil || r.Verified || r.Failure == nil {
		return nil
	}
	return r.Failure
}

func newFailure(sentinel error, stage Stage, step, reason string, causes ...error) *Failure {
	errs := append([]error{sentinel}, causes...)
	return &Failure{Stage: stage, Step: step, Reason: reason, errs: errs}
}

// step returns the StepResult named name of the given kind, or nil.
func (r *Result) step(kind Kind, name string) *StepResult {
	for i := range r.Steps {
		if r.Steps[i].Kind == kind && r.Steps[i].Name == name {
			return &r.Steps[i]
		}
	}
	return nil
}

// refuse records f as the result's failure and marks its step failed.
func (r *Result) refuse(kind Kind, f *Failure) *Result {
	r.Verified = false
	r.Failure = f
	if s := r.step(kind, f.Step); s != nil {
		s.Status = StatusFailed
		s.Err = f.Reason
	}
	return r
}
