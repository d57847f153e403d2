package oci

import (
	"context"
	"fmt"
	"io"
	"os"
)

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

// FetchedChain is an image's chain written to disk by FetchChain.
type FetchedChain struct {
	// Dir holds everything fetched; the caller removes it.
	Dir string
	// Links is the links directory; Layouts the layout files (none, one or several).
	Links   string
	Layouts []string
}

// FetchChain downloads img's referrers through c into a new temporary directory, noting on log each
// referrer it skipped and how much it fetched. When the result is not nil, remove its Dir, even
// with an error.
func FetchChain(ctx context.Context, c Client, img *Image, log io.Writer) (*FetchedChain, error) {
	got, err := c.Fetch(ctx, img)
	if err != nil {
		return nil, err
	}
	for _, note := range got.Skipped {
		fmt.Fprintf(log, "note: skipped %s\n", note)
	}
	dir, err := os.MkdirTemp("", "intoto-ci-image-")
	if err != nil {
		return nil, err
	}
	chain := &FetchedChain{Dir: dir}
	var nlinks int
	if chain.Links, chain.Layouts, nlinks, err = got.WriteChain(dir); err != nil {
		return chain, err
	}
	fmt.Fprintf(log, "fetched %d link(s) and %d layout(s) attached to %s\n", nlinks, len(chain.Layouts), img.Ref)
	return chain, nil
}
