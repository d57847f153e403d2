package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// ErrLayoutSignature is the sentinel of a refusal at the layout signature stage.
var ErrLayoutSignature = errors.New("layout signature not verified")

// BundleVerifier checks a Sigstore bundle (certificate chain, transparency log or timestamp, DSSE
// signature) against a trust root and returns what it signed and who signed it. It must not decide
// whether the signer is authorized: verify matches the identity against the layout itself.
// internal/sigstore provides the real one; tests use fakes or sigstore-go's VirtualSigstore. Verify
// calls it from several goroutines at once (one per bundle, up to GOMAXPROCS).
type BundleVerifier interface {
	VerifyBundle(ctx context.Context, bundle []byte) (*Verified, error)
}

// ErrVerifierUnavailable is wrapped by a BundleVerifier's error when it cannot verify anything (its
// trust root is unreadable, a fetch failed): Verify then returns an error instead of rejecting the
// bundle, since the environment, not the evidence, is broken. Context errors count the same.
var ErrVerifierUnavailable = errors.New("keyless verifier unavailable")

// verifierBroken tells an operational failure of the keyless verifier from a bundle that does not verify.
func verifierBroken(err error) bool {
	return errors.Is(err, ErrVerifierUnavailable) || errors.Is(err, context.Canceled) ||
		errors.Is(err, context.DeadlineExceeded)
}

// Verified is what a BundleVerifier found in a valid bundle.
type Verified struct {
	// PayloadType and Payload are the DSSE payload the bundle signs.
	PayloadType string
	Payload     []byte
	// Signer is the identity the certificate carries.
	Signer *intoto.SignerIdentity
	// Time is the verified signing time (transparency log or timestamp authority).
	Time time.Time
}

// BundleVerifierFunc adapts a function to BundleVerifier.
type BundleVerifierFunc func(ctx context.Context, bundle []byte) (*Verified, error)

// VerifyBundle calls f.
func (f BundleVerifierFunc) VerifyBundle(ctx context.Context, bundle []byte) (*Verified, error) {
	return f(ctx, bundle)
}

// verifyLayoutSignatures checks the layout (stage 1): every pinned key must verify a signature over
// the bytes as received, every pinned identity must match the keyless signer. It then decodes the
// payload. A refusal comes back as a *Failure; an unreadable layout as an error.
func (v *verification) verifyLayoutSignatures(ctx context.Context, data []byte) (*intoto.Layout, *Failure, error) {
	signed, err := envelope.Parse(data)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLayoutInvalid, err)
	}
	payload := signed.Payload
	var problems []string
	var causes []error
	if signed.Kind == envelope.DSSE && signed.PayloadType != intoto.PayloadType {
		// The payload type is what a DSSE signature binds the bytes to: a key's signature over
		// another type of document is not a signature over a layout, whatever the bytes say.
		problems = append(problems, fmt.Sprintf("layout payload type %q, want %q", signed.PayloadType, intoto.PayloadType))
	}
	for _, key := range v.opts.LayoutKeys {
		id := keys.ID(key)
		if signed.Kind == envelope.Bundle {
			problems = append(problems, fmt.Sprintf("key %s: layout is a Sigstore bundle, not signed by a key", id))
			continue
		}
		if err := signed.VerifyKey(keys.FromRecord(key)); err != nil {
			problems = append(problems, fmt.Sprintf("key %s: %v", id, err))
			causes = append(causes, err)
			continue
		}
		v.res.Layout.Signers = append(v.res.Layout.Signers, id)
	}
	if len(v.opts.LayoutIdentities) > 0 {
		signer, verified, err := v.verifyLayoutBundle(ctx, signed, data)
		switch {
		case err != nil && verifierBroken(err):
			return nil, nil, err
		case err != nil:
			problems = append(problems, err.Error())
			causes = append(causes, err)
		default:
			payload = verified
			for _, id := range v.opts.LayoutIdentities {
				if mm := id.Match(signer); len(mm) > 0 {
					problems = append(problems, fmt.Sprintf("identity %s: %s", describeIdentity(id), joinMismatches(mm)))
					continue
				}
				v.res.Layout.Signers = append(v.res.Layout.Signers, describeSigner(signer))
			}
		}
	}
	if len(problems) > 0 {
		f := newFailure(ErrLayoutSignature, StageSignature, "", strings.Join(problems, "; "), causes...)
		return nil, f, nil
	}
	if signed.Kind != envelope.Legacy { // a legacy payload is part of data, checked already
		if err := wire.CheckDuplicateKeys(payload); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrLayoutInvalid, err)
		}
	}
	layout, err := intoto.DecodeLayout(payload)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLayoutInvalid, err)
	}
	if err := keys.ValidateLayout(layout); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLayoutInvalid, err)
	}
	return layout, nil, nil
}

