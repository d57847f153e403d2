package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// errNoKeys is returned when a signing function gets no key.
var errNoKeys = errors.New("no signing key")

type sigWire struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// SignDSSE wraps payload in a DSSE envelope signed by every key (once per keyid) and returns the
// envelope file content, pretty-printed.
func SignDSSE(payloadType string, payload []byte, keys ...*intoto.Key) ([]byte, error) {
	keys = dedupe(keys)
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign dsse: %w", errNoKeys)
	}
	pae := dsse.PAE(payloadType, payload)
	sigs := make([]sigWire, 0, len(keys))
	for _, k := range keys {
		sig, err := k.Sign(pae)
		if err != nil {
			return nil, fmt.Errorf("sign dsse with key %s: %w", k.ShortID(), err)
		}
		sigs = append(sigs, sigWire{KeyID: k.ID(), Sig: base64.StdEncoding.EncodeToString(sig)})
	}
	return encodeDSSE(payloadType, payload, sigs)
}

// encodeDSSE writes the envelope as pretty(map{payload, payloadType, signatures}) would, but encodes
// the payload's base64 straight into the output: for a large link it is most of the file.
func encodeDSSE(payloadType string, payload []byte, sigs []sigWire) ([]byte, error) {
	size := base64.StdEncoding.EncodedLen(len(payload)) + 64 + len(payloadType) + 64*len(sigs)
	for _, s := range sigs {
		size += len(s.KeyID) + len(s.Sig)
	}
	b := make([]byte, 0, size)
	b = append(b, "{\n \"payload\": \""...)
	b = base64.StdEncoding.AppendEncode(b, payload)
	b = append(b, "\",\n \"payloadType\": "...)
	b, err := appendPrettyString(b, payloadType)
	if err != nil {
		return nil, err
	}
	if sigs == nil {
		return append(b, ",\n \"signatures\": null\n}\n"...), nil
	}
	if len(sigs) == 0 {
		b = append(b, ",\n \"signatures\": []\n}\n"...)
		return b, nil
	}
	b = append(b, ",\n \"signatures\": ["...)
	for i, s := range sigs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, "\n  {\n   \"keyid\": "...)
		if b, err = appendPrettyString(b, s.KeyID); err != nil {
			return nil, err
		}
		b = append(b, ",\n   \"sig\": "...)
		if b, err = appendPrettyString(b, s.Sig); err != nil {
			return nil, err
		}
		b = append(b, "\n  }"...)
	}
	return append(b, "\n ]\n}\n"...), nil
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
func SignLegacy(signed []byte, keys ...*intoto.Key) ([]byte, error) {
	keys = dedupe(keys)
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign legacy envelope: %w", errNoKeys)
	}
	canon, err := intoto.CanonicalJSON(signed)
	if err != nil {
		return nil, fmt.Errorf("sign legacy envelope: %w", err)
	}
	sigs := make([]sigWire, 0, len(keys))
	for _, k := range keys {
		sig, err := k.Sign(canon)
		if err != nil {
			return nil, fmt.Errorf("sign legacy envelope with key %s: %w", k.ShortID(), err)
		}
		sigs = append(sigs, sigWire{KeyID: k.ID(), Sig: hex.EncodeToString(sig)})
	}
	return encodeLegacy(signed, sigs)
}

func encodeLegacy(signed []byte, sigs []sigWire) ([]byte, error) {
	doc, err := decodeGeneric(signed)
	if err != nil {
		return nil, err
	}
	return pretty(map[string]any{"signed": doc, "signatures": sigs})
}

// AppendSignature adds a signature by key to an existing legacy or DSSE envelope (a layout signed by
// several owners). A signature already present for the same keyid is replaced. The document is kept.
func AppendSignature(envelopeData []byte, key *intoto.Key) ([]byte, error) {
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

func dedupe(keys []*intoto.Key) []*intoto.Key {
	seen := map[string]bool{}
	out := keys[:0:0]
	for _, k := range keys {
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

// decodeGeneric decodes JSON keeping numbers exact, so that re-encoding changes only formatting.
func decodeGeneric(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode signed document: %w", err)
	}
	return v, nil
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
