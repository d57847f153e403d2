package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

var (
	h1 = intoto.Digests{"sha256": "aa"}
	h2 = intoto.Digests{"sha256": "bb"}
	h3 = intoto.Digests{"sha256": "aa", "sha512": "cc"}
)

func arts(kv ...any) intoto.ArtifactSet {
	a := map[string]intoto.Digests{}
	for i := 0; i+1 < len(kv); i += 2 {
		a[kv[i].(string)] = kv[i+1].(intoto.Digests)
	}
	return intoto.NewArtifactSet(a)
}

func rules(rs ...string) []intoto.Rule {
	out := make([]intoto.Rule, len(rs))
	for i, r := range rs {
		out[i] = strings.Fields(r)
	}
	return out
}

func TestVerify(t *testing.T) {
	t.Parallel()
	build := &Item{Name: "build",
		Materials: arts("src/a.go", h1, "src/b.go", h1),
		Products:  arts("a", h1, "b", h2, "out/a", h1, "out/x/c", h1, "multi", h3, "a\\b", h1)}
	links := map[string]*Item{"build": build, "nolink": nil}
	tests := []struct {
		name  string
		item  *Item
		kind  Kind
		rules []intoto.Rule
		// want is the sorted queue after every rule; refused is "", "disallow" or "require".
		want    [][]string
		refused string
		errArts []string
	}{
		{name: "allow", kind: Products, item: &Item{Products: arts("a", h1, "b", h1)},
			rules: rules("ALLOW a"), want: [][]string{{"b"}}},
		{name: "allow star consumes all", kind: Products, item: &Item{Products: arts("a", h1, "x/y/z", h1)},
			rules: rules("ALLOW *", "DISALLOW *"), want: [][]string{{}, {}}},
		{name: "implicit final allow", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: nil, want: nil},
		{name: "disallow refuses", kind: Products, item: &Item{Products: arts("a.go", h1, "b", h1, "c", h1)},
			rules: rules("ALLOW *.go", "DISALLOW *"), want: [][]string{{"b", "c"}, {"b", "c"}},
			refused: "disallow", errArts: []string{"b", "c"}},
		{name: "disallow passes on empty queue", kind: Materials, item: &Item{},
			rules: rules("DISALLOW *"), want: [][]string{{}}},
		{name: "disallow pattern only", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: rules("DISALLOW b"), want: [][]string{{"a"}}},
		{name: "rules after refusal not applied", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: rules("DISALLOW a", "ALLOW a"), want: [][]string{{"a"}}, refused: "disallow", errArts: []string{"a"}},
		{name: "require present", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: rules("REQUIRE a"), want: [][]string{{"a"}}},
		{name: "require missing", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: rules("REQUIRE b"), want: [][]string{{"a"}}, refused: "require", errArts: []string{"b"}},
		{name: "require is literal", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: rules("REQUIRE *"), want: [][]string{{"a"}}, refused: "require", errArts: []string{"*"}},
		{name: "require after consumption", kind: Products, item: &Item{Products: arts("a", h1)},
			rules: rules("ALLOW a", "REQUIRE a"), want: [][]string{{}, {}}, refused: "require", errArts: []string{"a"}},
		{name: "create consumes new products", kind: Products,
			item:  &Item{Materials: arts("old", h1), Products: arts("old", h1, "new", h1)},
			rules: rules("CREATE *"), want: [][]string{{"old"}}},
		{name: "create consumes nothing in materials", kind: Materials,
			item:  &Item{Materials: arts("a", h1), Products: arts("a", h1, "b", h1)},
			rules: rules("CREATE *"), want: [][]string{{"a"}}},
		{name: "delete consumes removed materials", kind: Materials,
			item:  &Item{Materials: arts("gone", h1, "kept", h1), Products: arts("kept", h2)},
			rules: rules("DELETE *"), want: [][]string{{"kept"}}},
		{name: "delete consumes nothing in products", kind: Products,
			item:  &Item{Materials: arts("gone", h1), Products: arts("kept", h1)},
			rules: rules("DELETE *"), want: [][]string{{"kept"}}},
		{name: "modify consumes changed", kind: Products,
			item:  &Item{Materials: arts("m", h1, "s", h1), Products: arts("m", h2, "s", h1, "n", h1)},
			rules: rules("MODIFY *"), want: [][]string{{"n", "s"}}},
		{name: "modify extra algorithm is a change", kind: Materials,
			item:  &Item{Materials: arts("m", h1), Products: arts("m", h3)},
			rules: rules("MODIFY *"), want: [][]string{{}}},
		{name: "match", kind: Materials, item: &Item{Materials: arts("a", h1, "b", h1, "c", h1)},
			rules: rules("MATCH * WITH PRODUCTS FROM build"), want: [][]string{{"b", "c"}}},
		{name: "match hash mismatch", kind: Materials, item: &Item{Materials: arts("b", h1)},
			rules: rules("MATCH b WITH PRODUCTS FROM build", "DISALLOW b"), want: [][]string{{"b"}, {"b"}},
			refused: "disallow", errArts: []string{"b"}},
		{name: "match needs every algorithm equal", kind: Materials, item: &Item{Materials: arts("multi", h1)},
			rules: rules("MATCH * WITH PRODUCTS FROM build"), want: [][]string{{"multi"}}},
		{name: "match all algorithms", kind: Materials, item: &Item{Materials: arts("multi", h3)},
			rules: rules("MATCH * WITH PRODUCTS FROM build"), want: [][]string{{}}},
		{name: "match missing at destination", kind: Materials, item: &Item{Materials: arts("zzz", h1)},
			rules: rules("MATCH * WITH PRODUCTS FROM build"), want: [][]string{{"zzz"}}},
		{name: "match step without link", kind: Materials, item: &Item{Materials: arts("a", h1)},
			rules: rules("MATCH * WITH PRODUCTS FROM nope", "MATCH * WITH PRODUCTS FROM nolink"),
			want:  [][]string{{"a"}, {"a"}}},
		{name: "match destination materials", kind: Products, item: &Item{Products: arts("src/a.go", h1, "a", h1)},
			rules: rules("MATCH * WITH MATERIALS FROM build"), want: [][]string{{"a"}}},
		{name: "match source prefix", kind: Materials, item: &Item{Materials: arts("in/a", h1, "a", h1, "inx/a", h1)},
			rules: rules("MATCH * IN in WITH PRODUCTS FROM build"), want: [][]string{{"a", "inx/a"}}},
		{name: "match source prefix trailing slash", kind: Materials, item: &Item{Materials: arts("in/a", h1, "a", h1)},
			rules: rules("MATCH * IN in/ WITH PRODUCTS FROM build"), want: [][]string{{"a"}}},
		{name: "match source prefix is not a glob", kind: Materials, item: &Item{Materials: arts("i*/a", h1, "ix/a", h1)},
			rules: rules("MATCH * IN i* WITH PRODUCTS FROM build"), want: [][]string{{"ix/a"}}},
		{name: "match destination prefix", kind: Materials, item: &Item{Materials: arts("a", h1, "x/c", h1, "b", h2)},
			rules: rules("MATCH * WITH PRODUCTS IN out FROM build"), want: [][]string{{"b"}}},
		{name: "match destination prefix trailing slash", kind: Materials, item: &Item{Materials: arts("a", h1)},
			rules: rules("MATCH * WITH PRODUCTS IN out/ FROM build"), want: [][]string{{}}},
		{name: "match both prefixes", kind: Products, item: &Item{Products: arts("dist/a.go", h1, "dist/b.go", h2, "a.go", h1)},
			rules: rules("MATCH *.go IN dist WITH MATERIALS IN src FROM build"), want: [][]string{{"a.go", "dist/b.go"}}},
		{name: "match pattern applies after prefix", kind: Products, item: &Item{Products: arts("dist/src/a.go", h1)},
			rules: rules("MATCH src/* IN dist WITH MATERIALS FROM build"), want: [][]string{{}}},
		{name: "match destination prefix rewrites backslash", kind: Materials, item: &Item{Materials: arts("x\\c", h1)},
			rules: rules("MATCH * WITH PRODUCTS IN out FROM build"), want: [][]string{{}}},
		{name: "match without destination prefix keeps backslash", kind: Materials, item: &Item{Materials: arts("a\\b", h1)},
			rules: rules("MATCH * WITH PRODUCTS FROM build"), want: [][]string{{}}},
		{name: "match self falls back to item", kind: Products, item: &Item{Name: "self", Materials: arts("a", h1), Products: arts("a", h1, "b", h1)},
			rules: rules("MATCH * WITH MATERIALS FROM self"), want: [][]string{{"b"}}},
		{name: "match chain", kind: Materials, item: &Item{Materials: arts("a", h1, "src/a.go", h1, "other", h1)},
			rules: rules("MATCH src/* WITH MATERIALS FROM build", "MATCH * WITH PRODUCTS FROM build", "DISALLOW *"),
			want:  [][]string{{"a", "other"}, {"other"}, {"other"}}, refused: "disallow", errArts: []string{"other"}},
		{name: "question mark and class", kind: Products, item: &Item{Products: arts("a1", h1, "b1", h1, "a/", h1)},
			rules: rules("ALLOW [!b]?", "DISALLOW *"), want: [][]string{{"b1"}, {"b1"}}, refused: "disallow", errArts: []string{"b1"}},
		{name: "lower case keywords", kind: Materials, item: &Item{Materials: arts("a", h1)},
			rules: rules("match * with products from build"), want: [][]string{{}}},
		{name: "step name is case sensitive", kind: Materials, item: &Item{Materials: arts("a", h1)},
			rules: rules("MATCH * WITH PRODUCTS FROM Build"), want: [][]string{{"a"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.item.Name == "" {
				tt.item.Name = "step"
			}
			for _, trace := range []bool{false, true} {
				tr, err := Verify(tt.item, tt.kind, tt.rules, links, Options{Trace: trace})
				if tr == nil {
					t.Fatalf("Verify returned no trace (error %v)", err)
				}
				if len(tr.Entries) != len(tt.want) {
					t.Fatalf("trace has %d entries, want %d", len(tr.Entries), len(tt.want))
				}
				for i, e := range tr.Entries {
					if e.After != len(tt.want[i]) {
						t.Errorf("rule %d %q: queue size after = %d, want %d", i, e.Rule, e.After, len(tt.want[i]))
					}
					if !trace {
						if e.QueueAfter != nil || e.Consumed != nil {
							t.Errorf("rule %d: names recorded without Options.Trace", i)
						}
						continue
					}
					if diff := cmp.Diff(tt.want[i], e.QueueAfter, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("rule %d %q queue after (-want +got):\n%s", i, e.Rule, diff)
					}
					before := tr.Queue
					if i > 0 {
						before = tr.Entries[i-1].QueueAfter
					}
					if diff := cmp.Diff(difference(before, e.QueueAfter), e.Consumed, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("rule %d consumed (-want +got):\n%s", i, diff)
					}
				}
				var re *RuleError
				switch tt.refused {
				case "":
					if err != nil {
						t.Fatalf("Verify: %v", err)
					}
				default:
					if !errors.As(err, &re) {
						t.Fatalf("Verify error = %v, want a *RuleError", err)
					}
					want := &RuleError{Step: tt.item.Name, Kind: tt.kind, Index: len(tt.want) - 1,
						Rule: strings.Join(tt.rules[len(tt.want)-1], " "), Artifacts: tt.errArts, Type: Disallow}
					if tt.refused == "require" {
						want.Type = Require
					}
					if diff := cmp.Diff(want, re, cmpopts.IgnoreFields(RuleError{}, "Reason")); diff != "" {
						t.Errorf("RuleError (-want +got):\n%s", diff)
					}
				}
			}
		})
	}
}

func difference(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

func TestVerifyErrors(t *testing.T) {
	t.Parallel()
	item := &Item{Name: "build", Products: arts("a", h1)}
	tests := []struct {
		name    string
		item    *Item
		kind    Kind
		rules   []intoto.Rule
		is      error
		message string
	}{
		{"nil item", nil, Products, nil, nil, "verify artifact rules: nil item"},
		{"zero kind", item, 0, nil, nil, `verify artifact rules of "build": invalid kind 0`},
		{"bad rule", item, Products, []intoto.Rule{{"ALLOW", "*"}, {"PERMIT", "a"}}, ErrInvalidRule,
			`step "build" expected_products: invalid artifact rule #2 "PERMIT a": unknown rule type "PERMIT": want one of MATCH, ALLOW, DISALLOW, REQUIRE, CREATE, DELETE, MODIFY`},
		{"bad rule after refusal is still reported first", item, Products, []intoto.Rule{{"DISALLOW", "*"}, {"ALLOW"}},
			ErrInvalidRule, `step "build" expected_products: invalid artifact rule #2 "ALLOW": a rule needs a type and a pattern`},
		{"disallow message", item, Products, rules("ALLOW b", "DISALLOW *"), ErrDisallowed,
			`step "build" expected_products rule #2 "DISALLOW *": 1 disallowed artifact: "a"`},
		{"require message", item, Products, rules("REQUIRE b"), ErrRequired,
			`step "build" expected_products rule #1 "REQUIRE b": required artifact is not in the queue: "b"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Verify(tt.item, tt.kind, tt.rules, nil, Options{})
			if err == nil || err.Error() != tt.message {
				t.Fatalf("Verify error = %v, want %q", err, tt.message)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("Verify error = %v, want errors.Is %v", err, tt.is)
			}
			var re *RuleError
			if errors.As(err, &re) != (tt.is == ErrDisallowed || tt.is == ErrRequired) {
				t.Errorf("Verify error %v: *RuleError = %v", err, re)
			}
		})
	}
}

func TestRuleErrorTruncatesNames(t *testing.T) {
	t.Parallel()
	a := map[string]intoto.Digests{}
	for _, c := range "abcdefghijklmnop" {
		a[string(c)] = h1
	}
	_, err := Verify(&Item{Name: "s", Products: intoto.NewArtifactSet(a)}, Products, rules("DISALLOW *"), nil, Options{})
	var re *RuleError
	if !errors.As(err, &re) || len(re.Artifacts) != 16 {
		t.Fatalf("Verify error = %v, want a *RuleError with 16 names", err)
	}
	if !strings.HasSuffix(err.Error(), `"j" and 6 more`) {
		t.Errorf("error = %q, want the first 10 names and a count", err)
	}
}
