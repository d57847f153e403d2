package envelope

import (
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// Kind is the envelope format of a signed file (its bytes are read by package wire).
type Kind = wire.Kind

// Envelope formats.
const (
	Legacy = wire.Legacy
	DSSE   = wire.DSSE
	Bundle = wire.Bundle
)

// BundleMediaTypePrefix starts the mediaType of every Sigstore bundle version.
const BundleMediaTypePrefix = wire.BundleMediaTypePrefix

// Errors callers branch on.
var (
	// ErrUnknownFormat is returned by Parse for JSON that is none of the three envelope formats.
	ErrUnknownFormat = wire.ErrUnknownFormat
	// ErrNoSignature is returned by VerifyKey when the envelope has no signature by that key.
	ErrNoSignature = errors.New("no signature by key")
	// ErrBundle is returned by key operations on a Sigstore bundle, which the keyless verifier handles.
	ErrBundle = errors.New("sigstore bundles are verified by the keyless verifier")
)

// Signature is one signature of an envelope, its bytes decoded from hex (legacy) or base64 (DSSE).
type Signature = wire.Signature

// Signed is a parsed envelope.
type Signed struct {
	Kind Kind
	// PayloadType is the DSSE payload type ("" for legacy envelopes).
	PayloadType string
	// Payload is the document: for legacy the raw bytes of "signed" as received, for DSSE the decoded
	// payload. For a Bundle it is the payload of its DSSE envelope, NOT verified until the bundle is.
	Payload []byte
	// Signatures are the envelope's signatures (for a Bundle, those of its DSSE envelope, unverified).
	Signatures []Signature
	// Raw is the whole envelope as received.
	Raw []byte

	canonOnce sync.Once
	canon     []byte
	canonErr  error
}

// Parse detects and decodes a legacy envelope, a DSSE envelope or a Sigstore bundle (wire.ParseEnvelope).
// It checks no signature: call VerifyKey (or the keyless verifier for bundles).
func Parse(data []byte) (*Signed, error) {
	e, err := wire.ParseEnvelope(data)
	if err != nil {
		return nil, err
	}
	return &Signed{Kind: e.Kind, PayloadType: e.PayloadType, Payload: e.Payload, Signatures: e.Signatures, Raw: data}, nil
}

// ParsePlainLegacyLink reads a legacy envelope holding a link of the plain shape the peers write in
// one pass (wire.DecodePlainLegacyLink): the envelope as Parse returns it, with what its signatures
// cover already computed when the pass could, and the decoded link. ok=false for anything else, valid
// or not: the caller then uses Parse. When ok, Parse(data) would return the same envelope.
func ParsePlainLegacyLink(data []byte) (*Signed, *wire.PlainLegacyLink, bool) {
	p, ok := wire.DecodePlainLegacyLink(data)
	if !ok {
		return nil, nil, false
	}
	s := &Signed{Kind: Legacy, Payload: p.Signed, Raw: data}
	for _, sig := range p.Signatures {
		b, err := hex.DecodeString(sig.Sig)
		if err != nil {
			return nil, nil, false // Parse gives the error
		}
		s.Signatures = append(s.Signatures, Signature{KeyID: sig.KeyID, Sig: b})
	}
	if p.Canonical != nil {
		s.canonOnce.Do(func() { s.canon = p.Canonical })
	}
	return s, p, true
}

// SignedBytes returns the bytes the envelope's signatures cover: for legacy, the canonical JSON of
// "signed" as received; for DSSE, the pre-authentication encoding of payload type and payload.
func (s *Signed) SignedBytes() ([]byte, error) {
	switch s.Kind {
	case Legacy:
		s.canonOnce.Do(func() { s.canon, s.canonErr = wire.CanonicalJSON(s.Payload) })
		return s.canon, s.canonErr
	case DSSE:
		return wire.PAE(s.PayloadType, s.Payload), nil
	}
	return nil, ErrBundle
}

// KeyIDs lists the keyids the signatures claim, in envelope order.
func (s *Signed) KeyIDs() []string {
	ids := make([]string, 0, len(s.Signatures))
	for _, sig := range s.Signatures {
		ids = append(ids, sig.KeyID)
	}
	return ids
}

// VerifyKey checks that the envelope carries a valid signature by k. A signature counts for k when its
// keyid is k's keyid (or, in DSSE, when it names no keyid). It returns an error wrapping ErrNoSignature
// when no signature claims k, and keys.ErrBadSignature when the ones that do are invalid.
func (s *Signed) VerifyKey(k *keys.Key) error {
	return s.VerifyPrepared(k.PrepareID())
}

// VerifyPrepared is VerifyKey for a key prepared once for many envelopes.
func (s *Signed) VerifyPrepared(k *keys.PreparedKey) error {
	if s.Kind == Bundle {
		return ErrBundle
	}
	id := k.ID()
	if id == "" {
		return fmt.Errorf("verify %s envelope: unusable key", s.Kind)
	}
	msg, err := s.SignedBytes()
	if err != nil {
		return fmt.Errorf("verify %s envelope: %w", s.Kind, err)
	}
	var lastErr error
	for _, sig := range s.Signatures {
		if sig.KeyID != id && (s.Kind != DSSE || sig.KeyID != "") {
			continue
		}
		err := k.Verify(msg, sig.Sig)
		if err == nil {
			return nil
		}
		if !errors.Is(err, keys.ErrBadSignature) {
			return fmt.Errorf("verify %s envelope: %w", s.Kind, err)
		}
		if sig.KeyID == id { // a failed unlabelled DSSE signature is simply not k's
			lastErr = err
		}
	}
	if lastErr != nil {
		return fmt.Errorf("verify %s envelope: %w", s.Kind, lastErr)
	}
	return fmt.Errorf("verify %s envelope: %w %s", s.Kind, ErrNoSignature, id)
}
