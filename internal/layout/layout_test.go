package layout

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if d := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, d)
	}
}

func TestSplitWords(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"MATCH foo WITH PRODUCTS FROM build", []string{"MATCH", "foo", "WITH", "PRODUCTS", "FROM", "build"}},
		{`ALLOW 'my file.txt'`, []string{"ALLOW", "my file.txt"}},
		{`MATCH "a \"b\"" WITH PRODUCTS FROM 'step one'`, []string{"MATCH", `a "b"`, "WITH", "PRODUCTS", "FROM", "step one"}},
		{`ALLOW a\ b ''`, []string{"ALLOW", "a b", ""}},
		{"  DISALLOW   *  ", []string{"DISALLOW", "*"}},
	} {
		got, err := SplitWords(tt.in)
		if err != nil {
			t.Fatalf("%q: %v", tt.in, err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%q (-want +got):\n%s", tt.in, d)
		}
		back, err := SplitWords(JoinWords(got))
		if err != nil || !cmp.Equal(back, got) {
			t.Errorf("%q: JoinWords %q does not split back (%v)", tt.in, JoinWords(got), err)
		}
	}
	for _, bad := range []string{`ALLOW 'x`, `ALLOW "x`, `ALLOW x\`} {
		if _, err := SplitWords(bad); err == nil {
			t.Errorf("%q: got no error", bad)
		}
	}
}

func writeKey(t *testing.T, dir, name string) *keys.Key {
	t.Helper()
	k, err := keys.Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	pem, err := k.PublicPEM()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), pem, 0o644); err != nil {
		t.Fatal(err)
	}
	return k
}

const keyOnly = `expires: 2030-06-01T00:00:00+02:00
readme: two steps
functionaries:
  alice: {key: alice.pub}
  bob: {key: bob.pub}
steps:
  - name: build
    functionaries: [alice, bob]
    threshold: 2
    command: make dist
    materials: [ALLOW src/*, DISALLOW *]
    products:  [CREATE dist/app, "ALLOW 'with space'", DISALLOW *]
inspections:
  - name: untar
    run: [tar, xzf, dist/app.tar.gz]
    materials: [MATCH dist/app.tar.gz WITH PRODUCTS FROM build, DISALLOW *]
`

func TestCompileKeyOnlyIsPureV1(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	alice, bob := writeKey(t, dir, "alice.pub"), writeKey(t, dir, "bob.pub")
	doc, err := Decode([]byte(keyOnly))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Compile(doc, CompileOptions{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if l.Expires != "2030-05-31T22:00:00Z" {
		t.Errorf("expires %q, want UTC with a Z", l.Expires)
	}
	s := l.Steps[0]
	if d := cmp.Diff([]string{alice.ID(), bob.ID()}, s.PubKeys); d != "" {
		t.Errorf("pubkeys (-want +got):\n%s", d)
	}
	if s.Threshold != 2 || strings.Join(s.ExpectedCommand, " ") != "make dist" {
		t.Errorf("step = %+v", s)
	}
	if got := strings.Join(s.ExpectedProducts[1], "|"); got != "ALLOW|with space" {
		t.Errorf("quoted rule = %q", got)
	}
	data, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"identities", "run_binding"} {
		if _, ok := m[ext]; ok {
			t.Errorf("key-only layout carries the extension field %q", ext)
		}
	}
	if _, ok := m["steps"].([]any)[0].(map[string]any)["identities"]; ok {
		t.Errorf("key-only step carries identities")
	}
}

func TestCompileKeyless(t *testing.T) {
	t.Parallel()
	doc, err := Decode([]byte(`expires: 2030-01-01
functionaries:
  ci:
    issuer: https://token.actions.githubusercontent.com
    subject_regexp: ^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*$
    claims: {source_repository_uri: https://github.com/acme/app, source_repository_ref: {regexp: "refs/tags/v.*"}}
steps:
  - name: build
    functionaries: ci
    materials: [DISALLOW *]
    products: [DISALLOW *]
run_binding: same-run
`))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Compile(doc, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := &intoto.Identity{Issuer: "https://token.actions.githubusercontent.com",
		SubjectRegexp: `^https://github\.com/acme/app/\.github/workflows/release\.yml@refs/tags/v.*$`,
		Claims: map[string]intoto.ClaimMatch{"source_repository_uri": {Exact: "https://github.com/acme/app"},
			"source_repository_ref": {Regexp: "refs/tags/v.*"}}}
	if d := cmp.Diff(want, l.Identities["ci"]); d != "" {
		t.Errorf("identity (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"ci"}, l.Steps[0].Identities); d != "" || len(l.Steps[0].PubKeys) != 0 {
		t.Errorf("step identities %v pubkeys %v", l.Steps[0].Identities, l.Steps[0].PubKeys)
	}
	if l.RunBinding != "same-run" || l.Expires != "2030-01-01T00:00:00Z" {
		t.Errorf("run_binding %q expires %q", l.RunBinding, l.Expires)
	}
}

// Errors name the line and the item: a misspelt key, a bad rule, an unknown claim, an unknown
// functionary, a missing key file.
func TestErrorsHaveLines(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`expires: 2030-01-01T00:00:00Z
functionaries:
  ci:
    issuer: https://issuer.example
    subject: x
    claims: {repo: acme}
steps:
  - name: build
    threshhold: 2
    materials:
      - ALLOW
      - MATCH x WITH STUFF FROM y
`))
	if !errors.Is(err, ErrSyntax) {
		t.Fatalf("got %v, want ErrSyntax", err)
	}
	for _, want := range []string{
		`line 6: functionaries.ci.claims.repo: unknown claim "repo"`,
		`line 9: steps[0]: unknown key "threshhold"`,
		`line 11: steps[0].materials[0]: rule "ALLOW": a rule needs a type and a pattern`,
		`line 12: steps[0].materials[1]: rule "MATCH x WITH STUFF FROM y": MATCH destination must be MATERIALS or PRODUCTS`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	doc, err := Decode([]byte("expires: 2030-01-01\nfunctionaries:\n  bob: {key: nope.pub}\nsteps:\n  - name: s\n    functionaries: [bob, carol]\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Compile(doc, CompileOptions{BaseDir: t.TempDir()})
	for _, want := range []string{`line 3: functionaries.bob.key: read key`, `line 6: steps[0].functionaries: unknown functionary "carol"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("compile error lacks %q: %v", want, err)
		}
	}
}

func TestLintGolden(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("testdata", "lint.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	findings := Lint(doc, LintOptions{Now: time.Date(2025, 12, 20, 0, 0, 0, 0, time.UTC)})
	var b strings.Builder
	codes := map[string]int{}
	for _, f := range findings {
		b.WriteString(f.String() + "\n")
		codes[f.Code]++
	}
	golden(t, filepath.Join("testdata", "lint.golden"), []byte(b.String()))
	// The verdict apart from the wording: every check fires.
	for _, code := range []string{"no-final-disallow", "never-matches", "unreachable-rule", "no-functionary",
		"threshold", "unused-functionary", "broad-identity", "expires-soon", "inspection-no-run", "name-collision"} {
		if codes[code] == 0 {
			t.Errorf("no %s finding", code)
		}
	}
	// A clean layout has no findings.
	clean, err := Decode([]byte(strings.Replace(keyOnly, "2030-06-01T00:00:00+02:00", "2030-06-01T00:00:00Z", 1) +
		"    products: [DISALLOW *]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if f := Lint(clean, LintOptions{Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}); len(f) != 0 {
		t.Errorf("clean layout: got findings %v", f)
	}
	expired := Lint(clean, LintOptions{Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)})
	if len(expired) != 1 || expired[0].Code != "expired" {
		t.Errorf("expired layout: got %v", expired)
	}
}

// Format writes what Decode reads back, and a compiled layout survives FromLayout → Format → Decode →
// Compile unchanged.
func TestFormatRoundTrip(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeKey(t, dir, "alice.pub")
	writeKey(t, dir, "bob.pub")
	doc, err := Decode([]byte(keyOnly))
	if err != nil {
		t.Fatal(err)
	}
	first, err := Compile(doc, CompileOptions{BaseDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	out, err := Format(FromLayout(first), Comments{"": "round trip"})
	if err != nil {
		t.Fatal(err)
	}
	doc2, err := Decode(out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	second, err := Compile(doc2, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(first)
	b, _ := json.Marshal(second)
	if string(a) != string(b) {
		t.Errorf("round trip changed the layout:\n%s\n%s\n%s", a, b, out)
	}
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte(keyOnly))
	if data, err := os.ReadFile(filepath.Join("testdata", "lint.yaml")); err == nil {
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := Decode(data)
		if err != nil {
			return
		}
		Lint(doc, LintOptions{})
		if _, err := Format(doc, nil); err != nil {
			t.Fatalf("format a decoded document: %v", err)
		}
	})
}
