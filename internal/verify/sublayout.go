package verify

import (
	"context"
	"errors"
	"fmt"
	"path"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// ErrSublayout is the sentinel of a refusal because a sublayout did not verify. The Failure's chain
// also holds the sublayout's own Failure.
var ErrSublayout = errors.New("sublayout not verified")

// verifySublayouts verifies every kept link that is a layout, recursively, and replaces it by the
// sublayout's summary link (stage 5, verify_sublayouts in the reference). The sublayout must be signed
// by the functionary that was authorized for the step (its key, or its keyless identity); its links are
// read from <links dir>/<step>.<id8>/ where id8 is the first 8 hex of the keyid (key) or the <id8> of
// the sublayout's file name (keyless). Parameters are not passed down, as in the reference.
func (v *verification) verifySublayouts(ctx context.Context) (*Failure, error) {
	for _, s := range v.layout.Steps {
		for _, k := range v.kept[s.Name] {
			if k.sublayout == nil {
				continue
			}
			if v.depth+1 > v.opts.Limits.MaxDepth {
				return newFailure(ErrSublayout, StageSublayout, s.Name,
					fmt.Sprintf("sublayouts nested deeper than %d", v.opts.Limits.MaxDepth)), nil
			}
			dir := s.Name + "." + k.id8
			if k.key != nil {
				dir = s.Name + "." + shortID(k.functionary)
			}
			sub := v.opts
			sub.LayoutPath = k.file // shown in the report; the bytes below are what is verified
			sub.Layout = k.sublayout
			sub.LayoutKeys, sub.LayoutIdentities = nil, nil
			if k.key != nil {
				sub.LayoutKeys = []*intoto.Key{k.key}
			} else {
				sub.LayoutIdentities = []*intoto.Identity{k.identity}
			}
			sub.LinksDir = filepath.Join(v.opts.LinksDir, dir)
			sub.linksPrefix = path.Join(v.opts.linksPrefix, dir)
			sub.Params = nil
			sub.Logger = v.opts.Logger.With("sublayout", s.Name)
			v.log.Info("verifying sublayout", "step", s.Name, "links", sub.LinksDir)
			res, reduced, err := verifyLayout(ctx, sub, v.depth+1)
			if err != nil {
				return nil, fmt.Errorf("sublayout of step %q (%s): %w", s.Name, k.file, err)
			}
			if sr := v.res.step(KindStep, s.Name); sr != nil {
				sr.Sublayout = res
			}
			if !res.Verified {
				f := newFailure(ErrSublayout, StageSublayout, s.Name,
					fmt.Sprintf("sublayout %s: %s", k.file, res.Failure.Error()), res.Failure)
				f.Signer = k.signer
				return f, nil
			}
			sum := summaryLink(s.Name, stepNames(res), reduced)
			k.link, k.materials, k.products = sum.Link, sum.Materials, sum.Products
			k.subBound, k.subKeyed = res.bound, res.boundKeyed
		}
	}
	return nil, nil
}

// summaryLink is what a verified sublayout stands for in its superlayout (get_summary_link): the
// materials of its first step, the products, byproducts and command of its last step, named after the
// delegated step. A sublayout without steps summarizes to an empty link.
func summaryLink(name string, steps []string, reduced map[string]*Evidence) *Evidence {
	l := &intoto.Link{Type: intoto.TypeLink, Name: name}
	ev := &Evidence{Link: l}
	if len(steps) == 0 {
		return ev
	}
	first, last := reduced[steps[0]], reduced[steps[len(steps)-1]]
	if first != nil {
		ev.Materials = first.Materials
	}
	if last != nil {
		ev.Products = last.Products
		l.ByProducts = last.Link.ByProducts
		l.Command = last.Link.Command
	}
	return ev
}

// shortID is the first 8 hex digits of a keyid, as in link file and sublayout directory names.
func shortID(keyid string) string {
	if len(keyid) > 8 {
		return keyid[:8]
	}
	return keyid
}

// stepNames lists the names of a result's steps (not inspections) in layout order.
func stepNames(r *Result) []string {
	var names []string
	for _, s := range r.Steps {
		if s.Kind == KindStep {
			names = append(names, s.Name)
		}
	}
	return names
}
