// Package schema checks report files against the schemas their consumers use, with real validators:
// JUnit XML against Jenkins xUnit's junit-10.xsd through libxml2's xmllint, JSON reports against
// docs/report-schema.json through ajv-cli. Imported only by tests. A missing validator skips the check,
// except under CI=true where it fails the test (.ci/setup installs both).
package schema

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// root is the repository root, found from this file's own path.
func root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..")
}

// JUnitXSD is the path of the shipped junit-10.xsd.
func JUnitXSD() string { return filepath.Join(root(), "testdata", "junit", "junit-10.xsd") }

// ReportSchema is the path of the JSON Schema of the JSON report.
func ReportSchema() string { return filepath.Join(root(), "docs", "report-schema.json") }

// tool returns the path of a validator (the pinned copy in extra first, then PATH), skipping (or
// failing under CI=true) when it is missing.
func tool(tb testing.TB, name, install string, extra ...string) string {
	tb.Helper()
	for _, p := range extra {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	msg := name + " not installed (" + install + "; .ci/setup does it)"
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
	return ""
}

// JUnit validates a JUnit XML document against junit-10.xsd with xmllint; name says where it came from.
func JUnit(tb testing.TB, name string, doc []byte) {
	tb.Helper()
	if err := checkJUnit(tool(tb, "xmllint", "apt-get install libxml2-utils"), doc); err != nil {
		tb.Errorf("%s is not valid JUnit for Jenkins xUnit: %v\n%s", name, err, doc)
	}
}

func checkJUnit(xmllint string, doc []byte) error {
	cmd := exec.Command(xmllint, "--noout", "--schema", JUnitXSD(), "-")
	cmd.Stdin = bytes.NewReader(doc)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("xmllint --schema junit-10.xsd: %w\n%s", err, out)
	}
	return nil
}

// ajvPath is where .ci/setup installs ajv-cli.
func ajvPath() string {
	tools := os.Getenv("INTOTO_CI_TOOLS")
	if tools == "" {
		home, _ := os.UserHomeDir()
		tools = filepath.Join(home, ".cache", "intoto-ci-tools")
	}
	return filepath.Join(tools, "node_modules", ".bin", "ajv")
}

// JSONReports validates JSON report files against docs/report-schema.json with ajv-cli (JSON Schema
// draft 2020-12, strict mode, formats checked by ajv-formats).
func JSONReports(tb testing.TB, files ...string) {
	tb.Helper()
	if len(files) == 0 {
		tb.Fatal("no JSON reports to validate")
	}
	if err := checkJSON(tool(tb, "ajv", "npm install ajv-cli@5.0.0 ajv-formats@3.0.1", ajvPath()), files...); err != nil {
		tb.Error(err)
	}
}

func checkJSON(ajv string, files ...string) error {
	args := []string{"validate", "--spec=draft2020", "-c", "ajv-formats", "--strict=true", "--all-errors", "-s", ReportSchema()}
	for _, f := range files {
		args = append(args, "-d", f)
	}
	cmd := exec.Command(ajv, args...)
	// ajv-cli loads -c modules relative to the working directory: the node_modules it came from.
	cmd.Dir = filepath.Dir(filepath.Dir(filepath.Dir(ajv)))
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("JSON reports do not match %s: %w\n%s", ReportSchema(), err, strings.TrimSpace(string(out)))
	}
	return nil
}