// verifyLayoutBundle verifies a keyless layout and returns its signer and verified payload.
func (v *verification) verifyLayoutBundle(ctx context.Context, signed *envelope.Signed, data []byte) (*intoto.SignerIdentity, []byte, error) {
	if signed.Kind != envelope.Bundle {
		return nil, nil, errors.New("layout identity given but the layout is not a Sigstore bundle")
	}
	if v.opts.Keyless == nil {
		return nil, nil, errors.New("layout identity given but keyless verification is not configured")
	}
	got, err := v.opts.Keyless.VerifyBundle(ctx, data)
	if err != nil {
		return nil, nil, fmt.Errorf("layout bundle: %w", err)
	}
	if got == nil {
		return nil, nil, errors.New("layout bundle: keyless verifier returned nothing")
	}
	if got.PayloadType != intoto.PayloadType {
		return nil, nil, fmt.Errorf("layout bundle: payload type %q, want %q", got.PayloadType, intoto.PayloadType)
	}
	return got.Signer, got.Payload, nil
}

// describeSigner summarizes a keyless signer as "subject (issuer)".
func describeSigner(s *intoto.SignerIdentity) string {
	if s == nil {
		return "(unknown signer)"
	}
	return fmt.Sprintf("%s (%s)", s.Subject, s.Issuer)
}

// describeIdentity summarizes an identity constraint.
func describeIdentity(id *intoto.Identity) string {
	subj := id.Subject
	if subj == "" {
		subj = "/" + id.SubjectRegexp + "/"
	}
	return fmt.Sprintf("%s (%s)", subj, id.Issuer)
}

func joinMismatches(mm []intoto.Mismatch) string {
	parts := make([]string, len(mm))
	for i, m := range mm {
		parts[i] = m.String()
	}
	return strings.Join(parts, ", ")
}

func mismatchStrings(mm []intoto.Mismatch) []string {
	parts := make([]string, len(mm))
	for i, m := range mm {
		parts[i] = m.String()
	}
	return parts
}

// fieldChecks lists every constraint of id against the signer, marking those in mm as failed.
func fieldChecks(id *intoto.Identity, s *intoto.SignerIdentity, mm []intoto.Mismatch) []FieldCheck {
	failed := map[string]intoto.Mismatch{}
	for _, m := range mm {
		failed[m.Field] = m
	}
	var got func(string) string
	if s == nil {
		got = func(string) string { return "" }
	} else {
		got = func(field string) string {
			switch field {
			case "issuer":
				return s.Issuer
			case "subject":
				return s.Subject
			}
			return s.Claims[strings.TrimPrefix(field, "claims.")]
		}
	}
	want := func(exact, re string) string {
		if re != "" {
			return "/" + re + "/"
		}
		return fmt.Sprintf("%q", exact)
	}
	fields := []FieldCheck{
		{Field: "issuer", Want: want(id.Issuer, "")},
		{Field: "subject", Want: want(id.Subject, id.SubjectRegexp)},
	}
	claims := make([]string, 0, len(id.Claims))
	for c := range id.Claims {
		claims = append(claims, c)
	}
	sort.Strings(claims)
	for _, c := range claims {
		fields = append(fields, FieldCheck{Field: "claims." + c, Want: want(id.Claims[c].Exact, id.Claims[c].Regexp)})
	}
	for i := range fields {
		f := &fields[i]
		if m, bad := failed[f.Field]; bad {
			f.Want, f.Got = m.Want, m.Got
			continue
		}
		f.Got, f.OK = got(f.Field), true
	}
	return fields
}
