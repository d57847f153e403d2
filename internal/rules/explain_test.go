package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func TestExplain(t *testing.T) {
	t.Parallel()
	sha := func(c string) intoto.Digests { return intoto.Digests{"sha256": strings.Repeat(c, 64)} }
	pkg := &Item{Name: "package", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"app.tgz": sha("a"), "dist/lib.so": sha("b")})}
	links := map[string]*Item{"package": pkg}
	item := &Item{Name: "untar", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{
		"app.tgz":    sha("c"), // swapped after package
		"readme":     sha("d"), // never produced by package
		"lib.so":     sha("e"), // under a destination prefix, swapped too
		"unrelated":  sha("f"), // no MATCH covers it
		"from-ghost": sha("a"), // MATCH against a step with no link
	})}
	rules := []intoto.Rule{
		{"MATCH", "app.tgz", "WITH", "PRODUCTS", "FROM", "package"},
		{"MATCH", "readme", "WITH", "PRODUCTS", "FROM", "package"},
		{"MATCH", "*.so", "WITH", "PRODUCTS", "IN", "dist", "FROM", "package"},
		{"MATCH", "from-*", "WITH", "PRODUCTS", "FROM", "ghost"},
		{"DISALLOW", "*"},
	}
	trace, err := Verify(item, Materials, rules, links, Options{})
	var re *RuleError
	if err == nil || trace == nil || !errors.As(err, &re) {
		t.Fatalf("Verify = %v, want a refusal by DISALLOW", err)
	}
	got := Explain(item, Materials, rules, links, re.Artifacts, 10)
	want := []string{
		`app.tgz: MATCH app.tgz WITH PRODUCTS FROM package: digest differs from "app.tgz" in the products of "package" (sha256:cccccccccccc… here, sha256:aaaaaaaaaaaa… there)`,
		`from-ghost: MATCH from-* WITH PRODUCTS FROM ghost: step "ghost" has no link`,
		`lib.so: MATCH *.so WITH PRODUCTS IN dist FROM package: digest differs from "dist/lib.so" in the products of "package" (sha256:eeeeeeeeeeee… here, sha256:bbbbbbbbbbbb… there)`,
		`readme: MATCH readme WITH PRODUCTS FROM package: "readme" is not among the products of "package"`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Explain (-want +got):\n%s", d)
	}
	if got := Explain(item, Materials, rules, links, re.Artifacts, 2); len(got) != 2 {
		t.Errorf("got %d lines with max 2, want 2", len(got))
	}
}
