package layout

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/rules"
)

// Finding is one lint warning about a layout document.
type Finding struct {
	Line int    `json:"line,omitempty"`
	Path string `json:"path"`
	// Code names the check: no-final-disallow, never-matches, unreachable-rule, no-functionary,
	// threshold, unknown-functionary, unused-functionary, broad-identity, expired, expires-soon,
	// no-expiry, inspection-no-run, name-collision.
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (f Finding) String() string {
	var b strings.Builder
	if f.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", f.Line)
	}
	fmt.Fprintf(&b, "%s: %s [%s]", f.Path, f.Message, f.Code)
	return b.String()
}

// LintOptions tune Lint.
type LintOptions struct {
	// Now is the time expiry is judged against (default time.Now()).
	Now time.Time
	// Soon is how close an expiry must be to warn (default 30 days).
	Soon time.Duration
}

// DefaultSoon is the default LintOptions.Soon.
const DefaultSoon = 30 * 24 * time.Hour

type linter struct {
	doc      *Document
	out      []Finding
	steps    map[string]bool
	inspects map[string]bool
}

func (l *linter) add(line int, path, code, format string, a ...any) {
	l.out = append(l.out, Finding{Line: line, Path: path, Code: code, Message: fmt.Sprintf(format, a...)})
}

// Lint returns warnings about doc, in document order (by line when known, then by path). A layout
// with findings may still verify: these are the mistakes that make it weaker than it looks, or that
// make it refuse every chain.
func Lint(doc *Document, opts LintOptions) []Finding {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Soon <= 0 {
		opts.Soon = DefaultSoon
	}
	l := &linter{doc: doc, steps: map[string]bool{}, inspects: map[string]bool{}}
	l.names()
	l.expiry(opts)
	l.functionaries()
	for i, s := range doc.Steps {
		path := fmt.Sprintf("steps[%d] %s", i, s.Name)
		l.stepFunctionaries(s, path)
		l.rules(s.Materials, ruleScope{kind: rules.Materials, path: path + " materials", line: s.Line})
		l.rules(s.Products, ruleScope{kind: rules.Products, path: path + " products", line: s.Line})
	}
	for i, in := range doc.Inspections {
		path := fmt.Sprintf("inspections[%d] %s", i, in.Name)
		if len(in.Run) == 0 {
			l.add(in.Line, path, "inspection-no-run", "inspection has no run command: verify cannot run it")
		}
		l.rules(in.Materials, ruleScope{kind: rules.Materials, path: path + " materials", line: in.Line, inspection: true})
		l.rules(in.Products, ruleScope{kind: rules.Products, path: path + " products", line: in.Line, inspection: true})
	}
	sort.SliceStable(l.out, func(i, j int) bool {
		a, b := l.out[i], l.out[j]
		if a.Line != b.Line && a.Line > 0 && b.Line > 0 {
			return a.Line < b.Line
		}
		return false
	})
	return l.out
}

func (l *linter) names() {
	seen := map[string]string{}
	folded := map[string]string{}
	check := func(kind, name string, line int, path string) {
		if prev, ok := seen[name]; ok {
			l.add(line, path, "name-collision", "%s name %q is already used by %s", kind, name, prev)
			return
		}
		if prev, ok := folded[strings.ToLower(name)]; ok {
			l.add(line, path, "name-collision", "%s name %q differs only by case from %s (link files collide on case-insensitive file systems)", kind, name, prev)
		}
		if strings.ContainsAny(name, "/\\") || strings.TrimSpace(name) != name || name == "." || name == ".." {
			l.add(line, path, "name-collision", "%s name %q cannot be a link file name (<name>.<id>.link)", kind, name)
		}
		seen[name] = fmt.Sprintf("%s %q", kind, name)
		folded[strings.ToLower(name)] = fmt.Sprintf("%s %q", kind, name)
	}
	for i, s := range l.doc.Steps {
		check("step", s.Name, s.Line, fmt.Sprintf("steps[%d] %s", i, s.Name))
		l.steps[s.Name] = true
	}
	for i, in := range l.doc.Inspections {
		check("inspection", in.Name, in.Line, fmt.Sprintf("inspections[%d] %s", i, in.Name))
		l.inspects[in.Name] = true
	}
}

