package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/testutil/schema"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

var update = flag.Bool("update", false, "rewrite the golden files")

const ghSigner = "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main (https://token.actions.githubusercontent.com)"

func passResult() *verify.Result {
	return &verify.Result{
		Verified: true,
		Layout:   verify.LayoutInfo{Path: "root.layout", Expires: "2027-06-01T00:00:00Z", Signers: []string{"772b2369"}},
		Steps: []verify.StepResult{
			{Name: "build", Kind: verify.KindStep, Status: verify.StatusPassed, Threshold: 1, Functionaries: 1,
				Links: []verify.LinkInfo{{File: "build.1a2b3c4d.link.sigstore.json", Functionary: "ci", Signer: ghSigner, Format: "sigstore-bundle",
					Digest: intoto.Digests{"sha256": "aa"}}},
				Rules: &verify.RuleTraces{Materials: []verify.RuleTrace{{Rule: "ALLOW src/*", Before: 3, After: 0}, {Rule: "DISALLOW *", Before: 0, After: 0}}}},
			{Name: "package", Kind: verify.KindStep, Status: verify.StatusPassed, Threshold: 2, Functionaries: 2,
				Links: []verify.LinkInfo{{File: "package.6f1e42a7.link", Functionary: "6f1e42a7", Signer: "6f1e42a7", Format: "dsse"},
					{File: "package.a7d5249f.link", Functionary: "a7d5249f", Signer: "a7d5249f", Format: "dsse"}}},
			{Name: "untar", Kind: verify.KindInspection, Status: verify.StatusPassed,
				Inspection: &verify.InspectionRun{Command: []string{"tar", "xzf", "app.tar.gz"}}},
		},
		Warnings: []string{`step "package": command [tar czf app.tar.gz dist] differs from the expected [make dist]`},
	}
}

func rulesRefusal() *verify.Result {
	reason := `step "package" expected_products rule #3 "DISALLOW *": 1 disallowed artifact: "evil.sh"`
	return &verify.Result{
		Layout: verify.LayoutInfo{Path: "root.layout", Expires: "2027-06-01T00:00:00Z", Signers: []string{"772b2369"}},
		Steps: []verify.StepResult{
			{Name: "build", Kind: verify.KindStep, Status: verify.StatusPassed, Threshold: 1, Functionaries: 1,
				Links: []verify.LinkInfo{{File: "build.6f1e42a7.link", Functionary: "6f1e42a7", Signer: "6f1e42a7", Format: "dsse"}}},
			{Name: "package", Kind: verify.KindStep, Status: verify.StatusFailed, Threshold: 1, Functionaries: 1,
				Links: []verify.LinkInfo{{File: "package.a7d5249f.link", Functionary: "a7d5249f", Signer: "a7d5249f", Format: "dsse"}},
				Rules: &verify.RuleTraces{
					Materials: []verify.RuleTrace{{Rule: "MATCH dist/* WITH PRODUCTS FROM build", Before: 2, After: 0}, {Rule: "DISALLOW *", Before: 0, After: 0}},
					Products: []verify.RuleTrace{
						{Rule: "CREATE app.tar.gz", Before: 3, After: 2, Consumed: []string{"app.tar.gz"}, Remaining: []string{"dist/app", "evil.sh"}},
						{Rule: "ALLOW dist/*", Before: 2, After: 1, Consumed: []string{"dist/app"}, Remaining: []string{"evil.sh"}},
						{Rule: "DISALLOW *", Before: 1, After: 1, Remaining: []string{"evil.sh"}},
					}},
				Err: reason},
			{Name: "untar", Kind: verify.KindInspection, Status: verify.StatusSkipped},
		},
		Failure: &verify.Failure{Stage: verify.StageRules, Step: "package", Rule: "DISALLOW *", Artifacts: []string{"evil.sh"}, Reason: reason},
	}
}

func identityRefusal() *verify.Result {
	reason := `step "build": 0 of 1 required functionaries signed a link`
	return &verify.Result{
		Layout: verify.LayoutInfo{Path: "root.layout", Expires: "2027-06-01T00:00:00Z", Signers: []string{"772b2369"}},
		Steps: []verify.StepResult{
			{Name: "build", Kind: verify.KindStep, Status: verify.StatusFailed, Threshold: 1,
				Rejected: []verify.Rejection{{File: "build.1a2b3c4d.link.sigstore.json", Signer: ghSigner, Reason: "identity mismatch",
					Mismatches: []verify.IdentityMismatch{{Identity: "ci",
						Mismatches: []string{`claims.runner_environment: got "self-hosted", want "github-hosted"`},
						Fields: []verify.FieldCheck{
							{Field: "issuer", Want: `"https://token.actions.githubusercontent.com"`, Got: "https://token.actions.githubusercontent.com", OK: true},
							{Field: "subject", Want: `/https://github\.com/acme/app/\.github/workflows/build\.yml@refs/heads/main/`, Got: "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main", OK: true},
							{Field: "claims.runner_environment", Want: `"github-hosted"`, Got: "self-hosted"},
							{Field: "claims.source_repository_uri", Want: `"https://github.com/acme/app"`, Got: "https://github.com/acme/app", OK: true},
						}}}}},
				Err: reason},
			{Name: "package", Kind: verify.KindStep, Status: verify.StatusSkipped, Threshold: 1},
		},
		Failure: &verify.Failure{Stage: verify.StageThreshold, Step: "build", Reason: reason},
	}
}

