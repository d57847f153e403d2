package verify

import (
	"errors"
	"fmt"
	"slices"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// ErrThreshold is the sentinel of a refusal because a step has fewer links from distinct authorized
// functionaries than its threshold.
var ErrThreshold = errors.New("threshold not met")

// ErrInconsistentLinks is the sentinel of a refusal because the links of one step disagree on their
// materials or products.
var ErrInconsistentLinks = errors.New("links of a step disagree")

// checkThresholds refuses the first step (in layout order) with fewer distinct functionaries than its
// threshold (the end of stage 4, verify_link_signature_thresholds in the reference).
func (v *verification) checkThresholds() *Failure {
	for _, s := range v.layout.Steps {
		n := len(v.kept[s.Name])
		if n >= s.Threshold {
			continue
		}
		f := newFailure(ErrThreshold, StageThreshold, s.Name, fmt.Sprintf(
			"step %q requires %d link(s) validly signed by distinct authorized functionaries, found %d",
			s.Name, s.Threshold, n))
		if sr := v.res.step(KindStep, s.Name); sr != nil && len(sr.Rejected) > 0 {
			f.Signer = sr.Rejected[0].Signer
		}
		return f
	}
	return nil
}

// checkCommands warns for every kept link whose command differs from the step's expected command
// (stage 6; the reference only warns). An empty expected command means the layout does not care, and
// stays silent: the reference warns there too, which trains people to ignore the warning.
func (v *verification) checkCommands() {
	for _, s := range v.layout.Steps {
		if len(s.ExpectedCommand) == 0 {
			continue
		}
		for _, k := range v.kept[s.Name] {
			if slices.Equal(nonNil(k.link.Command), nonNil(s.ExpectedCommand)) {
				continue
			}
			v.warn("step %q: %s: command %q differs from expected command %q",
				s.Name, k.file, k.link.Command, s.ExpectedCommand)
		}
	}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// checkConsistency refuses a step whose kept links report different materials or products (stage 7).
// The reference checks this only for thresholds above 1 and otherwise uses one link; intoto-ci
// compares every kept link, so the link used by the rules never depends on file order.
func (v *verification) checkConsistency() *Failure {
	for _, s := range v.layout.Steps {
		links := v.kept[s.Name]
		if len(links) < 2 {
			continue
		}
		ref := links[0]
		for _, k := range links[1:] {
			diff := append(artifactDiff("materials", ref.materials, k.materials),
				artifactDiff("products", ref.products, k.products)...)
			if len(diff) == 0 {
				continue
			}
			f := newFailure(ErrInconsistentLinks, StageConsistency, s.Name, fmt.Sprintf(
				"links %s (%s) and %s (%s) have different artifacts", ref.file, ref.functionary, k.file, k.functionary))
			f.Artifacts = diff
			f.Signer = k.signer
			return f
		}
	}
	return nil
}

// artifactDiff lists "kind:name" for every artifact present in one map only or with other digests.
func artifactDiff(kind string, a, b intoto.ArtifactSet) []string {
	var out []string
	i, j := 0, 0
	for i < a.Len() || j < b.Len() {
		switch {
		case j == b.Len() || i < a.Len() && a.Name(i) < b.Name(j):
			out = append(out, kind+":"+a.Name(i))
			i++
		case i == a.Len() || b.Name(j) < a.Name(i):
			out = append(out, kind+":"+b.Name(j))
			j++
		default:
			if !a.Digest(i).Equal(b.Digest(j)) {
				out = append(out, kind+":"+a.Name(i))
			}
			i++
			j++
		}
	}
	return out
}

// reduce keeps one link per step for the rules (reduce_chain_links); all of them agree by now.
// A step without any link (threshold 0) gets an empty link, so its own rules see no artifacts.
func (v *verification) reduce() {
	v.reduced = map[string]*Evidence{}
	for _, s := range v.layout.Steps {
		if links := v.kept[s.Name]; len(links) > 0 {
			k := links[0]
			v.reduced[s.Name] = &Evidence{Link: k.link, Materials: k.materials, Products: k.products}
			continue
		}
		v.reduced[s.Name] = newEvidence(&intoto.Link{Type: intoto.TypeLink, Name: s.Name,
			Materials: intoto.ArtifactSet{}, Products: intoto.ArtifactSet{}})
	}
}
