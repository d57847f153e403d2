package rules

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// refVerify is a literal port of python's verify_item_rules (sets, fnmatch.filter through the
// regexp reference, os.path.join for prefixes). It returns the sorted queue after every rule
// it completed and "", "disallow", "require" or "crash" (python's KeyError).
func refVerify(item *Item, kind Kind, rs []intoto.Rule, links map[string]*Item) ([][]string, string) {
	src := item.Set(kind).Map()
	mats, prods := item.Materials.Map(), item.Products.Map()
	queue := map[string]bool{}
	for n := range src {
		queue[n] = true
	}
	filter := func(names map[string]bool, pattern string) []string {
		var out []string
		for n := range names {
			if ok, err := refMatch(pattern, n); err == nil && ok {
				out = append(out, n)
			}
		}
		return out
	}
	var queues [][]string
	for _, r := range rs {
		p, err := Parse(r)
		if err != nil {
			return queues, "invalid"
		}
		consumed := map[string]bool{}
		switch p.Type {
		case Match:
			dest := links[p.DestStep]
			if dest == nil {
				break
			}
			dst := dest.Set(p.DestKind).Map()
			cand := map[string]bool{}
			for n := range queue {
				if p.SourcePrefix == "" {
					cand[n] = true
				} else if pre := normPrefix(p.SourcePrefix); strings.HasPrefix(n, pre) {
					cand[n[len(pre):]] = true
				}
			}
			for _, path := range filter(cand, p.Pattern) {
				full, dpath := path, path
				if p.SourcePrefix != "" {
					full = pyJoin(p.SourcePrefix, path)
				}
				if p.DestPrefix != "" {
					dpath = pyJoin(p.DestPrefix, path)
				}
				sd, ok := src[full]
				if !ok {
					return queues, "crash"
				}
				if dd, ok := dst[dpath]; ok && maps.Equal(sd, dd) {
					consumed[full] = true
				}
			}
		case Allow, Create, Delete, Modify:
			for _, n := range filter(queue, p.Pattern) {
				m, inM := mats[n]
				pr, inP := prods[n]
				if p.Type == Allow || p.Type == Create && inP && !inM || p.Type == Delete && inM && !inP ||
					p.Type == Modify && inM && inP && !maps.Equal(m, pr) {
					consumed[n] = true
				}
			}
		case Disallow:
			if len(filter(queue, p.Pattern)) > 0 {
				return queues, "disallow"
			}
		case Require:
			if !queue[p.Pattern] {
				return queues, "require"
			}
		}
		for n := range consumed {
			delete(queue, n)
		}
		queues = append(queues, slices.Sorted(maps.Keys(queue)))
	}
	return queues, ""
}

// FuzzVerify derives a scenario from the input (artifact names and digests from small pools,
// rules from the grammar) and compares Verify with refVerify rule by rule.
func FuzzVerify(f *testing.F) {
	f.Add([]byte("\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"))
	f.Add([]byte("MATCH * IN src WITH PRODUCTS FROM build; DISALLOW *"))
	f.Add([]byte{0xff, 0x10, 0x33, 0x47, 0x90, 0x21, 0x05, 0x77, 0x81, 0x13, 0x42, 0x07})
	names := []string{"a", "b", "a.go", "src/a", "src/a.go", "src/x/b.go", "out/a", "out/src/a", "src//a",
		"src\\a", "/a", "é", "a b", "src/", "lib/b"}
	h := func(c string) string { return strings.Repeat(c, 64) }
	digs := []intoto.Digests{{"sha256": "aa"}, {"sha256": "bb"}, {"sha256": "aa", "sha512": "cc"}, {},
		{"sha256": h("a")}, {"sha256": h("b")}, {"sha256": h("A")}, {"sha256": h("a"), "sha512": "cc"}, {"sha512": h("a")}}
	pats := []string{"*", "*.go", "a", "src/*", "?", "[ab]", "[!a]*", "*/*", "é", "*a*", "[b-a]", "src"}
	prefixes := []string{"", "src", "src/", "out", "s\\rc", "/"}
	steps := []string{"build", "self", "missing"}
	f.Fuzz(func(t *testing.T, data []byte) {
		i := 0
		next := func(n int) int {
			if i >= len(data) {
				return 0
			}
			i++
			return int(data[i-1]) % n
		}
		arts := func() intoto.ArtifactSet {
			a := map[string]intoto.Digests{}
			for range next(6) {
				a[names[next(len(names))]] = digs[next(len(digs))]
			}
			return intoto.NewArtifactSet(a)
		}
		item := &Item{Name: "self", Materials: arts(), Products: arts()}
		links := map[string]*Item{"self": item, "build": {Name: "build", Materials: arts(), Products: arts()}}
		var rs []intoto.Rule
		for range next(6) {
			switch t := next(8); {
			case t < 3:
				r := intoto.Rule{"MATCH", pats[next(len(pats))]}
				if sp := prefixes[next(len(prefixes))]; sp != "" {
					r = append(r, "IN", sp)
				}
				r = append(r, "WITH", []string{"MATERIALS", "PRODUCTS"}[next(2)])
				if dp := prefixes[next(len(prefixes))]; dp != "" {
					r = append(r, "IN", dp)
				}
				rs = append(rs, append(r, "FROM", steps[next(len(steps))]))
			case t == 3:
				rs = append(rs, intoto.Rule{"REQUIRE", names[next(len(names))]})
			default:
				rs = append(rs, intoto.Rule{[]string{"ALLOW", "DISALLOW", "CREATE", "DELETE", "MODIFY"}[next(5)], pats[next(len(pats))]})
			}
		}
		kind := []Kind{Materials, Products}[next(2)]

		wantQ, wantV := refVerify(item, kind, rs, links)
		tr, err := Verify(item, kind, rs, links, Options{Trace: true})
		var gotQ [][]string
		for _, e := range tr.Entries {
			gotQ = append(gotQ, e.QueueAfter)
		}
		var re *RuleError
		switch wantV {
		case "":
			if err != nil {
				t.Fatalf("Verify(%q) = %v, reference accepts", rs, err)
			}
		case "disallow", "require":
			if !errors.As(err, &re) || (re.Type == Require) != (wantV == "require") {
				t.Fatalf("Verify(%q) = %v, reference refuses (%s)", rs, err, wantV)
			}
			gotQ = gotQ[:len(gotQ)-1]
		case "crash":
			gotQ = gotQ[:min(len(gotQ), len(wantQ))]
		}
		if diff := cmp.Diff(wantQ, gotQ, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("Verify(%q, %v) queues (-reference +got):\n%s", rs, kind, diff)
		}
		// Deterministic, and the same verdict without tracing.
		tr2, err2 := Verify(item, kind, rs, links, Options{})
		if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() || tr2.Remaining != tr.Remaining {
			t.Fatalf("Verify(%q) not deterministic: %v / %v", rs, err, err2)
		}
	})
}
