package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// The shapes follow Jenkins xUnit's junit-10.xsd (testdata/junit, checked in the tests with xmllint):
// <testsuites> takes no skipped count, <testsuite> must carry errors. A refusal is a failure; intoto-ci
// writes no report on an operational error, so errors is always 0.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

// JUnit writes JUnit XML for CI test tabs (GitLab artifacts:reports:junit and others): one testcase
// for the layout (signature and expiry), then one per step and inspection. A refusal is a <failure>
// carrying the text report of that step.
func JUnit(w io.Writer, res *verify.Result) error {
	suite := junitSuite{Name: "in-toto verify " + orDefault(res.Layout.Path, "layout")}
	layoutCase := junitCase{Name: "layout", Classname: "intoto.layout"}
	if f := res.Failure; f != nil && f.Step == "" {
		layoutCase.Failure = &junitFailure{Message: Refusal(res), Type: string(f.Stage), Text: f.Reason}
	} else if len(res.Layout.Signers) > 0 {
		layoutCase.SystemOut = "signed by " + strings.Join(res.Layout.Signers, ", ")
	}
	suite.Cases = append(suite.Cases, layoutCase)
	for i := range res.Steps {
		s := &res.Steps[i]
		c := junitCase{Name: s.Name, Classname: "intoto." + string(s.Kind)}
		switch s.Status {
		case verify.StatusFailed:
			var b strings.Builder
			tw := &textWriter{w: &b}
			tw.step(s, res, "")
			msg := s.Err
			typ := "refused"
			if res.Failure != nil && res.Failure.Step == s.Name {
				msg, typ = Refusal(res), string(res.Failure.Stage)
			}
			c.Failure = &junitFailure{Message: msg, Type: typ, Text: b.String()}
		case verify.StatusSkipped:
			c.Skipped = &junitSkipped{Message: "not checked: verification stopped earlier"}
		default:
			if sg := signers(s); len(sg) > 0 {
				c.SystemOut = "signed by " + strings.Join(sg, ", ")
			}
		}
		suite.Cases = append(suite.Cases, c)
	}
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Skipped != nil {
			suite.Skipped++
		}
	}
	doc := junitSuites{Name: "intoto-ci", Tests: suite.Tests, Failures: suite.Failures, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("junit report: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}
