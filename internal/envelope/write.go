package envelope

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// Sealed is a signed envelope not yet encoded: the document and its signatures. Its file content is
// written with WriteTo, which streams it (the base64 of a DSSE payload, the pretty-printed document of
// a legacy envelope) instead of building it in memory, or returned whole by Bytes. Both give exactly
// what SignDSSE and SignLegacy return.
type Sealed struct {
	kind        Kind
	payloadType string // DSSE only
	doc         []byte // the DSSE payload, or the legacy envelope's signed document
	sigs        []wire.EncodedSignature
}

// PAERoom is how many bytes SealDSSEInPlace needs in front of a payload of type payloadType: the
// longest PAE header the type can have, whatever the payload's length (wire.PAERoom).
func PAERoom(payloadType string) int { return wire.PAERoom(payloadType) }

// SealDSSE signs payload into a DSSE envelope with every key (once per keyid). The message signed,
// the PAE, is a copy of the payload behind a header; SealDSSEInPlace avoids that copy.
func SealDSSE(payloadType string, payload []byte, signers ...*keys.Key) (*Sealed, error) {
	room := PAERoom(payloadType)
	buf := make([]byte, room+len(payload))
	copy(buf[room:], payload)
	s, err := SealDSSEInPlace(payloadType, buf, room, signers...)
	if err != nil {
		return nil, err
	}
	s.doc = payload // the caller's, not the copy: buf is garbage from here on
	return s, nil
}

// SealDSSEInPlace is SealDSSE of the payload buf[room:] without copying it: room must be at least
// wire.PAERoom(payloadType), and buf[:room] is overwritten with the PAE header, so that the message signed
// is a slice of buf. The Sealed keeps buf[room:]: do not modify it until the envelope is written.
func SealDSSEInPlace(payloadType string, buf []byte, room int, signers ...*keys.Key) (*Sealed, error) {
	signers = dedupe(signers)
	if len(signers) == 0 {
		return nil, fmt.Errorf("sign dsse: %w", errNoKeys)
	}
	if room > len(buf) || room < wire.PAERoom(payloadType) {
		return nil, fmt.Errorf("sign dsse: %d bytes of room for the PAE header, want %d", room, wire.PAERoom(payloadType))
	}
	payload := buf[room:]
	var header [128]byte
	h := wire.AppendPAEHeader(header[:0], payloadType, len(payload))
	start := room - len(h)
	copy(buf[start:room], h)
	pae := buf[start:]
	sigs := make([]wire.EncodedSignature, 0, len(signers))
	for _, k := range signers {
		sig, err := k.Sign(pae)
		if err != nil {
			return nil, fmt.Errorf("sign dsse with key %s: %w", k.ShortID(), err)
		}
		sigs = append(sigs, wire.EncodedSignature{KeyID: k.ID(), Sig: base64.StdEncoding.EncodeToString(sig)})
	}
	return &Sealed{kind: DSSE, payloadType: payloadType, doc: payload, sigs: sigs}, nil
}

// SealLegacy signs the JSON document signed into a legacy in-toto envelope with every key (once per
// keyid): the signatures are over its canonical JSON, which is dropped once they are made.
func SealLegacy(signed []byte, signers ...*keys.Key) (*Sealed, error) {
	if len(dedupe(signers)) == 0 {
		return nil, fmt.Errorf("sign legacy envelope: %w", errNoKeys)
	}
	canon, err := wire.CanonicalJSON(signed)
	if err != nil {
		return nil, fmt.Errorf("sign legacy envelope: %w", err)
	}
	sigs, err := SignCanonical(canon, signers...)
	if err != nil {
		return nil, err
	}
	return sigs.Seal(signed), nil
}

// LegacySignatures are the signatures of a legacy envelope, made before the document they sign is at
// hand: a caller that can write a document's canonical JSON directly signs that, lets it go, and only
// then builds the document itself, so that the two never take memory at the same time.
type LegacySignatures struct {
	sigs []wire.EncodedSignature
}

// SignCanonical signs canon, the canonical JSON of a document, with every key (once per keyid).
func SignCanonical(canon []byte, signers ...*keys.Key) (*LegacySignatures, error) {
	signers = dedupe(signers)
	if len(signers) == 0 {
		return nil, fmt.Errorf("sign legacy envelope: %w", errNoKeys)
	}
	sigs := make([]wire.EncodedSignature, 0, len(signers))
	for _, k := range signers {
		sig, err := k.Sign(canon)
		if err != nil {
			return nil, fmt.Errorf("sign legacy envelope with key %s: %w", k.ShortID(), err)
		}
		sigs = append(sigs, wire.EncodedSignature{KeyID: k.ID(), Sig: hex.EncodeToString(sig)})
	}
	return &LegacySignatures{sigs: sigs}, nil
}

// Seal returns the legacy envelope of signed with these signatures. signed must be the document whose
// canonical JSON was signed: the signatures are not checked against it.
func (l *LegacySignatures) Seal(signed []byte) *Sealed {
	return &Sealed{kind: Legacy, doc: signed, sigs: l.sigs}
}

// Bytes returns the envelope file content, what WriteTo writes.
func (s *Sealed) Bytes() ([]byte, error) {
	if s.kind == DSSE {
		return wire.EncodeDSSE(s.payloadType, s.doc, s.sigs)
	}
	return wire.EncodeLegacy(s.doc, s.sigs)
}

// WriteTo writes the envelope file content to w, streaming the large part: it holds no more than a
// small buffer besides the document itself.
func (s *Sealed) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	var err error
	if s.kind == DSSE {
		err = wire.WriteDSSE(cw, s.payloadType, s.doc, s.sigs)
	} else {
		err = wire.WriteLegacy(cw, s.doc, s.sigs)
	}
	return cw.n, err
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
