package envelope

import (
	"bufio"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
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
	sigs        []sigWire
}

// paePrefix starts every DSSE pre-authentication encoding (PAE):
// "DSSEv1 " len(type) " " type " " len(payload) " " payload.
const paePrefix = "DSSEv1 "

// maxLenDigits is the most decimal digits a length can have (len("9223372036854775807")).
const maxLenDigits = 19

// PAERoom is how many bytes SealDSSEInPlace needs in front of a payload of type payloadType: the
// longest PAE header the type can have, whatever the payload's length.
func PAERoom(payloadType string) int {
	return len(paePrefix) + len(strconv.Itoa(len(payloadType))) + 1 + len(payloadType) + 1 + maxLenDigits + 1
}

// appendPAEHeader appends the PAE of payloadType and a payload of n bytes, without the payload.
func appendPAEHeader(b []byte, payloadType string, n int) []byte {
	b = append(b, paePrefix...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ' ')
}

// SealDSSE signs payload into a DSSE envelope with every key (once per keyid). The message signed,
// the PAE, is a copy of the payload behind a header; SealDSSEInPlace avoids that copy.
func SealDSSE(payloadType string, payload []byte, keys ...*intoto.Key) (*Sealed, error) {
	room := PAERoom(payloadType)
	buf := make([]byte, room+len(payload))
	copy(buf[room:], payload)
	s, err := SealDSSEInPlace(payloadType, buf, room, keys...)
	if err != nil {
		return nil, err
	}
	s.doc = payload // the caller's, not the copy: buf is garbage from here on
	return s, nil
}

// SealDSSEInPlace is SealDSSE of the payload buf[room:] without copying it: room must be at least
// PAERoom(payloadType), and buf[:room] is overwritten with the PAE header, so that the message signed
// is a slice of buf. The Sealed keeps buf[room:]: do not modify it until the envelope is written.
func SealDSSEInPlace(payloadType string, buf []byte, room int, keys ...*intoto.Key) (*Sealed, error) {
	keys = dedupe(keys)
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign dsse: %w", errNoKeys)
	}
	if room > len(buf) || room < PAERoom(payloadType) {
		return nil, fmt.Errorf("sign dsse: %d bytes of room for the PAE header, want %d", room, PAERoom(payloadType))
	}
	payload := buf[room:]
	var header [128]byte
	h := appendPAEHeader(header[:0], payloadType, len(payload))
	start := room - len(h)
	copy(buf[start:room], h)
	pae := buf[start:]
	sigs := make([]sigWire, 0, len(keys))
	for _, k := range keys {
		sig, err := k.Sign(pae)
		if err != nil {
			return nil, fmt.Errorf("sign dsse with key %s: %w", k.ShortID(), err)
		}
		sigs = append(sigs, sigWire{KeyID: k.ID(), Sig: base64.StdEncoding.EncodeToString(sig)})
	}
	return &Sealed{kind: DSSE, payloadType: payloadType, doc: payload, sigs: sigs}, nil
}

// SealLegacy signs the JSON document signed into a legacy in-toto envelope with every key (once per
// keyid): the signatures are over its canonical JSON, which is dropped once they are made.
func SealLegacy(signed []byte, keys ...*intoto.Key) (*Sealed, error) {
	if len(dedupe(keys)) == 0 {
		return nil, fmt.Errorf("sign legacy envelope: %w", errNoKeys)
	}
	canon, err := wire.CanonicalJSON(signed)
	if err != nil {
		return nil, fmt.Errorf("sign legacy envelope: %w", err)
	}
	sigs, err := SignCanonical(canon, keys...)
	if err != nil {
		return nil, err
	}
	return sigs.Seal(signed), nil
}

// LegacySignatures are the signatures of a legacy envelope, made before the document they sign is at
// hand: a caller that can write a document's canonical JSON directly signs that, lets it go, and only
// then builds the document itself, so that the two never take memory at the same time.
type LegacySignatures struct {
	sigs []sigWire
}

