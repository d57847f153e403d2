package schema

import (
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
