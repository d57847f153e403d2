package vsa

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Refusal is a check that completed and said no.
type Refusal struct{ Reason string }

func (e *Refusal) Error() string { return e.Reason }

func refusef(format string, a ...any) error { return &Refusal{Reason: fmt.Sprintf(format, a...)} }

// MalformedError is a VSA file that is not an envelope or bundle at all (unreadable input, not a refusal).
type MalformedError struct{ Err error }

func (e *MalformedError) Error() string { return "vsa: " + e.Err.Error() }
func (e *MalformedError) Unwrap() error { return e.Err }

// CheckOptions pins who must have signed a VSA and what it must say.
type CheckOptions struct {
	// Keys must each have signed a DSSE envelope (public keys).
	Keys []*keys.Key
	// Identity must match the signer of a Sigstore bundle, checked by Bundles.
	Identity *intoto.Identity
	Bundles  verify.BundleVerifier
	// ResourceURI, when set, is the resourceUri the VSA must name.
	ResourceURI string
}

// Checked is a VSA whose signature and verdict were checked.
type Checked struct {
	Statement Statement
	// Signer says who signed: key IDs, or the certificate's subject and issuer.
	Signer string
}

// Check verifies a VSA file's signature as opts pins it and that it says PASSED. file names it in
// refusals. Errors: *Refusal when the VSA does not hold, *MalformedError when data is no envelope,
// verify.ErrVerifierUnavailable when the bundle could not be checked at all.
func Check(ctx context.Context, file string, data []byte, opts CheckOptions) (*Checked, error) {
	payload, signer, err := checkSignature(ctx, data, opts)
	if err != nil {
		return nil, err
	}
	var stmt Statement
	if err := json.Unmarshal(payload, &stmt); err != nil {
		return nil, refusef("%s: payload is not a statement: %v", file, err)
	}
	switch {
	case stmt.Type != intoto.StatementTypeV1:
		return nil, refusef("%s: _type %q, want %q", file, stmt.Type, intoto.StatementTypeV1)
	case stmt.PredicateType != PredicateType:
		return nil, refusef("%s: predicateType %q, want %q", file, stmt.PredicateType, PredicateType)
	case stmt.Predicate.VerificationResult != "PASSED":
		return nil, refusef("%s: verificationResult %q", file, stmt.Predicate.VerificationResult)
	case opts.ResourceURI != "" && stmt.Predicate.ResourceURI != opts.ResourceURI:
		return nil, refusef("%s: resourceUri %q, want %q", file, stmt.Predicate.ResourceURI, opts.ResourceURI)
	}
	return &Checked{Statement: stmt, Signer: signer}, nil
}

// checkSignature checks the envelope: every key must have signed (DSSE), or the bundle verifies and
// its signer matches the identity. It returns the verified payload and who signed.
func checkSignature(ctx context.Context, data []byte, opts CheckOptions) ([]byte, string, error) {
	signed, err := envelope.Parse(data)
	if err != nil {
		return nil, "", &MalformedError{Err: err}
	}
	if signed.Kind == envelope.Bundle {
		return checkBundle(ctx, data, opts)
	}
	if opts.Identity != nil {
		return nil, "", refusef("the VSA is signed with keys, not keyless: pin it with --key")
	}
	if signed.Kind != envelope.DSSE || signed.PayloadType != intoto.PayloadType {
		return nil, "", refusef("the VSA is not a DSSE envelope of an in-toto statement")
	}
	if len(opts.Keys) == 0 {
		return nil, "", refusef("no key pins the VSA signer")
	}
	var ids []string
	for _, k := range opts.Keys {
		if err := signed.VerifyKey(k); err != nil {
			return nil, "", refusef("vsa signature by key %s: %v", k.ShortID(), err)
		}
		ids = append(ids, k.ID())
	}
	return signed.Payload, strings.Join(ids, ","), nil
}

func checkBundle(ctx context.Context, data []byte, opts CheckOptions) ([]byte, string, error) {
	if opts.Identity == nil {
		return nil, "", refusef("the VSA is a Sigstore bundle: pin its signer with --identity and --issuer")
	}
	got, err := opts.Bundles.VerifyBundle(ctx, data)
	if err != nil {
		if errors.Is(err, verify.ErrVerifierUnavailable) {
			return nil, "", err
		}
		return nil, "", refusef("vsa bundle does not verify: %v", err)
	}
	if mm := opts.Identity.Match(got.Signer); len(mm) > 0 {
		parts := make([]string, len(mm))
		for i, m := range mm {
			parts[i] = m.String()
		}
		return nil, "", refusef("vsa signer does not match: %s", strings.Join(parts, "; "))
	}
	if got.PayloadType != intoto.PayloadType {
		return nil, "", refusef("vsa payload type %q, want %q", got.PayloadType, intoto.PayloadType)
	}
	return got.Payload, fmt.Sprintf("%s (%s)", got.Signer.Subject, got.Signer.Issuer), nil
}

// Covers checks that the VSA (named file in refusals) has a subject called name with the sha256 of
// content, the bytes of the file at path: a VSA over "src/evil" says nothing about "dist/app", even
// when their contents are the same. name is the file's artifact name, as run names it.
func (s *Statement) Covers(file, name, path string, content []byte) error {
	sum := sha256.Sum256(content)
	want := hex.EncodeToString(sum[:])
	var digests []string
	for _, sub := range s.Subject {
		if sub.Name != name {
			continue
		}
		if strings.EqualFold(sub.Digest["sha256"], want) {
			return nil
		}
		digests = append(digests, "sha256:"+sub.Digest["sha256"])
	}
	if len(digests) > 0 {
		return refusef("%s: subject %q has %s, the file %s has sha256:%s", file, name, strings.Join(digests, ", "), path, want)
	}
	return refusef("%s: %q (file %s, sha256:%s) is not a subject of the VSA", file, name, path, want)
}
