package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// errNoKeys is returned when a signing function gets no key.
var errNoKeys = errors.New("no signing key")

type sigWire struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// SignDSSE wraps payload in a DSSE envelope signed by every key (once per keyid) and returns the
// envelope file content, pretty-printed.
func SignDSSE(payloadType string, payload []byte, signers ...*keys.Key) ([]byte, error) {
	s, err := SealDSSE(payloadType, payload, signers...)
	if err != nil {
		return nil, err
	}
	return s.Bytes()
}

// encodeDSSE writes the envelope as pretty(map{payload, payloadType, signatures}) would, but encodes
// the payload's base64 straight into the output: for a large link it is most of the file.
func encodeDSSE(payloadType string, payload []byte, sigs []sigWire) ([]byte, error) {
	size := base64.StdEncoding.EncodedLen(len(payload)) + 64 + len(payloadType) + 64*len(sigs)
	for _, s := range sigs {
		size += len(s.KeyID) + len(s.Sig)
	}
	b := make([]byte, 0, size)
	b = append(b, dsseHead...)
	b = base64.StdEncoding.AppendEncode(b, payload)
	return appendDSSETail(b, payloadType, sigs)
}

// appendPrettyString appends s as pretty encodes it (encoding/json without HTML escaping): printable
// ASCII is copied, anything else goes through encoding/json itself.
func appendPrettyString(b []byte, s string) ([]byte, error) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			raw, err := pretty(s)
			if err != nil {
				return nil, err
			}
			return append(b, bytes.TrimSuffix(raw, []byte("\n"))...), nil
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), nil
}

// SignLegacy wraps the JSON document signed in a legacy in-toto envelope signed by every key (once per
// keyid): the signatures are over its canonical JSON. The output is pretty-printed with sorted keys, as
// in-toto-python writes it.
func SignLegacy(signed []byte, signers ...*keys.Key) ([]byte, error) {
	s, err := SealLegacy(signed, signers...)
	if err != nil {
		return nil, err
	}
	return s.Bytes()
}

// encodeLegacy returns pretty(map{"signatures": sigs, "signed": signed decoded}) without decoding the
// document: writePretty re-indents it as that would print it.
func encodeLegacy(signed []byte, sigs []sigWire) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(signed) + len(signed)/4 + 256*(len(sigs)+1))
	if err := writeLegacy(&b, signed, sigs); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// AppendSignature adds a signature by key to an existing legacy or DSSE envelope (a layout signed by
// several owners). A signature already present for the same keyid is replaced. The document is kept.
func AppendSignature(envelopeData []byte, key *keys.Key) ([]byte, error) {
	s, err := Parse(envelopeData)
	if err != nil {
		return nil, err
	}
	if s.Kind == Bundle {
		return nil, fmt.Errorf("append signature: %w", ErrBundle)
	}
	msg, err := s.SignedBytes()
	if err != nil {
		return nil, fmt.Errorf("append signature: %w", err)
	}
	sig, err := key.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("append signature with key %s: %w", key.ShortID(), err)
	}
	id := key.ID()
	enc := hex.EncodeToString
	if s.Kind == DSSE {
		enc = base64.StdEncoding.EncodeToString
	}
	sigs := make([]sigWire, 0, len(s.Signatures)+1)
	for _, old := range s.Signatures {
		if old.KeyID != id {
			sigs = append(sigs, sigWire{KeyID: old.KeyID, Sig: enc(old.Sig)})
		}
	}
	sigs = append(sigs, sigWire{KeyID: id, Sig: enc(sig)})
	if s.Kind == DSSE {
		return encodeDSSE(s.PayloadType, s.Payload, sigs)
	}
	return encodeLegacy(s.Payload, sigs)
}

func dedupe(signers []*keys.Key) []*keys.Key {
	seen := map[string]bool{}
	out := signers[:0:0]
	for _, k := range signers {
		if k == nil {
			continue
		}
		id := k.ID()
		if seen[id] {
			continue
		}
		seen[id] = true
		out = append(out, k)
	}
	return out
}

// pretty encodes v like in-toto-python writes metadata: keys sorted, one-space indent, no HTML
// escaping, and a final newline.
func pretty(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("encode envelope: %w", err)
	}
	return b.Bytes(), nil
}
