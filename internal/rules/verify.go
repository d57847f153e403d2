package rules

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Item is the evidence of one step or inspection: its name and the artifacts it reported.
type Item struct {
	Name      string
	Materials intoto.Artifacts
	Products  intoto.Artifacts
}

// Artifacts returns the item's materials or products (nil for a nil item or an invalid kind).
func (it *Item) Artifacts(k Kind) intoto.Artifacts {
	if it == nil {
		return nil
	}
	switch k {
	case Materials:
		return it.Materials
	case Products:
		return it.Products
	}
	return nil
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

type entry struct {
	name string
	dig  intoto.Digests
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
	v := &verifier{item: item, kind: kind, links: links, trace: opts.Trace, src: item.Artifacts(kind)}
	return v.run(parsed)
}

type verifier struct {
	item  *Item
	kind  Kind
	links map[string]*Item
	trace bool
	src   intoto.Artifacts

	queue    []entry
	consumed []string // names consumed by the current rule, Options.Trace only
	buf      []byte
}

func (v *verifier) run(parsed []*Parsed) (*Trace, error) {
	tr := &Trace{Step: v.item.Name, Kind: v.kind, Entries: make([]TraceEntry, 0, len(parsed))}
	v.queue = make([]entry, 0, len(v.src))
	for name, dig := range v.src {
		v.queue = append(v.queue, entry{name, dig})
	}
	if v.trace {
		// Sorted once; every later pass keeps the order, so consumed lists come out sorted.
		slices.SortFunc(v.queue, func(a, b entry) int { return strings.Compare(a.name, b.name) })
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
			v.consume(p.glob, func(entry) bool { return true })
		case Create:
			v.consume(p.glob, func(e entry) bool {
				_, inM := v.item.Materials[e.name]
				_, inP := v.item.Products[e.name]
				return inP && !inM
			})
		case Delete:
			v.consume(p.glob, func(e entry) bool {
				_, inM := v.item.Materials[e.name]
				_, inP := v.item.Products[e.name]
				return inM && !inP
			})
		case Modify:
			v.consume(p.glob, func(e entry) bool {
				m, inM := v.item.Materials[e.name]
				pr, inP := v.item.Products[e.name]
				return inM && inP && !digestsEqual(m, pr)
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
		out[i] = e.name
	}
	return out
}

// consume removes the queued names that match g and satisfy ok, keeping the queue's order.
func (v *verifier) consume(g *Glob, ok func(entry) bool) {
	all := g.MatchesAll()
	w := 0
	for _, e := range v.queue {
		if (all || g.Match(e.name)) && ok(e) {
			if v.trace {
				v.consumed = append(v.consumed, e.name)
			}
			continue
		}
		v.queue[w] = e
		w++
	}
	clear(v.queue[w:])
	v.queue = v.queue[:w]
}

// matching returns the sorted queued names that match g, or nil.
func (v *verifier) matching(g *Glob) []string {
	var out []string
	if g.MatchesAll() {
		if len(v.queue) == 0 {
			return nil
		}
		out = v.names()
	} else {
		for _, e := range v.queue {
			if g.Match(e.name) {
				out = append(out, e.name)
			}
		}
	}
	slices.Sort(out)
	return out
}

func (v *verifier) queued(name string) bool {
	for _, e := range v.queue {
		if e.name == name {
			return true
		}
	}
	return false
}

// digestsEqual is python's dict equality of two digest sets: the same algorithms with the
// same (case-sensitive) values. The usual single-algorithm case avoids hashing.
func digestsEqual(a, b intoto.Digests) bool {
	if len(a) != len(b) {
		return false
	}
	if len(a) == 1 {
		for ka, va := range a {
			for kb, vb := range b {
				return va == vb && ka == kb
			}
		}
	}
	return maps.Equal(a, b)
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
	dst := dest.Artifacts(p.DestKind)
	if len(dst) == 0 {
		return
	}
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
		path := e.name
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
		srcName, srcDig := e.name, e.dig
		if p.SourcePrefix != "" && !plainPath(path) {
			srcName = pyJoin(p.SourcePrefix, path)
			srcDig, ok = v.src[srcName]
			if !ok {
				v.queue[w] = e
				w++
				continue
			}
		}
		var d intoto.Digests
		switch {
		case p.DestPrefix == "":
			d, ok = dst[path]
		case plainPath(path):
			v.buf = append(append(v.buf[:0], dstNorm...), path...)
			d, ok = dst[string(v.buf)]
		default:
			d, ok = dst[pyJoin(p.DestPrefix, path)]
		}
		if !ok || !digestsEqual(srcDig, d) {
			v.queue[w] = e
			w++
			continue
		}
		if srcName != e.name {
			if other == nil {
				other = map[string]struct{}{}
			}
			other[srcName] = struct{}{}
			v.queue[w] = e
			w++
			continue
		}
		if v.trace {
			v.consumed = append(v.consumed, e.name)
		}
	}
	clear(v.queue[w:])
	v.queue = v.queue[:w]
	if len(other) > 0 {
		v.consume(CompileGlob("*"), func(e entry) bool {
			_, hit := other[e.name]
			return hit
		})
	}
}