func (l *linter) expiry(opts LintOptions) {
	if l.doc.Expires == "" {
		l.add(l.doc.Line, "expires", "no-expiry", "the layout has no expiry")
		return
	}
	t, err := ParseExpires(l.doc.Expires)
	if err != nil {
		return // Decode/Compile report it
	}
	switch {
	case !t.After(opts.Now):
		l.add(l.doc.ExpiresLine, "expires", "expired", "the layout expired at %s: verify refuses it", t.UTC().Format(time.RFC3339))
	case t.Sub(opts.Now) < opts.Soon:
		l.add(l.doc.ExpiresLine, "expires", "expires-soon", "the layout expires at %s, in %s", t.UTC().Format(time.RFC3339),
			t.Sub(opts.Now).Round(time.Hour))
	}
}

// probeSubjects are signer subjects nobody should accept by accident: another repository's workflow,
// an e-mail address, a Kubernetes service account.
var probeSubjects = []string{
	"https://github.com/attacker/evil/.github/workflows/release.yml@refs/heads/main",
	"https://gitlab.com/attacker/evil//.gitlab-ci.yml@refs/heads/main",
	"attacker@example.com",
	"https://kubernetes.io/namespaces/default/serviceaccounts/default",
}

var unescapedDot = regexp.MustCompile(`(^|[^\\])\.[A-Za-z0-9]`)

func (l *linter) functionaries() {
	used := map[string]bool{}
	for _, s := range l.doc.Steps {
		for _, f := range s.Functionaries {
			used[f] = true
		}
	}
	type idKey struct{ issuer, subject, re, claims string }
	ids := map[idKey]string{}
	keys := map[string]string{}
	for _, name := range sortedNames(l.doc.Functionaries) {
		f := l.doc.Functionaries[name]
		path := "functionaries." + name
		if !used[name] {
			l.add(f.Line, path, "unused-functionary", "functionary %q is not used by any step", name)
		}
		if !f.Keyless() {
			if f.Key != "" {
				if prev, ok := keys[f.Key]; ok {
					l.add(f.Line, path, "name-collision", "same key as functionary %q: a threshold counts them once", prev)
				}
				keys[f.Key] = name
			}
			continue
		}
		var cl []string
		for _, c := range sortedNames(f.Claims) {
			cl = append(cl, c+"="+f.Claims[c].Exact+"/"+f.Claims[c].Regexp)
		}
		k := idKey{f.Issuer, f.Subject, f.SubjectRegexp, strings.Join(cl, ",")}
		if prev, ok := ids[k]; ok {
			l.add(f.Line, path, "name-collision", "same identity as functionary %q: one signer matches both, and a threshold counts it once", prev)
		}
		ids[k] = name
		if f.SubjectRegexp != "" {
			l.pattern(f.Line, path+".subject_regexp", f.SubjectRegexp, probeSubjects)
			if !pinsRepository(f.Claims) {
				l.add(f.Line, path, "broad-identity", "subject_regexp without a source_repository_uri or source_repository_identifier claim: pin the repository")
			}
		}
		for _, c := range sortedNames(f.Claims) {
			if re := f.Claims[c].Regexp; re != "" {
				line := f.Line
				if n := f.ClaimLines[c]; n > 0 {
					line = n
				}
				l.pattern(line, path+".claims."+c, re, nil)
			}
		}
		if strings.HasPrefix(f.Issuer, "http://") && !isLoopback(f.Issuer) {
			l.add(f.Line, path+".issuer", "broad-identity", "issuer %q is not https", f.Issuer)
		}
	}
}

func isLoopback(u string) bool {
	return strings.HasPrefix(u, "http://127.0.0.1") || strings.HasPrefix(u, "http://localhost") || strings.HasPrefix(u, "http://[::1]")
}

func pinsRepository(c map[string]intoto.ClaimMatch) bool {
	for _, k := range []string{"source_repository_uri", "source_repository_identifier"} {
		if m, ok := c[k]; ok && m.Exact != "" {
			return true
		}
	}
	return false
}

