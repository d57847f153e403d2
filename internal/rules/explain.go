package rules

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Explain says why the MATCH rules of a list did not consume artifacts that a later rule refused:
// for each name (at most max), every MATCH rule whose source side covers it, and what it found at
// the destination — no link for the step, no such artifact, or a different digest. A refusal by
// DISALLOW * after a failed MATCH is the most common refusal there is, and the bare "disallowed
// artifact" does not say which promise the artifact broke. Lines name the artifact, the rule and,
// for digests, both values (shortened). Rules that cannot be parsed are skipped: the caller has the
// refusal already.
func Explain(item *Item, kind Kind, rules []intoto.Rule, links map[string]*Item, names []string, max int) []string {
	var parsed []*Parsed
	for _, r := range rules {
		if p, err := Parse(r); err == nil {
			parsed = append(parsed, p)
		}
	}
	return ExplainParsed(item, kind, parsed, links, names, max)
}

// ExplainParsed is Explain for rules parsed already (ParseAll).
func ExplainParsed(item *Item, kind Kind, parsed []*Parsed, links map[string]*Item, names []string, max int) []string {
	var matches []*Parsed
	for _, p := range parsed {
		if p.Type == Match {
			matches = append(matches, p)
		}
	}
	if len(matches) == 0 {
		return nil
	}
	src := item.Set(kind)
	var out []string
	for _, name := range names {
		if len(out) >= max {
			break
		}
		for _, p := range matches {
			rest := name
			if p.SourcePrefix != "" {
				prefix := normPrefix(p.SourcePrefix)
				if !strings.HasPrefix(name, prefix) {
					continue
				}
				rest = name[len(prefix):]
			}
			if !p.Glob().Match(rest) {
				continue
			}
			dest := rest
			if p.DestPrefix != "" {
				dest = pyJoin(p.DestPrefix, rest)
			}
			other, ok := links[p.DestStep]
			if !ok && p.DestStep == item.Name {
				other = item
			}
			if other == nil {
				out = append(out, fmt.Sprintf("%s: %s: step %q has no link", name, p, p.DestStep))
				continue
			}
			set := other.Set(p.DestKind)
			j, found := set.Index(dest)
			if !found {
				out = append(out, fmt.Sprintf("%s: %s: %q is not among the %s of %q", name, p, dest, p.DestKind, p.DestStep))
				continue
			}
			i, here := src.Index(name)
			if here && !src.Digest(i).Equal(set.Digest(j)) {
				out = append(out, fmt.Sprintf("%s: %s: digest differs from %q in the %s of %q (%s here, %s there)",
					name, p, dest, p.DestKind, p.DestStep, shortDigest(src.Digest(i)), shortDigest(set.Digest(j))))
			}
		}
	}
	return out
}

// shortDigest shows a digest set briefly: each algorithm with the first 12 digits of its value.
func shortDigest(d intoto.Digest) string {
	ds := d.Digests()
	parts := make([]string, 0, len(ds))
	for _, alg := range slices.Sorted(maps.Keys(ds)) {
		v := ds[alg]
		if len(v) > 12 {
			v = v[:12] + "…"
		}
		parts = append(parts, alg+":"+v)
	}
	return strings.Join(parts, " ")
}
