package verify

import (
	"errors"
	"fmt"
	"strings"
)

// StageImage is where a passed verification is refused because the image it was asked about is not
// a product of the chain (verify --image): links attached to an image say nothing about it unless the
// chain produced it.
const StageImage Stage = "image"

// ErrNotProduced is the sentinel of a refusal at StageImage.
var ErrNotProduced = errors.New("not a product of the chain")

// ErrNoSuchStep is returned when a caller names a step the layout does not have, or needs a step and
// the layout has none.
var ErrNoSuchStep = errors.New("no such step")

// ErrSublayoutLinks is returned by LinkFiles when a step is a sublayout: its links sit in a directory
// of their own and are not listed.
var ErrSublayoutLinks = errors.New("sublayout links are not listed")

// ProducerStep returns step when the layout has a step of that name, else (step "") the layout's last
// step. An unknown step, or a layout without steps, is ErrNoSuchStep.
func (r *Result) ProducerStep(step string) (string, error) {
	last := ""
	for _, s := range r.Steps {
		if s.Kind == KindStep {
			last = s.Name
			if s.Name == step {
				return s.Name, nil
			}
		}
	}
	if step != "" {
		return "", fmt.Errorf("%q: the layout has %w", step, ErrNoSuchStep)
	}
	if last == "" {
		return "", fmt.Errorf("the layout has no step that could have produced it: %w", ErrNoSuchStep)
	}
	return last, nil
}

// RequireProduct checks that a product of step has digest (algorithm:hex) and returns its name. If none
// has, a pass becomes a refusal at StageImage and RequireProduct returns "". A refused result is left
// as it is.
func (r *Result) RequireProduct(step, digest string) string {
	if !r.Verified {
		return ""
	}
	alg, hex, _ := strings.Cut(digest, ":")
	if ev := r.Evidence[step]; ev != nil && hex != "" {
		for i := range ev.Products.Len() {
			if ev.Products.Digest(i).Digests()[alg] == hex {
				return ev.Products.Name(i)
			}
		}
	}
	r.Verified = false
	r.Failure = newFailure(ErrNotProduced, StageImage, step,
		fmt.Sprintf("image %s is not a product of step %s: none of its products has that digest", digest, step))
	return ""
}

// LinkFiles lists the link files the verification accepted for the layout's steps, relative to the
// links directory, in step order. A step that is a sublayout is ErrSublayoutLinks.
func (r *Result) LinkFiles() ([]string, error) {
	var out []string
	for _, s := range r.Steps {
		if s.Kind != KindStep {
			continue
		}
		for _, l := range s.Links {
			if l.Layout || strings.Contains(l.File, "/") {
				return nil, fmt.Errorf("step %s is a sublayout: %w", s.Name, ErrSublayoutLinks)
			}
			out = append(out, l.File)
		}
	}
	return out, nil
}
