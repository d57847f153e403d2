// Package vsa writes and checks SLSA Verification Summary Attestations (https://slsa.dev/verification_summary/v1):
// which artifacts a passed verification covers (Subjects), the in-toto Statement that says so (Build), and
// the checks a consumer makes on one (Check, Statement.Covers). Signing is the caller's: a VSA is signed
// like a link.
package vsa

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/rules"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

const (
	// PredicateType is the SLSA verification summary predicate.
	PredicateType = "https://slsa.dev/verification_summary/v1"
	// VerifierID identifies intoto-ci as the verifier in the VSAs it writes.
	VerifierID = "https://github.com/intoto-ci/intoto-ci"
	// DefaultLevel is what a passed in-toto verification shows by itself: signed evidence of how the
	// artifacts were made exists and was checked (SLSA Build L1). Higher levels depend on how the
	// pipeline runs and are stated by the policy owner (verify --vsa-level).
	DefaultLevel = "SLSA_BUILD_LEVEL_1"
)

// Statement is the in-toto Statement of a VSA.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is one artifact the VSA covers.
type Subject struct {
	Name   string         `json:"name"`
	Digest intoto.Digests `json:"digest"`

	step string // the step that produced it (not written)
}

// Predicate is the verification summary.
type Predicate struct {
	Verifier           Verifier `json:"verifier"`
	TimeVerified       string   `json:"timeVerified"`
	ResourceURI        string   `json:"resourceUri"`
	Policy             Ref      `json:"policy"`
	InputAttestations  []Ref    `json:"inputAttestations,omitempty"`
	VerificationResult string   `json:"verificationResult"`
	VerifiedLevels     []string `json:"verifiedLevels"`
	SlsaVersion        string   `json:"slsaVersion,omitempty"`
}

// Verifier names who verified.
type Verifier struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

// Ref is a file by URI and digest.
type Ref struct {
	URI    string         `json:"uri"`
	Digest intoto.Digests `json:"digest"`
}

// SubjectError says the subjects cannot be chosen as asked: the user has to name them otherwise
// (--vsa-subject, --vsa-resource-uri). It is a usage error, not a refusal.
type SubjectError struct{ Reason string }

func (e *SubjectError) Error() string { return "write vsa: " + e.Reason }

func subjectErrorf(format string, a ...any) error {
	return &SubjectError{Reason: fmt.Sprintf(format, a...)}
}

// Input is what a VSA is made from.
type Input struct {
	Result      *verify.Result
	LayoutPath  string
	Layout      []byte // the layout file as verified
	ResourceURI string
	Levels      []string
	Subjects    []string // artifact name patterns, as in layout rules
	Version     string   // intoto-ci's version
	Now         time.Time
}

// Build writes the in-toto Statement of a VSA for a verified result.
//
// Subjects are what the user names, never simply everything a step was allowed to add (a product that
// a loose rule such as "ALLOW src/*" lets through would become a "verified" subject): see Subjects.
func Build(in Input) ([]byte, error) {
	if !in.Result.Verified {
		return nil, errors.New("a verification summary is written only after a pass")
	}
	subjects, err := Subjects(in.Result, in.Subjects)
	if err != nil {
		return nil, err
	}
	uri := in.ResourceURI
	if uri == "" {
		if len(subjects) > 1 {
			return nil, subjectErrorf("%d final products (%s): give --vsa-resource-uri", len(subjects), subjectNames(subjects))
		}
		uri = subjects[0].Name
	}
	levels := in.Levels
	if len(levels) == 0 {
		levels = []string{DefaultLevel}
	}
	pd := sha256.Sum256(in.Layout)
	stmt := Statement{
		Type:          intoto.StatementTypeV1,
		Subject:       subjects,
		PredicateType: PredicateType,
		Predicate: Predicate{
			Verifier:           Verifier{ID: VerifierID, Version: map[string]string{"intoto-ci": in.Version}},
			TimeVerified:       in.Now.UTC().Format(time.RFC3339),
			ResourceURI:        uri,
			Policy:             Ref{URI: filepath.ToSlash(in.LayoutPath), Digest: intoto.Digests{"sha256": hex.EncodeToString(pd[:])}},
			InputAttestations:  inputAttestations(in.Result),
			VerificationResult: "PASSED",
			VerifiedLevels:     levels,
			SlsaVersion:        "1.0",
		},
	}
	return json.MarshalIndent(stmt, "", "  ")
}

