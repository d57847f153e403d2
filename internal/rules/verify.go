package rules

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Item is the evidence of one step or inspection: its name and the artifacts it reported.
type Item struct {
	Name      string
	Materials intoto.ArtifactSet
	Products  intoto.ArtifactSet
}

// NewItem returns the item of that name with those artifacts.
func NewItem(name string, materials, products intoto.ArtifactSet) *Item {
	return &Item{Name: name, Materials: materials, Products: products}
}

// Set returns the item's materials or products (empty for a nil item or an invalid kind).
func (it *Item) Set(k Kind) intoto.ArtifactSet {
	switch {
	case it == nil:
		return intoto.ArtifactSet{}
	case k == Materials:
		return it.Materials
	case k == Products:
		return it.Products
	}
	return intoto.ArtifactSet{}
}

// Options tune Verify.
type Options struct {
	// Trace records, per rule, the names consumed and the whole queue after the rule, plus the
	// initial queue, all sorted. It costs a sort of the queue; verify turns it on to explain a
	// refusal. Without it a trace has only counts.
	Trace bool
}

// Trace is what Verify did, rule by rule.
type Trace struct {
	Step string
	Kind Kind
	// Queue is the initial queue (the item's materials or products), sorted. Options.Trace only.
	Queue []string
	// Entries has one entry per rule applied, the refusing rule included; rules after a
	// refusal are not applied.
	Entries []TraceEntry
	// Remaining is the number of names left after the last rule, accepted by the implicit
	// final ALLOW *.
	Remaining int
}

// TraceEntry is one applied rule.
type TraceEntry struct {
	// Index is the rule's position in the list (0-based).
	Index int
	Type  Type
	// Rule is the rule's words joined by spaces.
	Rule string
	// Before and After are the queue sizes around the rule.
	Before, After int
	// Consumed (sorted) and QueueAfter (sorted) are set with Options.Trace only.
	Consumed   []string
	QueueAfter []string
}

// Sentinels a *RuleError unwraps to, one per refusing rule type.
var (
	ErrDisallowed = errors.New("disallowed artifacts")
	ErrRequired   = errors.New("required artifact missing")
)

// RuleError is a refusal: a DISALLOW rule matched queued artifacts, or a REQUIRE rule did not
// find its name in the queue. It unwraps to ErrDisallowed or ErrRequired.
type RuleError struct {
	Step string
	Kind Kind
	// Index is the refusing rule's position in its list (0-based).
	Index int
	Type  Type
	// Rule is the rule's words joined by spaces.
	Rule string
	// Artifacts are the disallowed names (sorted), or the one required name.
	Artifacts []string
	Reason    string
}

const maxNamesInMessage = 10

func (e *RuleError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "step %q expected_%s rule #%d %q: %s", e.Step, e.Kind, e.Index+1, e.Rule, e.Reason)
	if len(e.Artifacts) > 0 {
		b.WriteString(": ")
		for i, a := range e.Artifacts {
			if i == maxNamesInMessage {
				fmt.Fprintf(&b, " and %d more", len(e.Artifacts)-i)
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", a)
		}
	}
	return b.String()
}

// Unwrap returns ErrDisallowed or ErrRequired.
func (e *RuleError) Unwrap() error {
	if e.Type == Require {
		return ErrRequired
	}
	return ErrDisallowed
}

// Verify applies rules, in order, to item's materials (kind Materials, the step's
// expected_materials) or products (kind Products, expected_products), exactly as
// in-toto-python's verify_item_rules does.
//
// links holds the evidence of every step and inspection by name, for MATCH; a missing or nil
// entry means that step has no link, and a MATCH against it consumes nothing. A MATCH FROM the
// item's own name uses links[item.Name], or item itself when links has no such key.
//
// A refusal returns the trace so far and a *RuleError. An invalid rule returns a *ParseError
// (wrapping ErrInvalidRule) before any rule is applied: python rejects such a layout when it
// loads it. Verify is pure and deterministic and never panics.
func Verify(item *Item, kind Kind, rules []intoto.Rule, links map[string]*Item, opts Options) (*Trace, error) {
	if item == nil {
		return nil, errors.New("verify artifact rules: nil item")
	}
	if kind != Materials && kind != Products {
		return nil, fmt.Errorf("verify artifact rules of %q: invalid kind %d", item.Name, int(kind))
	}
	parsed, err := ParseAll(rules)
	if err != nil {
		return nil, fmt.Errorf("step %q expected_%s: %w", item.Name, kind, err)
	}
	return VerifyParsed(item, kind, parsed, links, opts)
}

