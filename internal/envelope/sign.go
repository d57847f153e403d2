package envelope

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// errNoKeys is returned when a signing function gets no key.
var errNoKeys = errors.New("no signing key")

// SignDSSE wraps payload in a DSSE envelope signed by every key (once per keyid) and returns the
// envelope file content, pretty-printed.
func SignDSSE(payloadType string, payload []byte, signers ...*keys.Key) ([]byte, error) {
	s, err := SealDSSE(payloadType, payload, signers...)
	if err != nil {
		return nil, err
	}
	return s.Bytes()
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
	sigs := make([]wire.EncodedSignature, 0, len(s.Signatures)+1)
	for _, old := range s.Signatures {
		if old.KeyID != id {
			sigs = append(sigs, wire.EncodedSignature{KeyID: old.KeyID, Sig: enc(old.Sig)})
		}
	}
	sigs = append(sigs, wire.EncodedSignature{KeyID: id, Sig: enc(sig)})
	if s.Kind == DSSE {
		return wire.EncodeDSSE(s.PayloadType, s.Payload, sigs)
	}
	return wire.EncodeLegacy(s.Payload, sigs)
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
