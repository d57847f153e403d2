package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// Kind is the envelope format of a signed file.
type Kind int

// Envelope formats.
const (
	// Legacy is in-toto's original {"signed": …, "signatures": [{"keyid", "sig" (hex)}]}.
	Legacy Kind = iota + 1
	// DSSE is {"payloadType", "payload" (base64), "signatures": [{"keyid", "sig" (base64)}]}.
	DSSE
	// Bundle is a Sigstore bundle (mediaType application/vnd.dev.sigstore.bundle…), verified elsewhere.
	Bundle
)

func (k Kind) String() string {
	switch k {
	case Legacy:
		return "legacy"
	case DSSE:
		return "dsse"
	case Bundle:
		return "sigstore-bundle"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// BundleMediaTypePrefix starts the mediaType of every Sigstore bundle version.
const BundleMediaTypePrefix = "application/vnd.dev.sigstore.bundle"

// Errors callers branch on.
var (
	// ErrUnknownFormat is returned by Parse for JSON that is none of the three envelope formats.
	ErrUnknownFormat = errors.New("not a legacy in-toto envelope, a DSSE envelope or a sigstore bundle")
	// ErrNoSignature is returned by VerifyKey when the envelope has no signature by that key.
	ErrNoSignature = errors.New("no signature by key")
	// ErrBundle is returned by key operations on a Sigstore bundle, which the keyless verifier handles.
	ErrBundle = errors.New("sigstore bundles are verified by the keyless verifier")
)

// Signature is one signature of an envelope, its bytes decoded from hex (legacy) or base64 (DSSE).
type Signature struct {
	KeyID string
	Sig   []byte
}

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

type legacyWire struct {
	Signed     json.RawMessage `json:"signed"`
	Signatures []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

type dsseWire struct {
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`
	Signatures  []struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	} `json:"signatures"`
}

// Parse detects and decodes a legacy envelope, a DSSE envelope or a Sigstore bundle. It checks no
// signature: call VerifyKey (or the keyless verifier for bundles).
func Parse(data []byte) (*Signed, error) {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("parse envelope: %w", ErrUnknownFormat)
	}
	keys, vals, plain := wire.PlainObjectMembers(data)
	top, err := splitTop(data, keys, vals, plain)
	if err != nil {
		return nil, fmt.Errorf("parse envelope: %w", err)
	}
	isBundle, isLegacy, isDSSE := has(top, "mediaType"), has(top, "signed"), has(top, "payload") || has(top, "payloadType")
	if n := btoi(isBundle) + btoi(isLegacy) + btoi(isDSSE); n > 1 {
		// Readers that test the formats in another order would see another document: refuse.
		return nil, fmt.Errorf("parse envelope: ambiguous, has fields of several formats: %w", ErrUnknownFormat)
	}
	s := &Signed{Raw: data}
	switch {
	case has(top, "mediaType"):
		var mt string
		if err := json.Unmarshal(top["mediaType"], &mt); err != nil || !strings.HasPrefix(mt, BundleMediaTypePrefix) {
			return nil, fmt.Errorf("parse envelope: mediaType %s: %w", top["mediaType"], ErrUnknownFormat)
		}
		s.Kind = Bundle
		if raw, ok := top["dsseEnvelope"]; ok {
			// Best effort, for finding links by content; the bundle verifier decides what is valid.
			if err := s.parseDSSE(raw, nil, nil); err != nil {
				return nil, fmt.Errorf("parse sigstore bundle: %w", err)
			}
		}
	case has(top, "signed") && has(top, "signatures"):
		w, err := legacyFromTop(top, data)
		if err != nil {
			return nil, fmt.Errorf("parse legacy envelope: %w", err)
		}
		if st := bytes.TrimLeft(w.Signed, " \t\r\n"); len(st) == 0 || st[0] != '{' {
			return nil, errors.New("parse legacy envelope: signed is not an object")
		}
		s.Kind = Legacy
		s.Payload = []byte(w.Signed)
		for i, sig := range w.Signatures {
			b, err := hex.DecodeString(sig.Sig)
			if err != nil {
				return nil, fmt.Errorf("parse legacy envelope: signature %d is not hex", i+1)
			}
			s.Signatures = append(s.Signatures, Signature{KeyID: sig.KeyID, Sig: b})
		}
	case has(top, "payload") && has(top, "payloadType"):
		if !plain {
			keys, vals = nil, nil // not split: parseDSSE decodes data itself
		}
		if err := s.parseDSSE(data, keys, vals); err != nil {
			return nil, fmt.Errorf("parse dsse envelope: %w", err)
		}
		s.Kind = DSSE
	default:
		return nil, fmt.Errorf("parse envelope: %w", ErrUnknownFormat)
	}
	return s, nil
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

// legacyFromTop decodes a legacy envelope from its already split members, without decoding the
// whole document again. encoding/json matches struct fields case-insensitively (the last match
// wins): when a member differs from "signed" or "signatures" only by case, decode it all as before.
func legacyFromTop(top map[string]json.RawMessage, data []byte) (legacyWire, error) {
	var w legacyWire
	for k := range top {
		if (k != "signed" && strings.EqualFold(k, "signed")) || (k != "signatures" && strings.EqualFold(k, "signatures")) {
			err := json.Unmarshal(data, &w)
			return w, err
		}
	}
	w.Signed = top["signed"]
	if err := json.Unmarshal(top["signatures"], &w.Signatures); err != nil {
		var full legacyWire // for the same error message
		err := json.Unmarshal(data, &full)
		return full, err
	}
	return w, nil
}

// parseDSSE decodes the DSSE envelope data, whose members keys and vals are when the caller split it
// already (PlainObjectMembers), nil otherwise.
func (s *Signed) parseDSSE(data []byte, keys []string, vals [][]byte) error {
	w, payload, ok := plainDSSE(data, keys, vals)
	if !ok {
		w = dsseWire{}
		if err := json.Unmarshal(data, &w); err != nil {
			return err
		}
		payload = []byte(w.Payload)
	}
	p, err := b64Bytes(payload)
	if err != nil {
		return fmt.Errorf("payload is not base64")
	}
	s.PayloadType, s.Payload = w.PayloadType, p
	for i, sig := range w.Signatures {
		b, err := b64(sig.Sig)
		if err != nil {
			return fmt.Errorf("signature %d is not base64", i+1)
		}
		s.Signatures = append(s.Signatures, Signature{KeyID: sig.KeyID, Sig: b})
	}
	return nil
}

// splitTop decodes the members of the top-level object, given what PlainObjectMembers(data) returned.
// The plain shape every implementation writes is split in one validating pass, its values sliced from
// data rather than copied (a large link's "signed" is most of the file); anything else is decoded by
// encoding/json, with the same result.
func splitTop(data []byte, keys []string, vals [][]byte, plain bool) (map[string]json.RawMessage, error) {
	if plain {
		top := make(map[string]json.RawMessage, len(keys))
		for i, k := range keys {
			top[k] = vals[i] // a repeated key keeps its last value, as in encoding/json
		}
		return top, nil
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	return top, nil
}

// plainDSSE decodes a DSSE envelope of the plain shape as encoding/json decodes it into a dsseWire,
// except that the payload's base64 is returned as a sub-slice of data (w.Payload stays empty): it
// is most of a large link, and decoding the JSON string would copy it. ok=false (a member whose
// name differs from a field's only by case, or any decoding error) sends the caller to encoding/json.
// keys and vals are data's members when the caller split them already, else nil.
func plainDSSE(data []byte, keys []string, vals [][]byte) (w dsseWire, payload []byte, ok bool) {
	if keys == nil {
		if keys, vals, ok = wire.PlainObjectMembers(data); !ok {
			return w, nil, false
		}
	}
	for i, k := range keys {
		var err error
		switch {
		case k == "payload":
			v := vals[i] // a plain string has no escapes: its contents are the bytes between the quotes
			if len(v) < 2 || v[0] != '"' {
				return w, nil, false
			}
			payload = v[1 : len(v)-1]
		case k == "payloadType":
			err = json.Unmarshal(vals[i], &w.PayloadType)
		case k == "signatures":
			err = json.Unmarshal(vals[i], &w.Signatures)
		case strings.EqualFold(k, "payload") || strings.EqualFold(k, "payloadType") || strings.EqualFold(k, "signatures"):
			return w, nil, false
		}
		if err != nil {
			return w, nil, false
		}
	}
	return w, payload, true
}

func has(m map[string]json.RawMessage, k string) bool { _, ok := m[k]; return ok }

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// b64Bytes is b64 of bytes.
func b64Bytes(src []byte) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		dst := make([]byte, enc.DecodedLen(len(src)))
		if n, err := enc.Decode(dst, src); err == nil {
			return dst[:n], nil
		}
	}
	return nil, errors.New("invalid base64")
}

// b64 decodes standard or URL-safe base64, padded or not, as the DSSE spec allows.
func b64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("invalid base64")
}

// SignedBytes returns the bytes the envelope's signatures cover: for legacy, the canonical JSON of
// "signed" as received; for DSSE, the pre-authentication encoding of payload type and payload.
func (s *Signed) SignedBytes() ([]byte, error) {
	switch s.Kind {
	case Legacy:
		s.canonOnce.Do(func() { s.canon, s.canonErr = wire.CanonicalJSON(s.Payload) })
		return s.canon, s.canonErr
	case DSSE:
		return dsse.PAE(s.PayloadType, s.Payload), nil
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
// when no signature claims k, and intoto.ErrBadSignature when the ones that do are invalid.
func (s *Signed) VerifyKey(k *intoto.Key) error {
	return s.VerifyPrepared(k.PrepareID())
}

// VerifyPrepared is VerifyKey for a key prepared once for many envelopes.
func (s *Signed) VerifyPrepared(k *intoto.PreparedKey) error {
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
		if !errors.Is(err, intoto.ErrBadSignature) {
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