// pattern warns about an identity regexp that matches too much, or matches one of probes (values
// nobody should accept by accident).
func (l *linter) pattern(line int, path, re string, probes []string) {
	r, err := regexp.Compile(`^(?:` + re + `)$`)
	if err != nil {
		return // Decode reports it
	}
	trimmed := strings.TrimSuffix(strings.TrimPrefix(re, "^"), "$")
	switch {
	case r.MatchString("") && r.MatchString("anything at all"), trimmed == ".*", trimmed == ".+":
		l.add(line, path, "broad-identity", "pattern %q matches any value: pin it", re)
		return
	default:
		for _, p := range probes {
			if r.MatchString(p) {
				l.add(line, path, "broad-identity", "pattern %q also matches %q: anchor it to your repository", re, p)
				return
			}
		}
	}
	if strings.HasPrefix(trimmed, ".*") || strings.HasPrefix(trimmed, ".+") {
		l.add(line, path, "broad-identity", "pattern %q starts with a wildcard: anyone may choose the prefix", re)
	}
	if unescapedDot.MatchString(re) {
		l.add(line, path, "broad-identity", "pattern %q has an unescaped '.', which matches any character (write \\.)", re)
	}
}

func (l *linter) stepFunctionaries(s *Step, path string) {
	if len(s.Functionaries) == 0 {
		l.add(s.Line, path, "no-functionary", "step has no functionary: no link can ever be accepted")
		return
	}
	distinct := map[string]bool{}
	for _, fn := range s.Functionaries {
		if _, ok := l.doc.Functionaries[fn]; !ok {
			l.add(lineOr(s.FunctionariesLine, s.Line), path, "unknown-functionary", "functionary %q is not declared", fn)
			continue
		}
		distinct[fn] = true
	}
	t := s.Threshold
	if t == 0 {
		t = 1
	}
	if t > len(distinct) {
		l.add(lineOr(s.ThresholdLine, s.Line), path, "threshold", "threshold %d is above the %d distinct functionaries: the step can never verify", t, len(distinct))
	}
}

// ruleScope is where a rule list sits: a step's or an inspection's materials or products.
type ruleScope struct {
	kind rules.Kind
	path string
	line int // of the step or inspection, for rules without a line of their own
	// inspection is set for an inspection's rules: they run after every step, so they may MATCH from
	// another inspection.
	inspection bool
}

// rules checks one rule list.
func (l *linter) rules(list []Rule, sc ruleScope) {
	kind, path, itemLine := sc.kind, sc.path, sc.line
	finalDisallow := false
	for i, r := range list {
		line := lineOr(r.Line, itemLine)
		rp := fmt.Sprintf("%s[%d]", path, i)
		p, err := rules.Parse(r.Words)
		if err != nil {
			continue // Decode reports it
		}
		if finalDisallow {
			l.add(line, rp, "unreachable-rule", "rule %q comes after DISALLOW * and never applies", r.String())
		}
		switch p.Type {
		case rules.Disallow:
			if p.Pattern == "*" {
				finalDisallow = true
			}
		case rules.Allow:
			if p.Pattern == "*" && i < len(list)-1 {
				l.add(line, rp, "unreachable-rule", "ALLOW * consumes everything: the rules after it never match")
			}
		case rules.Create:
			if kind == rules.Materials {
				l.add(line, rp, "never-matches", "CREATE in materials never matches (a created artifact is not a material): move it to products")
			}
		case rules.Delete:
			if kind == rules.Products {
				l.add(line, rp, "never-matches", "DELETE in products never matches (a deleted artifact is not a product): move it to materials")
			}
		case rules.Match:
			switch {
			case l.steps[p.DestStep]:
			case l.inspects[p.DestStep] && !sc.inspection:
				l.add(line, rp, "never-matches", "MATCH from inspection %q in a step: step rules run before inspections, so it never matches", p.DestStep)
			case l.inspects[p.DestStep]:
			default:
				l.add(line, rp, "never-matches", "MATCH from %q, which is neither a step nor an inspection of this layout", p.DestStep)
			}
		}
	}
	if !finalDisallow {
		what := "list"
		if len(list) == 0 {
			what = "empty list"
		}
		l.add(lineOr(lastLine(list), itemLine), path, "no-final-disallow",
			"%s does not end with DISALLOW *: any other artifact is accepted (implicit ALLOW *)", what)
	}
}

func lastLine(list []Rule) int {
	if len(list) == 0 {
		return 0
	}
	return list[len(list)-1].Line
}

// WriteFindings writes the findings about the layout file path to w: as a JSON array (empty, not
// null, when there are none) or one "PATH: finding" line each.
func WriteFindings(w io.Writer, path string, findings []Finding, asJSON bool) error {
	if !asJSON {
		for _, f := range findings {
			if _, err := fmt.Fprintf(w, "%s: %s\n", path, f); err != nil {
				return err
			}
		}
		return nil
	}
	if findings == nil {
		findings = []Finding{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(findings)
}
