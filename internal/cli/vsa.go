package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	keyfile "github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/rules"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// VSA is the SLSA Verification Summary Attestation predicate (https://slsa.dev/verification_summary/v1).
const (
	VSAPredicateType = "https://slsa.dev/verification_summary/v1"
	// VerifierID identifies intoto-ci as the verifier in the VSAs it writes.
	VerifierID = "https://github.com/intoto-ci/intoto-ci"
	// DefaultVSALevel is what a passed in-toto verification shows by itself: signed evidence of how
	// the artifacts were made exists and was checked (SLSA Build L1). Higher levels depend on how the
	// pipeline runs and are stated by the policy owner with --vsa-level.
	DefaultVSALevel = "SLSA_BUILD_LEVEL_1"
)

type vsaStatement struct {
	Type          string       `json:"_type"`
	Subject       []vsaSubject `json:"subject"`
	PredicateType string       `json:"predicateType"`
	Predicate     vsaPredicate `json:"predicate"`
}

type vsaSubject struct {
	Name   string         `json:"name"`
	Digest intoto.Digests `json:"digest"`

	step string // the step that produced it (not written)
}

type vsaPredicate struct {
	Verifier           vsaVerifier `json:"verifier"`
	TimeVerified       string      `json:"timeVerified"`
	ResourceURI        string      `json:"resourceUri"`
	Policy             vsaRef      `json:"policy"`
	InputAttestations  []vsaRef    `json:"inputAttestations,omitempty"`
	VerificationResult string      `json:"verificationResult"`
	VerifiedLevels     []string    `json:"verifiedLevels"`
	SlsaVersion        string      `json:"slsaVersion,omitempty"`
}

type vsaVerifier struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

type vsaRef struct {
	URI    string         `json:"uri"`
	Digest intoto.Digests `json:"digest"`
}

// vsaFlags are verify's flags for writing a VSA after a pass.
type vsaFlags struct {
	path        string
	resourceURI string
	levels      stringList
	subjects    stringList
	sign        signFlags
}

func (f *vsaFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "vsa", "", "after a pass, write a signed SLSA verification summary to this `file` (signed like run: --key or --signing keyless)")
	fs.StringVar(&f.resourceURI, "vsa-resource-uri", "", "resourceUri of the VSA (default: the one subject's name; required with several subjects)")
	fs.Var(&f.levels, "vsa-level", "verifiedLevels entry of the VSA (repeatable; default "+DefaultVSALevel+")")
	fs.Var(&f.subjects, "vsa-subject", "artifact name `pattern` (as in layout rules) of the final products the VSA covers (repeatable; default: what the layout's last step created or changed)")
	f.sign.declare(fs)
}

// vsaInput is what a VSA is made from.
type vsaInput struct {
	res         *verify.Result
	layoutPath  string
	layout      []byte // the layout file as verified
	resourceURI string
	levels      []string
	subjects    []string // --vsa-subject patterns
	now         time.Time
}

// buildVSA writes the in-toto Statement of a VSA for a verified result.
//
// Subjects are what the user names, never simply everything a step was allowed to add (a product that
// a loose rule such as "ALLOW src/*" lets through would become a "verified" subject): with
// --vsa-subject, the final products whose names match one of the patterns (each pattern must match
// one); without, the final products of the layout's last step. Final products are the artifacts
// (name and digest) that a step produced and no step used as a material with the same digest:
// intermediate files handed from step to step are left out, and so is a product a step passed
// through unchanged. Inspections are not producers: they run on the verifier.
func buildVSA(in vsaInput) ([]byte, error) {
	if !in.res.Verified {
		return nil, errors.New("a verification summary is written only after a pass")
	}
	subjects, err := vsaSubjects(in.res, in.subjects)
	if err != nil {
		return nil, err
	}
	uri := in.resourceURI
	if uri == "" {
		if len(subjects) > 1 {
			return nil, usagef("write vsa: %d final products (%s): give --vsa-resource-uri", len(subjects), subjectNames(subjects))
		}
		uri = subjects[0].Name
	}
	levels := in.levels
	if len(levels) == 0 {
		levels = []string{DefaultVSALevel}
	}
	pd := sha256.Sum256(in.layout)
	stmt := vsaStatement{
		Type:          intoto.StatementTypeV1,
		Subject:       subjects,
		PredicateType: VSAPredicateType,
		Predicate: vsaPredicate{
			Verifier:           vsaVerifier{ID: VerifierID, Version: map[string]string{"intoto-ci": Version()}},
			TimeVerified:       in.now.UTC().Format(time.RFC3339),
			ResourceURI:        uri,
			Policy:             vsaRef{URI: filepath.ToSlash(in.layoutPath), Digest: intoto.Digests{"sha256": hex.EncodeToString(pd[:])}},
			InputAttestations:  inputAttestations(in.res),
			VerificationResult: "PASSED",
			VerifiedLevels:     levels,
			SlsaVersion:        "1.0",
		},
	}
	return json.MarshalIndent(stmt, "", "  ")
}