func signatureRefusal() *verify.Result {
	return &verify.Result{
		Layout:  verify.LayoutInfo{Path: "root.layout"},
		Steps:   []verify.StepResult{},
		Failure: &verify.Failure{Stage: verify.StageSignature, Reason: "key 772b2369: no signature by key"},
	}
}

var cases = []struct {
	name string
	res  func() *verify.Result
}{
	{"pass", passResult},
	{"rules-refusal", rulesRefusal},
	{"identity-refusal", identityRefusal},
	{"signature-refusal", signatureRefusal},
}

var extensions = map[string]string{"text": "txt", "json": "json", "markdown": "md", "junit": "xml"}

func TestGolden(t *testing.T) {
	for _, c := range cases {
		for _, format := range Formats {
			t.Run(c.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				var b bytes.Buffer
				if err := Write(&b, format, c.res()); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("testdata", c.name+"."+extensions[format])
				golden(t, path, b.Bytes())
				if format == "junit" {
					schema.JUnit(t, path, b.Bytes())
				}
			})
		}
	}
}

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

// The verdicts are asserted apart from the golden files: a golden file records the wording only.
func TestVerdicts(t *testing.T) {
	t.Parallel()
	for _, c := range cases {
		res := c.res()
		var text bytes.Buffer
		if err := Text(&text, res); err != nil {
			t.Fatal(err)
		}
		last := lastLine(text.String())
		if res.Verified != (last == "VERIFIED") {
			t.Errorf("%s: verified %v but the text report ends %q", c.name, res.Verified, last)
		}
		var js bytes.Buffer
		if err := JSON(&js, res); err != nil {
			t.Fatal(err)
		}
		var back struct {
			Verified bool `json:"verified"`
		}
		if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Verified != res.Verified {
			t.Errorf("%s: json verified %v (%v), want %v", c.name, back.Verified, err, res.Verified)
		}
		var ju bytes.Buffer
		if err := JUnit(&ju, res); err != nil {
			t.Fatal(err)
		}
		var suites junitSuites
		if err := xml.Unmarshal(ju.Bytes(), &suites); err != nil {
			t.Fatalf("%s: junit is not XML: %v", c.name, err)
		}
		if wantFail := !res.Verified; (suites.Failures > 0) != wantFail {
			t.Errorf("%s: junit failures %d, verified %v", c.name, suites.Failures, res.Verified)
		}
		if got, want := suites.Tests, len(res.Steps)+1; got != want {
			t.Errorf("%s: junit tests %d, want %d (layout + one per step/inspection)", c.name, got, want)
		}
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// A refusal names the rule, the artifact and the step in the one line CI logs show, and the text
// report compares every identity field.
func TestRefusalNamesRuleArtifactStep(t *testing.T) {
	t.Parallel()
	line := Refusal(rulesRefusal())
	for _, want := range []string{`"DISALLOW *"`, `"evil.sh"`, `"package"`} {
		if !strings.Contains(line, want) {
			t.Errorf("refusal %q does not name %s", line, want)
		}
	}
	var b bytes.Buffer
	if err := Text(&b, identityRefusal()); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"✗ claims.runner_environment", `expected "github-hosted", got "self-hosted"`, "✓ subject (SAN)", "✓ issuer"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("identity refusal report lacks %q:\n%s", want, b.String())
		}
	}
}

func TestMarkdownEscapesUntrustedText(t *testing.T) {
	t.Parallel()
	res := rulesRefusal()
	res.Steps[0].Name = "x|<script>"
	var b bytes.Buffer
	if err := Markdown(&b, res); err != nil {
		t.Fatal(err)
	}
	// Outside the fenced text report (where GitHub shows markup literally) nothing may pass raw.
	table, _, _ := strings.Cut(b.String(), "<details>")
	if strings.Contains(table, "<script>") || strings.Contains(table, "x|<") {
		t.Errorf("markdown carries untrusted markup:\n%s", table)
	}
	res.Steps[1].Err = "```\n<script>"
	b.Reset()
	if err := Markdown(&b, res); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "```"); n != 2 {
		t.Errorf("a reason closed the code fence: %d fences", n)
	}
}
