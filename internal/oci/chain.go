package oci

import "fmt"

// Chain names the files a verification passed on, to attach: the layout, the links it accepted and
// the VSA written for it ("" for none).
type Chain struct {
	Layout string
	Links  []string
	VSA    string
	// VSAPredicateType is the VSA's predicate type, which a VSA bundle carries.
	VSAPredicateType string
}

// ReadChain reads the chain's files to attach, in that order. A layout bundle carries the link
// predicate type, as link bundles do.
func ReadChain(c Chain) ([]File, error) {
	out := make([]File, 0, len(c.Links)+2)
	add := func(path string, kind Kind, predicateType string) error {
		f, err := ReadFile(path, kind, predicateType)
		if err == nil {
			out = append(out, f)
		}
		return err
	}
	if err := add(c.Layout, KindLayout, LinkPredicateType); err != nil {
		return nil, err
	}
	for _, l := range c.Links {
		if err := add(l, KindLink, LinkPredicateType); err != nil {
			return nil, err
		}
	}
	if c.VSA != "" {
		if err := add(c.VSA, KindVSA, c.VSAPredicateType); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// LayoutChoiceError says why no layout attached to an image can be used: none, or several.
type LayoutChoiceError struct{ Reason string }

func (e *LayoutChoiceError) Error() string { return e.Reason }

// AttachedLayout chooses the layout to verify an image with among those attached to it (fetched by
// WriteChain): the only one, else a *LayoutChoiceError, since choosing among several would be a guess.
func AttachedLayout(layouts []string, ref string) (string, error) {
	switch len(layouts) {
	case 0:
		return "", &LayoutChoiceError{fmt.Sprintf("no layout is attached to %s: give --layout", ref)}
	case 1:
		return layouts[0], nil
	}
	return "", &LayoutChoiceError{fmt.Sprintf("%d layouts are attached to %s: name the one to use with --layout", len(layouts), ref)}
}