// vsaSubjects picks the subjects: the final products matching patterns, or by default those of the
// layout's last step. A name that stands for two digests is refused: a subject is one artifact.
func vsaSubjects(res *verify.Result, patterns []string) ([]vsaSubject, error) {
	var out []vsaSubject
	if len(patterns) == 0 {
		last := ""
		for _, s := range res.Steps {
			if s.Kind == verify.KindStep {
				last = s.Name
			}
		}
		for _, s := range finalProducts(res) {
			if s.step == last {
				out = append(out, s)
			}
		}
		if len(out) == 0 {
			return nil, usagef("write vsa: the layout's last step %q produced no final products: name the subjects with --vsa-subject", last)
		}
	} else {
		finals := finalProducts(res)
		for _, p := range patterns {
			g := rules.CompileGlob(p)
			n := 0
			for _, s := range finals {
				if g.Match(s.Name) {
					n++
				}
			}
			if n == 0 {
				return nil, usagef("write vsa: --vsa-subject %q matches no final product", p)
			}
		}
		for _, s := range finals {
			for _, p := range patterns {
				if rules.CompileGlob(p).Match(s.Name) {
					out = append(out, s)
					break
				}
			}
		}
	}
	for i := 1; i < len(out); i++ {
		if out[i].Name == out[i-1].Name {
			return nil, usagef("write vsa: %q is a final product with two digests (steps %q and %q): a subject is one artifact",
				out[i].Name, out[i-1].step, out[i].step)
		}
	}
	return out, nil
}