// Subjects picks the subjects of a passed result: with patterns, the final products whose names match
// one of them (each pattern must match one); without, the final products of the layout's last step.
// Final products are the artifacts (name and digest) that a step produced and no step used as a
// material with the same digest: intermediate files handed from step to step are left out, and so is
// a product a step passed through unchanged. Inspections are not producers: they run on the verifier.
// A name that stands for two digests is refused: a subject is one artifact.
func Subjects(res *verify.Result, patterns []string) ([]Subject, error) {
	var out []Subject
	var err error
	if len(patterns) == 0 {
		out, err = lastStepProducts(res)
	} else {
		out, err = matchingProducts(res, patterns)
	}
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, subjectErrorf("%q is a final product with two digests (steps %q and %q): a subject is one artifact",
				out[i].Name, out[i-1].step, out[i].step)
		}
	}
	return out, nil
}

func lastStepProducts(res *verify.Result) ([]Subject, error) {
	last := ""
	for _, s := range res.Steps {
		if s.Kind == verify.KindStep {
			last = s.Name
		}
	}
	var out []Subject
	for _, s := range finalProducts(res) {
		if s.step == last {
			out = append(out, s)
		}
	}
	if len(out) == 0 {
		return nil, subjectErrorf("the layout's last step %q produced no final products: name the subjects with --vsa-subject", last)
	}
	return out, nil
}

func matchingProducts(res *verify.Result, patterns []string) ([]Subject, error) {
	finals := finalProducts(res)
	globs := make([]*rules.Glob, len(patterns))
	for i, p := range patterns {
		globs[i] = rules.CompileGlob(p)
		n := 0
		for _, s := range finals {
			if globs[i].Match(s.Name) {
				n++
			}
		}
		if n == 0 {
			return nil, subjectErrorf("--vsa-subject %q matches no final product", p)
		}
	}
	var out []Subject
	for _, s := range finals {
		for _, g := range globs {
			if g.Match(s.Name) {
				out = append(out, s)
				break
			}
		}
	}
	return out, nil
}

func subjectNames(s []Subject) string {
	names := make([]string, 0, len(s))
	for i, x := range s {
		if i == 5 {
			names = append(names, "…")
			break
		}
		names = append(names, x.Name)
	}
	return strings.Join(names, ", ")
}

// finalProducts lists the artifacts produced by the steps and consumed by none, sorted by name.
func finalProducts(res *verify.Result) []Subject {
	var steps []*verify.Evidence
	var stepNames []string
	for _, s := range res.Steps {
		if s.Kind == verify.KindStep && res.Evidence[s.Name] != nil {
			steps = append(steps, res.Evidence[s.Name])
			stepNames = append(stepNames, s.Name)
		}
	}
	// Every step's materials gathered once by name, so that finding a consumed product costs a lookup,
	// not a pass over every step (a --vsa on a long chain stays linear in its steps).
	materials := map[string][]intoto.Digests{}
	for _, ev := range steps {
		for i, name := range ev.Materials.Names() {
			materials[name] = append(materials[name], ev.Materials.Digest(i).Digests())
		}
	}
	consumed := func(name string, d intoto.Digests) bool {
		for _, m := range materials[name] {
			if m.Agree(d) {
				return true
			}
		}
		return false
	}
	seen := map[string]bool{}
	var out []Subject
	for si, ev := range steps {
		for i, name := range ev.Products.Names() {
			d := ev.Products.Digest(i).Digests()
			if consumed(name, d) {
				continue
			}
			key := name + "\x00" + digestKey(d)
			if seen[key] {
				continue
			}
			seen[key] = true
			out = append(out, Subject{Name: name, Digest: d, step: stepNames[si]})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return out[i].Name < out[j].Name
		}
		return digestKey(out[i].Digest) < digestKey(out[j].Digest)
	})
	return out
}

func digestKey(d intoto.Digests) string {
	algs := make([]string, 0, len(d))
	for a := range d {
		algs = append(algs, a)
	}
	sort.Strings(algs)
	var b strings.Builder
	for _, a := range algs {
		b.WriteString(a + ":" + d[a] + ";")
	}
	return b.String()
}

// inputAttestations lists every accepted link file (sublayouts' too) with the digest it was verified at.
func inputAttestations(res *verify.Result) []Ref {
	var out []Ref
	var walk func(r *verify.Result)
	walk = func(r *verify.Result) {
		for _, s := range r.Steps {
			for _, l := range s.Links {
				if len(l.Digest) > 0 {
					out = append(out, Ref{URI: l.File, Digest: l.Digest})
				}
			}
			if s.Sublayout != nil {
				walk(s.Sublayout)
			}
		}
	}
	walk(res)
	return out
}
