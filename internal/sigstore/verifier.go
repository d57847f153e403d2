package sigstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/trust"
	"github.com/sigstore/sigstore-go/pkg/bundle"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/verify"
)

// Verification outcomes a caller branches on. Both mean "refuse this bundle"; ErrMalformedBundle
// says it could not even be read as a keyless DSSE bundle.
var (
	ErrMalformedBundle = keyless.ErrMalformedBundle
	ErrVerification    = keyless.ErrVerification
)

// Verified is what a bundle proves once verification succeeded.
type Verified struct {
	PayloadType string
	// Payload is the DSSE payload, returned only after its signature, certificate chain, timestamps
	// and log entries verified.
	Payload []byte
	// Signer is the identity the Fulcio certificate certifies. It has NOT been matched against any
	// policy: the caller must apply intoto.Identity.Match.
	Signer *intoto.SignerIdentity
	// Time is the earliest verified observer time (TSA timestamp or Rekor integrated time): the
	// signature existed then, and the certificate was checked valid at that time.
	Time time.Time
}

// KeylessVerifier verifies Sigstore bundles of DSSE envelopes signed with Fulcio certificates.
type KeylessVerifier struct {
	trusted root.TrustedMaterial
	// RequireTransparencyLog refuses bundles without a transparency log entry. Off by default because
	// private signing (--private) is timestamp-only by design; turn it on (verify --require-tlog) when
	// every signature must be publicly discoverable.
	RequireTransparencyLog bool
}

// NewKeylessVerifier verifies against trusted (a trusted_root.json from trust.LoadTrustedRoot, or the
// public-good root).
func NewKeylessVerifier(trusted root.TrustedMaterial) (*KeylessVerifier, error) {
	if trusted == nil {
		return nil, errors.New("keyless verification needs a trusted root")
	}
	if len(trusted.FulcioCertificateAuthorities()) == 0 {
		return nil, errors.New("trusted root has no certificate authority: it cannot verify keyless signatures")
	}
	return &KeylessVerifier{trusted: trusted}, nil
}

// VerifyBundle parses a Sigstore bundle (v0.1–v0.3 JSON) and verifies it. The returned error wraps
// ErrMalformedBundle or ErrVerification when the bundle is to be refused.
func (v *KeylessVerifier) VerifyBundle(ctx context.Context, data []byte) (*Verified, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var b bundle.Bundle
	if err := b.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	return v.verifyEntity(&b)
}

// verifyEntity verifies any signed entity (a parsed bundle; sigstore-go's VirtualSigstore test
// entities in unit tests).
func (v *KeylessVerifier) verifyEntity(e verify.SignedEntity) (*Verified, error) {
	sc, err := e.SignatureContent()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	env := sc.EnvelopeContent()
	if env == nil || env.RawEnvelope() == nil {
		return nil, fmt.Errorf("%w: not a dsse envelope", ErrMalformedBundle)
	}
	vc, err := e.VerificationContent()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}
	if vc.Certificate() == nil {
		return nil, fmt.Errorf("%w: signed with a public key, not a fulcio certificate", ErrMalformedBundle)
	}
	tlogs, err := e.TlogEntries()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedBundle, err)
	}

	// Options follow what the trust root holds and what the bundle carries:
	// - SCTs are required whenever the trust root lists CT logs (public good; a private stack
	//   without a CT log cannot produce them);
	// - log entries are verified when present (a --private bundle has none), and every entry present
	//   must verify;
	// - at least one observer timestamp (TSA or Rekor v1 integrated time) is required, and the
	//   certificate is checked at those times, never at "now": Fulcio certificates live 10 minutes.
	// WithoutStatementPredicate: sigstore-go would otherwise insist the payload is an in-toto
	// Statement; layouts and v0.9 links travel in bundles too.
	opts := []verify.VerifierOption{verify.WithObserverTimestamps(1), verify.WithoutStatementPredicate()}
	if len(v.trusted.CTLogs()) > 0 {
		opts = append(opts, verify.WithSignedCertificateTimestamps(1))
	}
	if v.RequireTransparencyLog && len(tlogs) == 0 {
		return nil, fmt.Errorf("%w: no transparency log entry, and one is required", ErrVerification)
	}
	if len(tlogs) > 0 {
		opts = append(opts, verify.WithTransparencyLog(len(tlogs)))
	}
	sev, err := verify.NewVerifier(v.trusted, opts...)
	if err != nil {
		return nil, fmt.Errorf("configure verifier: %w", err)
	}
	// WithoutArtifactUnsafe: the caller matches the Statement's subjects (and materials) itself;
	// sigstore-go's digest policy fails on empty or >1024 subjects.
	// WithoutIdentitiesUnsafe: identity policy is NOT applied here on purpose. The verify engine
	// matches the returned Verified.Signer against the layout's intoto.Identity (anchored regexps,
	// claims incl. 1.23/1.24 that sigstore-go does not know). Never use this result without that step.
	res, err := sev.Verify(e, verify.NewPolicy(verify.WithoutArtifactUnsafe(), verify.WithoutIdentitiesUnsafe()))
	if err != nil {
		if why := explainOrigin(err, tlogs, v.trusted); why != "" {
			return nil, fmt.Errorf("%w: %s: %w", ErrVerification, why, err)
		}
		return nil, fmt.Errorf("%w: %w", ErrVerification, err)
	}

	signer, err := trust.SignerIdentity(vc.Certificate())
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrVerification, err)
	}
	var at time.Time
	for _, ts := range res.VerifiedTimestamps {
		if at.IsZero() || ts.Timestamp.Before(at) {
			at = ts.Timestamp
		}
	}
	raw := env.RawEnvelope()
	payload, err := raw.DecodeB64Payload()
	if err != nil {
		return nil, fmt.Errorf("%w: decode payload: %w", ErrMalformedBundle, err)
	}
	return &Verified{PayloadType: raw.PayloadType, Payload: payload, Signer: signer, Time: at.UTC()}, nil
}
