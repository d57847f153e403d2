package intoto

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every structural validation error of a layout or link.
var ErrInvalid = errors.New("invalid in-toto metadata")

// DecodeLink decodes a v0.9 link document (the payload of an envelope, not the envelope itself).
// Unknown fields are kept in Extra. It does not validate: call Validate.
func DecodeLink(data []byte) (*Link, error) {
	var l Link
	if err := l.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decode link: %w", err)
	}
	return &l, nil
}

// Validate checks the link's structure: _type "link", a name, and well-formed artifact digests.
func (l *Link) Validate() error {
	if l.Type != TypeLink {
		return fmt.Errorf("%w: link _type is %q, want %q", ErrInvalid, l.Type, TypeLink)
	}
	if l.Name == "" {
		return fmt.Errorf("%w: link has no name", ErrInvalid)
	}
	if err := validateSet(l.Materials); err != nil {
		return fmt.Errorf("%w: link %q materials: %w", ErrInvalid, l.Name, err)
	}
	if err := validateSet(l.Products); err != nil {
		return fmt.Errorf("%w: link %q products: %w", ErrInvalid, l.Name, err)
	}
	return nil
}

// LinkFileName is the peers' file name for a step's link signed by keyid: "<step>.<keyid8>.link".
func LinkFileName(step, keyID string) string {
	return step + "." + short(keyID) + ".link"
}

// DecodePlainLink decodes data as DecodeLink would when it is a valid link of the plain shape every
// implementation writes (_type "link", a name, well-formed digests, ASCII strings without escapes, no
// unknown or repeated fields), in one pass that also validates it: Validate would return nil.
// ok=false means the caller must decode (and validate) it the general way.
func DecodePlainLink(data []byte) (l *Link, ok bool) {
	l, ok = fastDecodeLink(data)
	if !ok || l.Type != TypeLink || l.Name == "" {
		return nil, false
	}
	return l, true
}

// validateSet refuses an empty name or a malformed digest set: the first bad artifact in name order
// is reported.
func validateSet(s ArtifactSet) error {
	for i, name := range s.names {
		if name == "" {
			return errors.New("empty artifact name")
		}
		if d := s.digs[i]; d.other != nil {
			if err := d.other.validate(); err != nil {
				return fmt.Errorf("artifact %q: %w", name, err)
			}
		}
	}
	return nil
}

// Agree tells whether d and o share an algorithm and agree on every one they share (hex compared
// without regard to case): "the same content" for proposals and local checks, not for the rules, which
// compare like in-toto-python.
func (d Digests) Agree(o Digests) bool {
	shared := 0
	for alg, v := range d {
		if w, ok := o[alg]; ok {
			if !strings.EqualFold(v, w) {
				return false
			}
			shared++
		}
	}
	return shared > 0
}

func (d Digests) validate() error {
	if len(d) == 0 {
		return errors.New("no digest")
	}
	for alg, v := range d {
		if alg == "" {
			return errors.New("empty hash algorithm name")
		}
		if _, err := hex.DecodeString(v); err != nil || v == "" || strings.ToLower(v) != v {
			return fmt.Errorf("%s digest %q is not lowercase hex", alg, v)
		}
	}
	return nil
}
