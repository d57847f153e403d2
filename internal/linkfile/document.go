package linkfile

import (
	"context"
	"encoding/json"
	"fmt"
	"os"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// SignDocument signs the layout, link or envelope that file holds (data), as `intoto-ci sign` does: a
// key-signed envelope takes one more signature from each key; a bare layout or link, checked first,
// is sealed in the signer's envelope (DSSE or legacy) with the keys, or signed keylessly into a
// Sigstore bundle. What cannot take the signature (a bundle, a signed file for keyless, a document
// that is neither a valid layout nor link) is an *InputError naming file.
func (s *Signer) SignDocument(ctx context.Context, file string, data []byte) ([]byte, error) {
	signed, perr := envelope.Parse(data)
	switch {
	case perr == nil && signed.Kind == envelope.Bundle:
		return nil, &InputError{fmt.Errorf("%s: a sigstore bundle carries exactly one signature and cannot take another", file)}
	case perr == nil && s.Keyed():
		out := signed.Raw
		for _, k := range s.keys {
			var err error
			if out, err = envelope.AppendSignature(out, k); err != nil {
				return nil, &InputError{fmt.Errorf("%s: %w", file, err)}
			}
		}
		return out, nil
	case perr == nil:
		return nil, &InputError{fmt.Errorf("%s is already signed with keys: keyless signing takes the bare document", file)}
	}
	if err := CheckDocument(file, data); err != nil {
		return nil, err
	}
	var out []byte
	var err error
	switch {
	case !s.Keyed():
		out, err = s.keyless.Sign(ctx, intoto.PayloadType, data)
	case s.flags.envelope == "legacy":
		out, err = envelope.SignLegacy(data, s.keys...)
	default:
		out, err = envelope.SignDSSE(intoto.PayloadType, data, s.keys...)
	}
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", file, err)
	}
	return out, nil
}

// CheckDocument tells whether data (read from file) is a bare layout or link that may be signed: its
// _type says which, and it must decode and validate as that. Anything else is an *InputError.
func CheckDocument(file string, data []byte) error {
	var doc struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return &InputError{fmt.Errorf("%s: %w", file, err)}
	}
	switch doc.Type {
	case intoto.TypeLayout:
		l, err := intoto.DecodeLayout(data)
		if err != nil {
			return &InputError{fmt.Errorf("%s: %w", file, err)}
		}
		if err := keys.ValidateLayout(l); err != nil {
			return &InputError{fmt.Errorf("%s: %w", file, err)}
		}
	case intoto.TypeLink:
		if _, err := wire.DecodeLink(data); err != nil {
			return &InputError{fmt.Errorf("%s: %w", file, err)}
		}
	default:
		return &InputError{fmt.Errorf("%s: _type %q is neither layout nor link", file, doc.Type)}
	}
	return nil
}

// SignStatement signs an in-toto Statement (a VSA) as links are signed: a DSSE envelope with the
// keys, or a Sigstore bundle.
func (s *Signer) SignStatement(ctx context.Context, stmt []byte) ([]byte, error) {
	if s.Keyed() {
		return envelope.SignDSSE(intoto.PayloadType, stmt, s.keys...)
	}
	return s.keyless.Sign(ctx, intoto.PayloadType, stmt)
}

// ReadLink reads any link file — legacy, DSSE or bundle, v0.9 link or Statement — without checking
// signatures (callers that trust the content must verify first).
func ReadLink(path string) (*intoto.Link, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := envelope.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l, err := wire.DecodeLinkPayload(s.Payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
}
