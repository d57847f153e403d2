package wire

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
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

// ErrUnknownFormat is returned by ParseEnvelope for JSON that is none of the three envelope formats.
var ErrUnknownFormat = errors.New("not a legacy in-toto envelope, a DSSE envelope or a sigstore bundle")

// Signature is one signature of an envelope, its bytes decoded from hex (legacy) or base64 (DSSE).
type Signature struct {
	KeyID string
	Sig   []byte
}

// Envelope is what a signed file says, read and not checked.
type Envelope struct {
	Kind Kind
	// PayloadType is the DSSE payload type ("" for legacy envelopes).
	PayloadType string
	// Payload is the document: for legacy the raw bytes of "signed" as received (a sub-slice of the
	// input), for DSSE the decoded payload. For a Bundle it is the payload of its DSSE envelope.
	Payload []byte
	// Signatures are the envelope's signatures (for a Bundle, those of its DSSE envelope).
	Signatures []Signature
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

// ParseEnvelope detects and decodes a legacy envelope, a DSSE envelope or a Sigstore bundle. It
// checks no signature.
func ParseEnvelope(data []byte) (*Envelope, error) {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, fmt.Errorf("parse envelope: %w", ErrUnknownFormat)
	}
	keys, vals, plain := PlainObjectMembers(data)
	top, err := splitTop(data, keys, vals, plain)
	if err != nil {
		return nil, fmt.Errorf("parse envelope: %w", err)
	}
	isBundle, isLegacy, isDSSE := has(top, "mediaType"), has(top, "signed"), has(top, "payload") || has(top, "payloadType")
	if n := btoi(isBundle) + btoi(isLegacy) + btoi(isDSSE); n > 1 {
		// Readers that test the formats in another order would see another document: refuse.
		return nil, fmt.Errorf("parse envelope: ambiguous, has fields of several formats: %w", ErrUnknownFormat)
	}
	e := &Envelope{}
	switch {
	case has(top, "mediaType"):
		var mt string
		if err := json.Unmarshal(top["mediaType"], &mt); err != nil || !strings.HasPrefix(mt, BundleMediaTypePrefix) {
			return nil, fmt.Errorf("parse envelope: mediaType %s: %w", top["mediaType"], ErrUnknownFormat)
		}
		e.Kind = Bundle
		if raw, ok := top["dsseEnvelope"]; ok {
			// Best effort, for finding links by content; the bundle verifier decides what is valid.
			if err := e.parseDSSE(raw, nil, nil); err != nil {
				return nil, fmt.Errorf("parse sigstore bundle: %w", err)
			}
		}
	case has(top, "signed") && has(top, "signatures"):
		if err := e.parseLegacy(top, data); err != nil {
			return nil, err
		}
	case has(top, "payload") && has(top, "payloadType"):
		if !plain {
			keys, vals = nil, nil // not split: parseDSSE decodes data itself
		}
		if err := e.parseDSSE(data, keys, vals); err != nil {
			return nil, fmt.Errorf("parse dsse envelope: %w", err)
		}
		e.Kind = DSSE
	default:
		return nil, fmt.Errorf("parse envelope: %w", ErrUnknownFormat)
	}
	return e, nil
}

// parseLegacy reads a legacy envelope from its split members.
func (e *Envelope) parseLegacy(top map[string]json.RawMessage, data []byte) error {
	w, err := legacyFromTop(top, data)
	if err != nil {
		return fmt.Errorf("parse legacy envelope: %w", err)
	}
	if st := bytes.TrimLeft(w.Signed, " \t\r\n"); len(st) == 0 || st[0] != '{' {
		return errors.New("parse legacy envelope: signed is not an object")
	}
	e.Kind = Legacy
	e.Payload = []byte(w.Signed)
	for i, sig := range w.Signatures {
		b, err := hex.DecodeString(sig.Sig)
		if err != nil {
			return fmt.Errorf("parse legacy envelope: signature %d is not hex", i+1)
		}
		e.Signatures = append(e.Signatures, Signature{KeyID: sig.KeyID, Sig: b})
	}
	return nil
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
func (e *Envelope) parseDSSE(data []byte, keys []string, vals [][]byte) error {
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
	e.PayloadType, e.Payload = w.PayloadType, p
	for i, sig := range w.Signatures {
		b, err := b64(sig.Sig)
		if err != nil {
			return fmt.Errorf("signature %d is not base64", i+1)
		}
		e.Signatures = append(e.Signatures, Signature{KeyID: sig.KeyID, Sig: b})
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
		if keys, vals, ok = PlainObjectMembers(data); !ok {
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
