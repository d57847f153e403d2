package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rule    intoto.Rule
		want    *Parsed
		wantErr string // substring of the error; "" means success
	}{
		{"allow", intoto.Rule{"ALLOW", "*"}, &Parsed{Type: Allow, Pattern: "*"}, ""},
		{"lower case verb", intoto.Rule{"disallow", "x"}, &Parsed{Type: Disallow, Pattern: "x"}, ""},
		{"mixed case verb", intoto.Rule{"CrEaTe", "x"}, &Parsed{Type: Create, Pattern: "x"}, ""},
		{"delete", intoto.Rule{"DELETE", "x"}, &Parsed{Type: Delete, Pattern: "x"}, ""},
		{"modify", intoto.Rule{"MODIFY", "x"}, &Parsed{Type: Modify, Pattern: "x"}, ""},
		{"require", intoto.Rule{"REQUIRE", "a/*"}, &Parsed{Type: Require, Pattern: "a/*"}, ""},
		{"empty pattern", intoto.Rule{"ALLOW", ""}, &Parsed{Type: Allow, Pattern: ""}, ""},
		{"match", intoto.Rule{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"},
			&Parsed{Type: Match, Pattern: "*", DestKind: Products, DestStep: "build"}, ""},
		{"match lower case", intoto.Rule{"match", "*", "with", "materials", "from", "Build"},
			&Parsed{Type: Match, Pattern: "*", DestKind: Materials, DestStep: "Build"}, ""},
		{"match source prefix", intoto.Rule{"MATCH", "*", "IN", "Src", "WITH", "PRODUCTS", "FROM", "b"},
			&Parsed{Type: Match, Pattern: "*", SourcePrefix: "Src", DestKind: Products, DestStep: "b"}, ""},
		{"match destination prefix", intoto.Rule{"MATCH", "*", "WITH", "PRODUCTS", "IN", "Out", "FROM", "b"},
			&Parsed{Type: Match, Pattern: "*", DestPrefix: "Out", DestKind: Products, DestStep: "b"}, ""},
		{"match both prefixes", intoto.Rule{"MATCH", "*", "IN", "s", "WITH", "MATERIALS", "IN", "d", "FROM", "b"},
			&Parsed{Type: Match, Pattern: "*", SourcePrefix: "s", DestPrefix: "d", DestKind: Materials, DestStep: "b"}, ""},
		{"match keyword as pattern", intoto.Rule{"MATCH", "IN", "WITH", "PRODUCTS", "FROM", "x"},
			&Parsed{Type: Match, Pattern: "IN", DestKind: Products, DestStep: "x"}, ""},
		{"match empty step", intoto.Rule{"MATCH", "*", "WITH", "PRODUCTS", "FROM", ""},
			&Parsed{Type: Match, Pattern: "*", DestKind: Products}, ""},

		{"empty", intoto.Rule{}, nil, "empty rule"},
		{"verb only", intoto.Rule{"ALLOW"}, nil, "needs a type and a pattern"},
		{"unknown verb", intoto.Rule{"PERMIT", "*"}, nil, `unknown rule type "PERMIT"`},
		{"verb with space", intoto.Rule{"ALLOW ", "*"}, nil, "unknown rule type"},
		{"generic arity", intoto.Rule{"ALLOW", "a", "b"}, nil, "ALLOW takes exactly one argument"},
		{"require arity", intoto.Rule{"REQUIRE", "a", "b"}, nil, "REQUIRE takes exactly one argument: REQUIRE <name>"},
		{"match too short", intoto.Rule{"MATCH", "*"}, nil, "want MATCH <pattern>"},
		{"match no from step", intoto.Rule{"MATCH", "*", "WITH", "PRODUCTS", "FROM"}, nil, "want MATCH"},
		{"match extra word", intoto.Rule{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "x", "y"}, nil, "want MATCH"},
		{"match keywords out of order", intoto.Rule{"MATCH", "*", "FROM", "x", "WITH", "PRODUCTS"}, nil, "want MATCH"},
		{"match bad destination type", intoto.Rule{"MATCH", "*", "WITH", "ARTIFACTS", "FROM", "x"}, nil,
			`destination must be MATERIALS or PRODUCTS, got "ARTIFACTS"`},
		{"match keyword in destination slot", intoto.Rule{"MATCH", "*", "IN", "with", "WITH", "in", "FROM", "x"}, nil,
			`got "in"`},
		{"non-ascii keyword", intoto.Rule{"MATCH", "*", "İN", "s", "WITH", "PRODUCTS", "FROM", "x"}, nil, "want MATCH"},
		{"unicode fold is not lowering", intoto.Rule{"MATCH", "*", "WITH", "PRODUCTſ", "FROM", "x"}, nil, "MATERIALS or PRODUCTS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := Parse(tt.rule)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want one containing %q", tt.rule, err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalidRule) {
					t.Errorf("Parse(%q) error %v does not wrap ErrInvalidRule", tt.rule, err)
				}
				var pe *ParseError
				if !errors.As(err, &pe) || pe.Index != -1 {
					t.Errorf("Parse(%q) error %#v, want a *ParseError with index -1", tt.rule, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.rule, err)
			}
			tt.want.Rule = tt.rule
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(Parsed{})); diff != "" {
				t.Errorf("Parse(%q) mismatch (-want +got):\n%s", tt.rule, diff)
			}
			if (got.Type == Require) != (got.Glob() == nil) {
				t.Errorf("Parse(%q).Glob() = %v", tt.rule, got.Glob())
			}
		})
	}
}

