package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The validator can refuse: what Jenkins xUnit rejects, xmllint rejects here.
func TestJUnitCheckRefuses(t *testing.T) {
	t.Parallel()
	xmllint := tool(t, "xmllint", "apt-get install libxml2-utils")
	good := `<testsuites name="x" tests="1" failures="0" errors="0"><testsuite name="s" tests="1" failures="0" errors="0" skipped="0"><testcase name="c"/></testsuite></testsuites>`
	if err := checkJUnit(xmllint, []byte(good)); err != nil {
		t.Fatalf("valid document refused: %v", err)
	}
	for name, doc := range map[string]string{
		"skipped on testsuites":    `<testsuites skipped="1"><testsuite name="s" tests="1" failures="0" errors="0"><testcase name="c"/></testsuite></testsuites>`,
		"testsuite without errors": `<testsuites><testsuite name="s" tests="1" failures="0"><testcase name="c"/></testsuite></testsuites>`,
	} {
		if err := checkJUnit(xmllint, []byte(doc)); err == nil {
			t.Errorf("%s: accepted, want refused", name)
		}
	}
}

// goldenReports are every JSON report the tests compare output with: the report package's goldens,
// the verify pipeline's case results and the conformance goldens of the binary's --json output.
func goldenReports(t *testing.T) []string {
	t.Helper()
	var files []string
	for _, pattern := range []string{
		"internal/report/testdata/*.json",
		"internal/verify/testdata/cases/*/want.json",
		"test/conformance/testdata/golden/report-*.json",
	} {
		m, err := filepath.Glob(filepath.Join(root(), pattern))
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 0 {
			t.Fatalf("no golden reports match %s", pattern)
		}
		files = append(files, m...)
	}
	return files
}

// TestGoldenReportsMatchSchema: every golden JSON report matches docs/report-schema.json (a golden file
// equals what its test produced, so this checks the produced reports).
func TestGoldenReportsMatchSchema(t *testing.T) {
	t.Parallel()
	JSONReports(t, goldenReports(t)...)
}

// The JSON Schema and ajv can refuse: an unknown stage, an undocumented field, a pass with a failure.
func TestJSONCheckRefuses(t *testing.T) {
	t.Parallel()
	ajv := tool(t, "ajv", "npm install ajv-cli@5.0.0 ajv-formats@3.0.1", ajvPath())
	dir := t.TempDir()
	good := `{"verified":false,"layout":{"path":"root.layout","expires":"2030-01-01T00:00:00Z"},"steps":[{"name":"build","kind":"step","status":"failed","threshold":1}],"failure":{"stage":"threshold","step":"build","reason":"x"}}`
	write := func(name, doc string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if err := checkJSON(ajv, write("good.json", good)); err != nil {
		t.Fatalf("valid report refused: %v", err)
	}
	for name, doc := range map[string]string{
		"unknown stage":             strings.Replace(good, `"stage":"threshold"`, `"stage":"vibes"`, 1),
		"undocumented field":        strings.Replace(good, `"verified":false`, `"verified":false,"extra":1`, 1),
		"verified with a failure":   strings.Replace(good, `"verified":false`, `"verified":true`, 1),
		"refused without a failure": `{"verified":false,"layout":{},"steps":[]}`,
		"expires not a time":        strings.Replace(good, `2030-01-01T00:00:00Z`, `next year`, 1),
	} {
		if err := checkJSON(ajv, write(strings.ReplaceAll(name, " ", "-")+".json", doc)); err == nil {
			t.Errorf("%s: accepted, want refused", name)
		}
	}
}
