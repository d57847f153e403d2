package differential

import (
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// The pools the generator draws from: small, so that names, patterns and digests collide often.
var (
	names = []string{"a", "b", "c.txt", "x", "dir/a", "dir/b.txt", "dir/sub/c", "sub/a", "sub/x", "dirx/a"}
	// hostile names are drawn rarely: a leading '/' or a backslash is where python's MATCH … IN …
	// raises KeyError (docs/divergences.md, "python crashes on MATCH IN with absolute or backslash names").
	hostile  = []string{`dir\a`, `dir/\a`, "dir//a", "/dir/a", "/a", `sub/\x`, "sub//x"}
	patterns = []string{"*", "*", "a", "b", "x", "c.txt", "dir/*", "*.txt", "?", "[ab]", "[!a]*", "d*/*", "dir/sub/*",
		"*/a", "x*", "sub/*", "dir/a", "*a*", "[!d]*"}
	prefixes = []string{"dir", "dir/", "sub", "dir/sub", "dirx"}
	digests  = []string{hexOf('1'), hexOf('2'), hexOf('3')}
)

func hexOf(c byte) string { return strings.Repeat(string(c), 64) }

// genCase is one generated supply chain: the layout's steps and, per step, the links to write.
type genCase struct {
	Seed  uint64
	Steps []*intoto.Step
	// Links maps a step name to the links to write for it: functionary index → link.
	Links map[string]map[int]*intoto.Link
	// Hostile is true when a name with a leading '/' or a backslash was drawn.
	Hostile bool
}

type gen struct {
	r       *rand.Rand
	c       *genCase
	stepIDs []string // the names of all steps (MATCH FROM picks among them, plus one that does not exist)
}

// generate builds case number i of the run seeded with seed; keyIDs are the functionaries' keyids.
func generate(seed, i uint64, keyIDs []string, hostileOdds int) *genCase {
	g := &gen{r: rand.New(rand.NewPCG(seed, i)), c: &genCase{Seed: i, Links: map[string]map[int]*intoto.Link{}}}
	n := 1 + g.r.IntN(4)
	for s := range n {
		g.stepIDs = append(g.stepIDs, fmt.Sprintf("s%d", s))
	}
	world := g.artifacts(nil, 6, hostileOdds)
	for s, name := range g.stepIDs {
		step := &intoto.Step{Type: intoto.TypeStep, Name: name, Threshold: 1, PubKeys: []string{keyIDs[0]},
			ExpectedMaterials: g.rules(s), ExpectedProducts: g.rules(s), ExpectedCommand: []string{}}
		if g.r.IntN(8) == 0 {
			step.PubKeys = append(step.PubKeys, keyIDs[1])
			step.Threshold = 2
		}
		g.c.Steps = append(g.c.Steps, step)
		// Materials come mostly from the world (and so from earlier products), products change some.
		mats := g.artifacts(world, 4, hostileOdds)
		prods := g.artifacts(world, 4, hostileOdds)
		for k, v := range prods {
			world[k] = v
		}
		links := map[int]*intoto.Link{}
		for f := range step.PubKeys {
			if g.r.IntN(40) == 0 {
				continue // a functionary who never ran the step
			}
			l := &intoto.Link{Type: intoto.TypeLink, Name: name, Command: []string{"true"},
				Materials: intoto.NewArtifactSet(clone(mats)), Products: intoto.NewArtifactSet(clone(prods)), ByProducts: map[string]any{}, Environment: map[string]any{}}
			if f > 0 && g.r.IntN(4) == 0 {
				l.Products = intoto.NewArtifactSet(g.artifacts(world, 4, hostileOdds)) // a second functionary that saw something else
			}
			links[f] = l
		}
		g.c.Links[name] = links
	}
	return g.c
}

func clone(a map[string]intoto.Digests) map[string]intoto.Digests {
	out := map[string]intoto.Digests{}
	for k, v := range a {
		out[k] = intoto.Digests{"sha256": v["sha256"]}
	}
	return out
}

// artifacts draws up to max names: from the world with its digest (mostly) or with another digest;
// one name in hostileOdds is a hostile one.
func (g *gen) artifacts(world map[string]intoto.Digests, max, hostileOdds int) map[string]intoto.Digests {
	out := map[string]intoto.Digests{}
	for range g.r.IntN(max + 1) {
		name := names[g.r.IntN(len(names))]
		if g.r.IntN(hostileOdds) == 0 {
			name = hostile[g.r.IntN(len(hostile))]
			g.c.Hostile = true
		}
		d := digests[g.r.IntN(len(digests))]
		if w, ok := world[name]; ok && g.r.IntN(4) != 0 {
			d = w["sha256"]
		}
		out[name] = intoto.Digests{"sha256": d}
	}
	return out
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }

// rules draws a rule list for step number s: 0–5 rules of all seven types.
func (g *gen) rules(s int) []intoto.Rule {
	out := []intoto.Rule{}
	for range g.r.IntN(5) {
		switch g.r.IntN(10) {
		case 0:
			out = append(out, intoto.Rule{"ALLOW", g.pick(patterns)})
		case 1:
			out = append(out, intoto.Rule{"DISALLOW", g.pick(patterns[4:])})
		case 2:
			out = append(out, intoto.Rule{"REQUIRE", g.pick(names)})
		case 3:
			out = append(out, intoto.Rule{"CREATE", g.pick(patterns)})
		case 4:
			out = append(out, intoto.Rule{"DELETE", g.pick(patterns)})
		case 5:
			out = append(out, intoto.Rule{"MODIFY", g.pick(patterns)})
		default:
			r := intoto.Rule{"MATCH", g.pick(patterns)}
			if g.r.IntN(3) == 0 {
				r = append(r, "IN", g.pick(prefixes))
			}
			r = append(r, "WITH", []string{"MATERIALS", "PRODUCTS"}[g.r.IntN(2)])
			if g.r.IntN(3) == 0 {
				r = append(r, "IN", g.pick(prefixes))
			}
			from := g.stepIDs[g.r.IntN(len(g.stepIDs))]
			if g.r.IntN(6) == 0 {
				from = "nostep"
			} else if g.r.IntN(2) == 0 && s > 0 {
				from = g.stepIDs[g.r.IntN(s)] // an earlier step, the usual shape
			}
			out = append(out, append(r, "FROM", from))
		}
	}
	// Most real lists end by refusing the rest; leave it off sometimes so that lists pass too.
	if g.r.IntN(3) == 0 {
		out = append(out, intoto.Rule{"DISALLOW", "*"})
	}
	return out
}