func TestParseAllIndex(t *testing.T) {
	t.Parallel()
	_, err := ParseAll([]intoto.Rule{{"ALLOW", "*"}, {"ALLOW"}})
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Index != 1 {
		t.Fatalf("ParseAll error = %v, want a *ParseError at index 1", err)
	}
	if want := `invalid artifact rule #2 "ALLOW": a rule needs a type and a pattern`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// TestParsePython checks acceptance against in_toto.rulelib.unpack_rule (testdata/gen.py).
func TestParsePython(t *testing.T) {
	t.Parallel()
	var cases []struct {
		Rule intoto.Rule
		OK   bool
	}
	readJSON(t, "testdata/parse.json", &cases)
	for _, c := range cases {
		if _, err := Parse(c.Rule); (err == nil) != c.OK {
			t.Errorf("Parse(%q) error = %v, python accepts: %v", c.Rule, err, c.OK)
		}
	}
}

// FuzzParse feeds rules as newline-separated words. Parse must never panic, must agree with a
// plain restatement of the grammar, and an accepted rule must round-trip through pack.
func FuzzParse(f *testing.F) {
	var cases []struct{ Rule intoto.Rule }
	readJSON(f, "testdata/parse.json", &cases)
	for _, c := range cases {
		f.Add(strings.Join(c.Rule, "\n"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		var r intoto.Rule
		if s != "" {
			r = strings.Split(s, "\n")
		}
		p, err := Parse(r)
		if err != nil {
			if !errors.Is(err, ErrInvalidRule) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrInvalidRule", r, err)
			}
			if refUnpack(r) {
				t.Fatalf("Parse(%q) = %v, reference grammar accepts it", r, err)
			}
			return
		}
		if !refUnpack(r) {
			t.Fatalf("Parse(%q) accepted, reference grammar rejects it", r)
		}
		q, err := Parse(pack(p))
		if err != nil {
			t.Fatalf("Parse(pack(%q)) = %v", r, err)
		}
		if diff := cmp.Diff(p, q, cmpopts.IgnoreUnexported(Parsed{}), cmpopts.IgnoreFields(Parsed{}, "Rule")); diff != "" {
			t.Fatalf("round trip of %q (-first +second):\n%s", r, diff)
		}
	})
}

// refUnpack restates python's unpack_rule acceptance with python's lower() on the words.
func refUnpack(r intoto.Rule) bool {
	lw := make([]string, len(r))
	for i, w := range r {
		lw[i] = asciiLower(w)
	}
	if len(r) < 2 {
		return false
	}
	switch lw[0] {
	case "create", "modify", "delete", "allow", "disallow", "require":
		return len(r) == 2
	case "match":
	default:
		return false
	}
	var dt string
	switch {
	case len(r) == 10 && lw[2] == "in" && lw[4] == "with" && lw[6] == "in" && lw[8] == "from":
		dt = lw[5]
	case len(r) == 8 && lw[2] == "in" && lw[4] == "with" && lw[6] == "from":
		dt = lw[5]
	case len(r) == 8 && lw[2] == "with" && lw[4] == "in" && lw[6] == "from":
		dt = lw[3]
	case len(r) == 6 && lw[2] == "with" && lw[4] == "from":
		dt = lw[3]
	default:
		return false
	}
	return dt == "materials" || dt == "products"
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// pack is python's rulelib.pack_rule.
func pack(p *Parsed) intoto.Rule {
	if p.Type != Match {
		return intoto.Rule{p.Type.String(), p.Pattern}
	}
	r := intoto.Rule{"MATCH", p.Pattern}
	if p.SourcePrefix != "" {
		r = append(r, "IN", p.SourcePrefix)
	}
	r = append(r, "WITH", strings.ToUpper(p.DestKind.String()))
	if p.DestPrefix != "" {
		r = append(r, "IN", p.DestPrefix)
	}
	return append(r, "FROM", p.DestStep)
}
