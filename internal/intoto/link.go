package intoto

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every structural validation error of a layout or link.
var ErrInvalid = errors.New("invalid in-toto metadata")

// Validate checks the link's structure: _type "link", a name, and well-formed artifact digests.
func (l *Link) Validate() error {
	if l.Type != TypeLink {
		return fmt.Errorf("%w: link _type is %q, want %q", ErrInvalid, l.Type, TypeLink)
	}
	if l.Name == "" {
		return fmt.Errorf("%w: link has no name", ErrInvalid)
	}
	if err := ValidateSet(l.Materials); err != nil {
		return fmt.Errorf("%w: link %q materials: %w", ErrInvalid, l.Name, err)
	}
	if err := ValidateSet(l.Products); err != nil {
		return fmt.Errorf("%w: link %q products: %w", ErrInvalid, l.Name, err)
	}
	return nil
}

// LinkFileName is the peers' file name for a step's link signed by keyid: "<step>.<keyid8>.link".
func LinkFileName(step, keyID string) string {
	return step + "." + short(keyID) + ".link"
}

// ValidateSet refuses an empty name or a malformed digest set (what Validate checks of a link's
// materials and products): the first bad artifact in name order is reported.
func ValidateSet(s ArtifactSet) error {
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

// short is the first 8 hex digits of a keyid, as link file names use.
func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