// vsaCovers checks that the VSA has a subject of the file's name (its path relative to base, as run
// names artifacts) with the file's sha256: a VSA over "src/evil" says nothing about "dist/app", even
// when their contents are the same.
func vsaCovers(vsa string, subjects []vsaSubject, base, path string) error {
	absBase, err := filepath.Abs(base)
	if err != nil {
		return usagef("--base-path %q: %w", base, err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return usagef("--subject %q: %w", path, err)
	}
	rel, err := filepath.Rel(absBase, abs)
	if err != nil {
		return usagef("--subject %q: %w", path, err)
	}
	name := filepath.ToSlash(rel)
	if err := intoto.CheckArtifactName(name); err != nil {
		return usagef("--subject %q is not inside --base-path %s: %w", path, absBase, err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return inputErr(err)
	}
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	var digests []string
	for _, s := range subjects {
		if s.Name != name {
			continue
		}
		if strings.EqualFold(s.Digest["sha256"], want) {
			return nil
		}
		digests = append(digests, "sha256:"+s.Digest["sha256"])
	}
	if len(digests) > 0 {
		return &refusedError{reason: fmt.Sprintf("%s: subject %q has %s, the file %s has sha256:%s", vsa, name, strings.Join(digests, ", "), path, want)}
	}
	return &refusedError{reason: fmt.Sprintf("%s: %q (file %s, sha256:%s) is not a subject of the VSA", vsa, name, path, want)}
}

func subjectNames(s []vsaSubject) string {
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
func finalProducts(res *verify.Result) []vsaSubject {
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
	var out []vsaSubject
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
			out = append(out, vsaSubject{Name: name, Digest: d, step: stepNames[si]})
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
func inputAttestations(res *verify.Result) []vsaRef {
	var out []vsaRef
	var walk func(r *verify.Result)
	walk = func(r *verify.Result) {
		for _, s := range r.Steps {
			for _, l := range s.Links {
				if len(l.Digest) > 0 {
					out = append(out, vsaRef{URI: l.File, Digest: l.Digest})
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

// signVSA signs the statement like run signs a link: DSSE with the keys, or a Sigstore bundle.
func signVSA(ctx context.Context, s *linkSigner, stmt []byte) ([]byte, error) {
	if s.mode == "key" {
		return envelope.SignDSSE(intoto.PayloadType, stmt, s.keys...)
	}
	return s.keyless.Sign(ctx, intoto.PayloadType, stmt)
}

func verifyVSACommand() *command {
	c := &command{
		name:    "verify-vsa",
		summary: "verify a verification summary (VSA) written by verify --vsa, and that it covers given files",
		usage:   "--vsa FILE (--key PUB… | --identity SAN --issuer URL [--trusted-root FILE]) [--base-path DIR] [--subject FILE…] [--resource-uri URI]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		file := fs.String("vsa", "", "the VSA `file` (DSSE envelope or Sigstore bundle; required)")
		var keys, subjects stringList
		fs.Var(&keys, "key", "public key `file` that must have signed the VSA (repeatable)")
		identity := fs.String("identity", "", "certificate `SAN` of the keyless VSA signer (exact)")
		identityRe := fs.String("identity-regexp", "", "anchored `regexp` for the keyless VSA signer's SAN")
		issuer := fs.String("issuer", "", "OIDC issuer `url` of the keyless VSA signer")
		trustedRoot := fs.String("trusted-root", "", "sigstore trusted_root.json `file` (default: public-good via TUF)")
		fs.Var(&subjects, "subject", "artifact `file` the VSA must cover, by name (its path relative to --base-path) and digest (repeatable)")
		basePath := fs.String("base-path", ".", "`dir`ectory that --subject names are relative to, as run's --base-path")
		resourceURI := fs.String("resource-uri", "", "resourceUri the VSA must name")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if *file == "" {
			return usagef("--vsa is required")
		}
		var id *intoto.Identity
		if *identity != "" || *identityRe != "" || *issuer != "" {
			id = &intoto.Identity{Issuer: *issuer, Subject: *identity, SubjectRegexp: *identityRe}
			if err := id.Validate(); err != nil {
				return usagef("vsa identity: %w", err)
			}
		}
		if len(keys) == 0 && id == nil {
			return usagef("pin the VSA signer: give --key or --identity with --issuer")
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			return inputErr(err)
		}
		kv := e.keyless.NewVerifier(keyless.VerifierConfig{TrustedRoot: *trustedRoot})
		defer kv.Close()
		payload, signer, err := verifyVSASignature(ctx, data, keys, id, kv)
		if err != nil {
			return err
		}
		var stmt vsaStatement
		if err := json.Unmarshal(payload, &stmt); err != nil {
			return &refusedError{reason: fmt.Sprintf("%s: payload is not a statement: %v", *file, err)}
		}
		switch {
		case stmt.Type != intoto.StatementTypeV1:
			return &refusedError{reason: fmt.Sprintf("%s: _type %q, want %q", *file, stmt.Type, intoto.StatementTypeV1)}
		case stmt.PredicateType != VSAPredicateType:
			return &refusedError{reason: fmt.Sprintf("%s: predicateType %q, want %q", *file, stmt.PredicateType, VSAPredicateType)}
		case stmt.Predicate.VerificationResult != "PASSED":
			return &refusedError{reason: fmt.Sprintf("%s: verificationResult %q", *file, stmt.Predicate.VerificationResult)}
		case *resourceURI != "" && stmt.Predicate.ResourceURI != *resourceURI:
			return &refusedError{reason: fmt.Sprintf("%s: resourceUri %q, want %q", *file, stmt.Predicate.ResourceURI, *resourceURI)}
		}
		for _, path := range subjects {
			if err := vsaCovers(*file, stmt.Subject, *basePath, path); err != nil {
				return err
			}
		}
		fmt.Fprintf(e.stdio.Out, "VSA verified: %s by %s (signer %s), policy %s sha256:%s, %d subject%s, levels %s\n",
			stmt.Predicate.VerificationResult, stmt.Predicate.Verifier.ID, signer, stmt.Predicate.Policy.URI,
			stmt.Predicate.Policy.Digest["sha256"], len(stmt.Subject), pluralS(len(stmt.Subject)),
			strings.Join(stmt.Predicate.VerifiedLevels, ","))
		return nil
	}
	return c
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// verifyVSASignature checks the envelope: every key must have signed (DSSE), or the bundle verifies
// and its signer matches id. It returns the verified payload and who signed.
func verifyVSASignature(ctx context.Context, data []byte, keys []string, id *intoto.Identity, kv verify.BundleVerifier) ([]byte, string, error) {
	signed, err := envelope.Parse(data)
	if err != nil {
		return nil, "", inputErr(fmt.Errorf("vsa: %w", err))
	}
	if signed.Kind == envelope.Bundle {
		if id == nil {
			return nil, "", &refusedError{reason: "the VSA is a Sigstore bundle: pin its signer with --identity and --issuer"}
		}
		got, err := kv.VerifyBundle(ctx, data)
		if err != nil {
			if errors.Is(err, verify.ErrVerifierUnavailable) {
				return nil, "", err
			}
			return nil, "", &refusedError{reason: fmt.Sprintf("vsa bundle does not verify: %v", err)}
		}
		if mm := id.Match(got.Signer); len(mm) > 0 {
			parts := make([]string, len(mm))
			for i, m := range mm {
				parts[i] = m.String()
			}
			return nil, "", &refusedError{reason: "vsa signer does not match: " + strings.Join(parts, "; ")}
		}
		if got.PayloadType != intoto.PayloadType {
			return nil, "", &refusedError{reason: fmt.Sprintf("vsa payload type %q, want %q", got.PayloadType, intoto.PayloadType)}
		}
		return got.Payload, fmt.Sprintf("%s (%s)", got.Signer.Subject, got.Signer.Issuer), nil
	}
	if id != nil {
		return nil, "", &refusedError{reason: "the VSA is signed with keys, not keyless: pin it with --key"}
	}
	if signed.Kind != envelope.DSSE || signed.PayloadType != intoto.PayloadType {
		return nil, "", &refusedError{reason: "the VSA is not a DSSE envelope of an in-toto statement"}
	}
	var ids []string
	for _, path := range keys {
		k, err := keyfile.Load(path)
		if err != nil {
			return nil, "", inputErr(err)
		}
		if err := signed.VerifyKey(k.Public()); err != nil {
			return nil, "", &refusedError{reason: fmt.Sprintf("vsa signature by key %s: %v", k.ShortID(), err)}
		}
		ids = append(ids, k.ID())
	}
	return signed.Payload, strings.Join(ids, ","), nil
}