// SignCanonical signs canon, the canonical JSON of a document, with every key (once per keyid).
func SignCanonical(canon []byte, keys ...*intoto.Key) (*LegacySignatures, error) {
	keys = dedupe(keys)
	if len(keys) == 0 {
		return nil, fmt.Errorf("sign legacy envelope: %w", errNoKeys)
	}
	sigs := make([]sigWire, 0, len(keys))
	for _, k := range keys {
		sig, err := k.Sign(canon)
		if err != nil {
			return nil, fmt.Errorf("sign legacy envelope with key %s: %w", k.ShortID(), err)
		}
		sigs = append(sigs, sigWire{KeyID: k.ID(), Sig: hex.EncodeToString(sig)})
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
		return encodeDSSE(s.payloadType, s.doc, s.sigs)
	}
	return encodeLegacy(s.doc, s.sigs)
}

// WriteTo writes the envelope file content to w, streaming the large part: it holds no more than a
// small buffer besides the document itself.
func (s *Sealed) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	var err error
	if s.kind == DSSE {
		err = writeDSSE(cw, s.payloadType, s.doc, s.sigs)
	} else {
		err = writeLegacy(cw, s.doc, s.sigs)
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

// dsseHead starts a pretty-printed DSSE envelope, up to the payload's base64.
const dsseHead = "{\n \"payload\": \""

// appendDSSETail appends what follows the payload's base64 in a pretty-printed DSSE envelope.
func appendDSSETail(b []byte, payloadType string, sigs []sigWire) ([]byte, error) {
	b = append(b, "\",\n \"payloadType\": "...)
	b, err := appendPrettyString(b, payloadType)
	if err != nil {
		return nil, err
	}
	if b, err = appendPrettySigs(b, ",\n \"signatures\": ", sigs, " "); err != nil {
		return nil, err
	}
	return append(b, "\n}\n"...), nil
}

// appendPrettySigs appends name and the signatures as pretty writes them at the indent of a top-level
// member (null for nil, [] for none).
func appendPrettySigs(b []byte, name string, sigs []sigWire, indent string) ([]byte, error) {
	b = append(b, name...)
	if sigs == nil {
		return append(b, "null"...), nil
	}
	if len(sigs) == 0 {
		return append(b, "[]"...), nil
	}
	b = append(b, '[')
	var err error
	for i, s := range sigs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		b = append(b, indent...)
		b = append(b, " {\n"...)
		b = append(b, indent...)
		b = append(b, "  \"keyid\": "...)
		if b, err = appendPrettyString(b, s.KeyID); err != nil {
			return nil, err
		}
		b = append(b, ",\n"...)
		b = append(b, indent...)
		b = append(b, "  \"sig\": "...)
		if b, err = appendPrettyString(b, s.Sig); err != nil {
			return nil, err
		}
		b = append(b, '\n')
		b = append(b, indent...)
		b = append(b, " }"...)
	}
	b = append(b, '\n')
	b = append(b, indent...)
	return append(b, ']'), nil
}

// base64Chunk is how many payload bytes writeDSSE encodes at a time (a multiple of 3, so that only
// the last chunk is padded).
const base64Chunk = 48 << 10

// writeDSSE streams what encodeDSSE returns.
func writeDSSE(w io.Writer, payloadType string, payload []byte, sigs []sigWire) error {
	tail, err := appendDSSETail(nil, payloadType, sigs)
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, dsseHead); err != nil {
		return err
	}
	buf := make([]byte, base64.StdEncoding.EncodedLen(min(len(payload), base64Chunk)))
	for len(payload) > 0 {
		n := min(len(payload), base64Chunk)
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(buf[:m], payload[:n])
		if _, err := w.Write(buf[:m]); err != nil {
			return err
		}
		payload = payload[n:]
	}
	_, err = w.Write(tail)
	return err
}

// writeLegacy streams what encodeLegacy returns: pretty(map{"signatures": sigs, "signed": doc decoded}).
func writeLegacy(w io.Writer, doc []byte, sigs []sigWire) error {
	head, err := appendPrettySigs([]byte("{\n"), ` "signatures": `, sigs, " ")
	if err != nil {
		return err
	}
	head = append(head, ",\n \"signed\": "...)
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.Write(head); err != nil {
		return err
	}
	if err := writePretty(bw, doc, 1); err != nil {
		return err
	}
	if _, err := bw.WriteString("\n}\n"); err != nil {
		return err
	}
	return bw.Flush()
}
