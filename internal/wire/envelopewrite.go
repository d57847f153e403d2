package wire

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// The bytes of a signed file: the DSSE pre-authentication encoding (what a DSSE signature covers)
// and the layout of DSSE and legacy envelopes as in-toto-python writes them (pretty-printed, keys
// sorted, one-space indent), streamed or whole.

// EncodedSignature is one signature as an envelope holds it: its keyid and its bytes already encoded
// (hex for legacy, base64 for DSSE).
type EncodedSignature struct {
	KeyID string `json:"keyid"`
	Sig   string `json:"sig"`
}

// PAE returns the DSSE pre-authentication encoding of payloadType and payload: the message a DSSE
// signature covers.
func PAE(payloadType string, payload []byte) []byte {
	b := make([]byte, 0, PAERoom(payloadType)+len(payload))
	return append(AppendPAEHeader(b, payloadType, len(payload)), payload...)
}

// paePrefix starts every DSSE pre-authentication encoding (PAE):
// "DSSEv1 " len(type) " " type " " len(payload) " " payload.
const paePrefix = "DSSEv1 "

// maxLenDigits is the most decimal digits a length can have (len("9223372036854775807")).
const maxLenDigits = 19

// PAERoom is how many bytes the longest PAE header of payloadType takes, whatever the payload's
// length: the room a caller leaves in front of a payload to sign it in place.
func PAERoom(payloadType string) int {
	return len(paePrefix) + len(strconv.Itoa(len(payloadType))) + 1 + len(payloadType) + 1 + maxLenDigits + 1
}

// AppendPAEHeader appends the PAE of payloadType and a payload of n bytes, without the payload.
func AppendPAEHeader(b []byte, payloadType string, n int) []byte {
	b = append(b, paePrefix...)
	b = strconv.AppendInt(b, int64(len(payloadType)), 10)
	b = append(b, ' ')
	b = append(b, payloadType...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, ' ')
}

// EncodeDSSE writes the envelope as pretty(map{payload, payloadType, signatures}) would, but encodes
// the payload's base64 straight into the output: for a large link it is most of the file.
func EncodeDSSE(payloadType string, payload []byte, sigs []EncodedSignature) ([]byte, error) {
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

// EncodeLegacy returns pretty(map{"signatures": sigs, "signed": signed decoded}) without decoding the
// document: writePretty re-indents it as that would print it.
func EncodeLegacy(signed []byte, sigs []EncodedSignature) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(signed) + len(signed)/4 + 256*(len(sigs)+1))
	if err := WriteLegacy(&b, signed, sigs); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// dsseHead starts a pretty-printed DSSE envelope, up to the payload's base64.
const dsseHead = "{\n \"payload\": \""

// appendDSSETail appends what follows the payload's base64 in a pretty-printed DSSE envelope.
func appendDSSETail(b []byte, payloadType string, sigs []EncodedSignature) ([]byte, error) {
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
func appendPrettySigs(b []byte, name string, sigs []EncodedSignature, indent string) ([]byte, error) {
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

// WriteDSSE streams what EncodeDSSE returns.
func WriteDSSE(w io.Writer, payloadType string, payload []byte, sigs []EncodedSignature) error {
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

// WriteLegacy streams what EncodeLegacy returns: pretty(map{"signatures": sigs, "signed": doc decoded}).
func WriteLegacy(w io.Writer, doc []byte, sigs []EncodedSignature) error {
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