// VerifyParsed is Verify for rules parsed already (ParseAll), so a caller that checked the grammar
// first parses and compiles each pattern once.
func VerifyParsed(item *Item, kind Kind, parsed []*Parsed, links map[string]*Item, opts Options) (*Trace, error) {
	if item == nil {
		return nil, errors.New("verify artifact rules: nil item")
	}
	if kind != Materials && kind != Products {
		return nil, fmt.Errorf("verify artifact rules of %q: invalid kind %d", item.Name, int(kind))
	}
	v := &verifier{item: item, kind: kind, links: links, trace: opts.Trace}
	v.src = item.Set(kind)
	return v.run(parsed)
}

type verifier struct {
	item  *Item
	kind  Kind
	links map[string]*Item
	trace bool
	src   intoto.ArtifactSet

	queue    []int32  // positions in src, ascending: the queue is always sorted by name
	consumed []string // names consumed by the current rule, Options.Trace only
	buf      []byte
}

func (v *verifier) run(parsed []*Parsed) (*Trace, error) {
	tr := &Trace{Step: v.item.Name, Kind: v.kind, Entries: make([]TraceEntry, 0, len(parsed))}
	v.queue = make([]int32, v.src.Len())
	for i := range v.queue {
		v.queue[i] = int32(i)
	}
	if v.trace {
		tr.Queue = v.names()
	}
	for i, p := range parsed {
		te := TraceEntry{Index: i, Type: p.Type, Rule: p.String(), Before: len(v.queue)}
		v.consumed = v.consumed[:0]
		var refused []string
		switch p.Type {
		case Match:
			v.match(p)
		case Allow:
			v.consume(p.glob, func(int32) bool { return true })
		case Create, Delete, Modify:
			mats, prods := v.item.Materials, v.item.Products
			mc, pc := intoto.NewCursor(mats), intoto.NewCursor(prods)
			typ := p.Type
			v.consume(p.glob, func(e int32) bool {
				name := v.src.Name(int(e))
				mi, inM := mc.Find(name)
				pi, inP := pc.Find(name)
				switch typ {
				case Create:
					return inP && !inM
				case Delete:
					return inM && !inP
				}
				return inM && inP && !mats.Digest(mi).Equal(prods.Digest(pi))
			})
		case Disallow:
			refused = v.matching(p.glob)
		case Require:
			if !v.queued(p.Pattern) {
				refused = []string{p.Pattern}
			}
		}
		te.After = len(v.queue)
		if v.trace {
			slices.Sort(v.consumed) // already sorted except after a MATCH's rare second pass
			te.Consumed = slices.Clone(v.consumed)
			te.QueueAfter = v.names()
		}
		tr.Entries = append(tr.Entries, te)
		if refused != nil {
			tr.Remaining = len(v.queue)
			return tr, v.refusal(i, p, refused)
		}
	}
	tr.Remaining = len(v.queue)
	return tr, nil
}

func (v *verifier) refusal(i int, p *Parsed, names []string) error {
	e := &RuleError{Step: v.item.Name, Kind: v.kind, Index: i, Type: p.Type, Rule: p.String(), Artifacts: names}
	if p.Type == Require {
		e.Reason = "required artifact is not in the queue"
	} else {
		e.Reason = fmt.Sprintf("%d disallowed artifacts", len(names))
		if len(names) == 1 {
			e.Reason = "1 disallowed artifact"
		}
	}
	return e
}

func (v *verifier) names() []string {
	out := make([]string, len(v.queue))
	for i, e := range v.queue {
		out[i] = v.src.Name(int(e))
	}
	return out
}

// consume removes the queued names that match g and satisfy ok, keeping the queue's order.
func (v *verifier) consume(g *Glob, ok func(int32) bool) {
	all := g.MatchesAll()
	w := 0
	for _, e := range v.queue {
		if name := v.src.Name(int(e)); (all || g.Match(name)) && ok(e) {
			if v.trace {
				v.consumed = append(v.consumed, name)
			}
			continue
		}
		v.queue[w] = e
		w++
	}
	v.queue = v.queue[:w]
}

