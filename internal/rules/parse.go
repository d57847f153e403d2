package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Kind selects an item's materials or products.
type Kind int

// The zero Kind is invalid so that a forgotten field is an error, not silently materials.
const (
	Materials Kind = iota + 1
	Products
)

// String returns "materials" or "products".
func (k Kind) String() string {
	switch k {
	case Materials:
		return "materials"
	case Products:
		return "products"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

// Type is the verb of a rule.
type Type int

// The seven rule types.
const (
	Match Type = iota + 1
	Allow
	Disallow
	Require
	Create
	Delete
	Modify
)

var typeNames = [...]string{Match: "MATCH", Allow: "ALLOW", Disallow: "DISALLOW", Require: "REQUIRE",
	Create: "CREATE", Delete: "DELETE", Modify: "MODIFY"}

// String returns the keyword in upper case.
func (t Type) String() string {
	if t >= Match && t <= Modify {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", int(t))
}

// ErrInvalidRule is wrapped by every *ParseError.
var ErrInvalidRule = errors.New("invalid artifact rule")

// ParseError reports a rule that does not have one of the seven forms.
type ParseError struct {
	Rule intoto.Rule
	// Index is the rule's position in its list when known (Verify), else -1.
	Index  int
	Reason string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString("invalid artifact rule")
	if e.Index >= 0 {
		fmt.Fprintf(&b, " #%d", e.Index+1)
	}
	fmt.Fprintf(&b, " %q: %s", strings.Join(e.Rule, " "), e.Reason)
	return b.String()
}

// Unwrap returns ErrInvalidRule.
func (e *ParseError) Unwrap() error { return ErrInvalidRule }

// Parsed is a rule split into its parts, with its pattern compiled.
type Parsed struct {
	Type Type
	// Pattern is the glob (for REQUIRE: a literal name) as written.
	Pattern string
	// MATCH only. Empty prefixes mean none (as in python, "IN ''" is no prefix).
	SourcePrefix string
	DestKind     Kind
	DestPrefix   string
	DestStep     string
	// Rule is the rule as written.
	Rule intoto.Rule

	glob *Glob
}

// String returns the rule's words joined by spaces, as python prints rules.
func (p *Parsed) String() string { return strings.Join(p.Rule, " ") }

// Glob returns the compiled pattern (nil for REQUIRE, whose pattern is a literal name).
func (p *Parsed) Glob() *Glob { return p.glob }

const matchForm = "MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>"

// Parse checks one rule against the grammar of in-toto-python's rulelib.unpack_rule:
//
//	CREATE|DELETE|MODIFY|ALLOW|DISALLOW <pattern>
//	REQUIRE <name>
//	MATCH <pattern> [IN <source-path-prefix>] WITH (MATERIALS|PRODUCTS) [IN <destination-path-prefix>] FROM <step>
//
// Keywords (the verb, IN, WITH, FROM, MATERIALS, PRODUCTS) are matched case-insensitively;
// every other word is kept as written. Only the word positions decide what a word is, so
// "MATCH IN WITH PRODUCTS FROM x" is a MATCH of the pattern "IN".
func Parse(r intoto.Rule) (*Parsed, error) {
	fail := func(format string, a ...any) (*Parsed, error) {
		return nil, &ParseError{Rule: r, Index: -1, Reason: fmt.Sprintf(format, a...)}
	}
	if len(r) < 2 {
		if len(r) == 0 {
			return fail("empty rule")
		}
		return fail("a rule needs a type and a pattern")
	}
	t, ok := parseType(r[0])
	if !ok {
		return fail("unknown rule type %q: want one of MATCH, ALLOW, DISALLOW, REQUIRE, CREATE, DELETE, MODIFY", r[0])
	}
	p := &Parsed{Type: t, Pattern: r[1], Rule: r}
	if t != Match {
		if len(r) != 2 {
			what := "<pattern>"
			if t == Require {
				what = "<name>"
			}
			return fail("%s takes exactly one argument: %s %s (got %d words)", t, t, what, len(r))
		}
		if t != Require {
			p.glob = CompileGlob(p.Pattern)
		}
		return p, nil
	}

	var destType string
	switch {
	case len(r) == 10 && keyword(r[2], "in") && keyword(r[4], "with") && keyword(r[6], "in") && keyword(r[8], "from"):
		p.SourcePrefix, destType, p.DestPrefix, p.DestStep = r[3], r[5], r[7], r[9]
	case len(r) == 8 && keyword(r[2], "in") && keyword(r[4], "with") && keyword(r[6], "from"):
		p.SourcePrefix, destType, p.DestStep = r[3], r[5], r[7]
	case len(r) == 8 && keyword(r[2], "with") && keyword(r[4], "in") && keyword(r[6], "from"):
		destType, p.DestPrefix, p.DestStep = r[3], r[5], r[7]
	case len(r) == 6 && keyword(r[2], "with") && keyword(r[4], "from"):
		destType, p.DestStep = r[3], r[5]
	default:
		return fail("want %s", matchForm)
	}
	switch {
	case keyword(destType, "materials"):
		p.DestKind = Materials
	case keyword(destType, "products"):
		p.DestKind = Products
	default:
		return fail("MATCH destination must be MATERIALS or PRODUCTS, got %q", destType)
	}
	p.glob = CompileGlob(p.Pattern)
	return p, nil
}

// ParseAll parses a rule list; a *ParseError carries the failing rule's index.
func ParseAll(rs []intoto.Rule) ([]*Parsed, error) {
	out := make([]*Parsed, 0, len(rs))
	for i, r := range rs {
		p, err := Parse(r)
		if err != nil {
			var pe *ParseError
			if errors.As(err, &pe) {
				pe.Index = i
			}
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parseType(w string) (Type, bool) {
	for t := Match; t <= Modify; t++ {
		if keyword(w, typeNames[t]) {
			return t, true
		}
	}
	return 0, false
}

// keyword compares w with kw ignoring ASCII case only. Python compares str.lower(), and the
// only non-ASCII character it lowers to ASCII is the Kelvin sign (to 'k'), which no keyword
// contains; unicode case folding (strings.EqualFold) would wrongly accept 'ſ' for 's'.
func keyword(w, kw string) bool {
	if len(w) != len(kw) {
		return false
	}
	for i := 0; i < len(w); i++ {
		a, b := w[i], kw[i]
		if 'A' <= a && a <= 'Z' {
			a += 'a' - 'A'
		}
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if a != b {
			return false
		}
	}
	return true
}
