package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Markdown writes a GitHub job summary ($GITHUB_STEP_SUMMARY): a verdict heading, a table with one
// row per step and inspection, and the refusal with its rule trace and identity comparison in a
// collapsible section.
func Markdown(w io.Writer, res *verify.Result) error {
	var b strings.Builder
	if res.Verified {
		b.WriteString("### ✅ in-toto verification passed\n\n")
	} else {
		b.WriteString("### ❌ in-toto verification refused\n\n")
		fmt.Fprintf(&b, "> %s\n\n", mdEscape(Refusal(res)))
	}
	fmt.Fprintf(&b, "Layout `%s`", mdCode(orDefault(res.Layout.Path, "(layout)")))
	if res.Layout.Expires != "" {
		fmt.Fprintf(&b, ", expires %s", res.Layout.Expires)
	}
	if len(res.Layout.Signers) > 0 {
		fmt.Fprintf(&b, ", signed by %s", mdCodes(res.Layout.Signers))
	}
	b.WriteString("\n\n| | Step | Kind | Signed by | Details |\n|---|---|---|---|---|\n")
	for i := range res.Steps {
		s := &res.Steps[i]
		icon := map[verify.Status]string{verify.StatusPassed: "✅", verify.StatusFailed: "❌"}[s.Status]
		if icon == "" {
			icon = "⏭️"
		}
		details := ""
		switch {
		case s.Err != "":
			details = mdEscape(s.Err)
		case s.Status == verify.StatusSkipped && !res.Verified:
			details = "not checked"
		case s.Kind == verify.KindStep:
			details = fmt.Sprintf("%d of %d functionaries", s.Functionaries, s.Threshold)
		case s.Inspection != nil:
			details = fmt.Sprintf("exit %d", s.Inspection.ExitCode)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", icon, mdEscape(s.Name), s.Kind, mdCodes(signers(s)), details)
	}
	if len(res.Warnings) > 0 {
		b.WriteString("\n**Warnings**\n\n")
		for _, warn := range res.Warnings {
			fmt.Fprintf(&b, "- %s\n", mdEscape(warn))
		}
	}
	if !res.Verified {
		var text strings.Builder
		if err := Text(&text, res); err != nil {
			return err
		}
		b.WriteString("\n<details><summary>Why it was refused</summary>\n\n```text\n")
		b.WriteString(strings.ReplaceAll(text.String(), "```", "ʼʼʼ"))
		b.WriteString("```\n\n</details>\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// mdEscape keeps untrusted text (file names, reasons) from breaking the table or adding markup.
func mdEscape(s string) string {
	r := strings.NewReplacer("|", `\|`, "\n", " ", "\r", " ", "<", "&lt;", ">", "&gt;", "`", "'", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`)
	return r.Replace(s)
}

func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "|", `\|`, "\n", " ").Replace(s)
}

func mdCodes(list []string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = "`" + mdCode(s) + "`"
	}
	return strings.Join(out, ", ")
}