// matching returns the queued names that match g (sorted, as the queue is), or nil.
func (v *verifier) matching(g *Glob) []string {
	if g.MatchesAll() {
		if len(v.queue) == 0 {
			return nil
		}
		return v.names()
	}
	var out []string
	for _, e := range v.queue {
		if name := v.src.Name(int(e)); g.Match(name) {
			out = append(out, name)
		}
	}
	return out
}

func (v *verifier) queued(name string) bool {
	i, ok := v.src.Index(name)
	if !ok {
		return false
	}
	_, ok = slices.BinarySearch(v.queue, int32(i))
	return ok
}

// normPrefix is python's os.path.join(prefix, "").replace("\\", "/").
func normPrefix(prefix string) string {
	if !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return strings.ReplaceAll(prefix, `\`, "/")
}

// pyJoin is python's os.path.join(prefix, path).replace("\\", "/") on POSIX, prefix non-empty.
func pyJoin(prefix, path string) string {
	var s string
	switch {
	case strings.HasPrefix(path, "/"):
		s = path
	case strings.HasSuffix(prefix, "/"):
		s = prefix + path
	default:
		s = prefix + "/" + path
	}
	return strings.ReplaceAll(s, `\`, "/")
}

// plainPath reports whether joining path to a prefix is plain concatenation with the
// normalized prefix (no leading '/', no backslash to rewrite).
func plainPath(path string) bool {
	return !strings.HasPrefix(path, "/") && strings.IndexByte(path, '\\') < 0
}

// match applies a MATCH rule (python verify_match_rule): a queued name is consumed when it is
// under the source prefix, the rest of it (path) matches the pattern, and the destination
// step's artifact at dest-prefix/path has exactly the same digests. Destination lookups are map
// lookups; the queue is scanned once.
func (v *verifier) match(p *Parsed) {
	dest, ok := v.links[p.DestStep]
	if !ok && p.DestStep == v.item.Name {
		dest = v.item
	}
	if dest == nil {
		return // no link for that step: consumes nothing
	}
	dst := dest.Set(p.DestKind)
	if dst.Len() == 0 {
		return
	}
	// Queued names come in ascending order, and so do their destination names when the prefixes
	// are plain: the cursor makes the lookups a merge.
	cur := intoto.NewCursor(dst)
	var srcNorm, dstNorm string
	if p.SourcePrefix != "" {
		srcNorm = normPrefix(p.SourcePrefix)
	}
	if p.DestPrefix != "" {
		dstNorm = normPrefix(p.DestPrefix)
	}
	all := p.glob.MatchesAll()
	// Python looks the source artifact up again under os.path.join(source_prefix, path) with
	// backslashes rewritten; that name can differ from the queued one (a path starting with
	// '/' or containing '\'). Python then compares and consumes that other name, or raises
	// KeyError if it does not exist; here it is consumed in a second pass, or nothing is.
	var other map[string]struct{}
	w := 0
	for _, e := range v.queue {
		name := v.src.Name(int(e))
		path := name
		if srcNorm != "" {
			if !strings.HasPrefix(path, srcNorm) {
				v.queue[w] = e
				w++
				continue
			}
			path = path[len(srcNorm):]
		}
		if !all && !p.glob.Match(path) {
			v.queue[w] = e
			w++
			continue
		}
		srcName, srcDig := name, v.src.Digest(int(e))
		if p.SourcePrefix != "" && !plainPath(path) {
			srcName = pyJoin(p.SourcePrefix, path)
			i, ok := v.src.Index(srcName)
			if !ok {
				v.queue[w] = e
				w++
				continue
			}
			srcDig = v.src.Digest(i)
		}
		var di int
		switch {
		case p.DestPrefix == "":
			di, ok = cur.Find(path)
		case plainPath(path):
			v.buf = append(append(v.buf[:0], dstNorm...), path...)
			di, ok = cur.FindBytes(v.buf)
		default:
			di, ok = cur.Find(pyJoin(p.DestPrefix, path))
		}
		if !ok || !srcDig.Equal(dst.Digest(di)) {
			v.queue[w] = e
			w++
			continue
		}
		if srcName != name {
			if other == nil {
				other = map[string]struct{}{}
			}
			other[srcName] = struct{}{}
			v.queue[w] = e
			w++
			continue
		}
		if v.trace {
			v.consumed = append(v.consumed, name)
		}
	}
	v.queue = v.queue[:w]
	if len(other) > 0 {
		v.consume(CompileGlob("*"), func(e int32) bool {
			_, hit := other[v.src.Name(int(e))]
			return hit
		})
	}
}
