package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Formats are the report formats Write knows, in the order usage text lists them.
var Formats = []string{"text", "json", "markdown", "junit"}

// Valid tells whether format is one of Formats.
func Valid(format string) bool {
	for _, f := range Formats {
		if f == format {
			return true
		}
	}
	return false
}

// Write renders res in format to w.
func Write(w io.Writer, format string, res *verify.Result) error {
	switch format {
	case "text":
		return Text(w, res)
	case "json":
		return JSON(w, res)
	case "markdown":
		return Markdown(w, res)
	case "junit":
		return JUnit(w, res)
	}
	return fmt.Errorf("unknown report format %q (want %s)", format, strings.Join(Formats, ", "))
}

// JSON writes the result as the documented JSON report (indented, one trailing newline).
func JSON(w io.Writer, res *verify.Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// Refusal explains the failure of a result in one line that names the stage, the step, the rule and
// the artifacts when there are any. It is the line a CI log or annotation shows.
func Refusal(res *verify.Result) string {
	f := res.Failure
	if f == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "refused at %s", f.Stage)
	if f.Rule != "" && f.Step != "" && strings.Contains(f.Reason, f.Rule) && strings.Contains(f.Reason, f.Step) {
		// The rule engine's reason already names the step, the rule and the artifacts.
		fmt.Fprintf(&b, ": %s", f.Reason)
		if len(f.Hints) > 0 {
			fmt.Fprintf(&b, " — %s", f.Hints[0])
			if len(f.Hints) > 1 {
				fmt.Fprintf(&b, " (and %d more in the report)", len(f.Hints)-1)
			}
		}
		return b.String()
	}
	if f.Step != "" {
		fmt.Fprintf(&b, ", step %q", f.Step)
	}
	if f.Rule != "" {
		fmt.Fprintf(&b, ", rule %q", f.Rule)
	}
	if len(f.Artifacts) > 0 {
		fmt.Fprintf(&b, ", artifact%s %s", plural(len(f.Artifacts)), quoteList(f.Artifacts, 5))
	}
	if f.Signer != "" {
		fmt.Fprintf(&b, ", signer %s", f.Signer)
	}
	fmt.Fprintf(&b, ": %s", f.Reason)
	return b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteList(names []string, max int) string {
	var parts []string
	for i, n := range names {
		if i == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(names)-i))
			break
		}
		parts = append(parts, fmt.Sprintf("%q", n))
	}
	return strings.Join(parts, ", ")
}

// signers lists the distinct signers of a step's accepted links.
func signers(s *verify.StepResult) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range s.Links {
		if !seen[l.Signer] {
			seen[l.Signer] = true
			out = append(out, l.Signer)
		}
	}
	return out
}

// failedStep returns the step the failure names, if any.
func failedStep(res *verify.Result) *verify.StepResult {
	if res.Failure == nil || res.Failure.Step == "" {
		return nil
	}
	for i := range res.Steps {
		if res.Steps[i].Name == res.Failure.Step && res.Steps[i].Status == verify.StatusFailed {
			return &res.Steps[i]
		}
	}
	return nil
}

// statusWord is what a step line starts with.
func statusWord(s *verify.StepResult) string {
	switch s.Status {
	case verify.StatusPassed:
		return "ok"
	case verify.StatusFailed:
		return "REFUSED"
	}
	return "skipped"
}
