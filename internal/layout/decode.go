package layout

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/rules"
)

// ErrSyntax is wrapped by every error Decode returns about the document's content.
var ErrSyntax = errors.New("invalid layout yaml")

// Error is a problem at a place in the YAML source.
type Error struct {
	Line int
	// Path names the item, e.g. "steps[1].materials[0]" or "functionaries.ci.claims".
	Path   string
	Reason string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Reason)
	return b.String()
}

// Unwrap returns ErrSyntax.
func (e *Error) Unwrap() error { return ErrSyntax }

type decoder struct {
	errs []error
}

func (d *decoder) failf(n *yaml.Node, path, format string, a ...any) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &Error{Line: line, Path: path, Reason: fmt.Sprintf(format, a...)})
}

// Decode reads a layout YAML document. Every problem found is reported (joined), each with its line.
// Unknown keys are errors: a misspelt "threshhold" must not silently become the default.
func Decode(data []byte) (*Document, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSyntax, err)
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return nil, &Error{Reason: "empty document"}
	}
	d := &decoder{}
	doc := d.document(root.Content[0])
	if len(d.errs) > 0 {
		return nil, errors.Join(d.errs...)
	}
	return doc, nil
}

// mapping iterates a mapping node's keys in order, refusing keys outside known (known nil: any key).
func (d *decoder) mapping(n *yaml.Node, path string, known []string, each func(key string, k, v *yaml.Node)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.failf(n, path, "want a mapping, got %s", kindName(n))
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		key := k.Value
		if seen[key] {
			d.failf(k, path, "key %q appears twice", key)
			continue
		}
		seen[key] = true
		if known != nil && !contains(known, key) {
			d.failf(k, path, "unknown key %q (want one of %s)", key, strings.Join(known, ", "))
			continue
		}
		each(key, k, v)
	}
	return true
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		return resolve(n.Content[0])
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func (d *decoder) str(n *yaml.Node, path string) string {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.failf(n, path, "want a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

// words reads a list of strings, or one string split into words.
func (d *decoder) words(n *yaml.Node, path string) []string {
	switch {
	case n.Kind == yaml.ScalarNode && n.Tag == "!!null":
		return nil
	case n.Kind == yaml.ScalarNode:
		w, err := SplitWords(n.Value)
		if err != nil {
			d.failf(n, path, "%v", err)
		}
		return w
	case n.Kind == yaml.SequenceNode:
		out := make([]string, 0, len(n.Content))
		for i, c := range n.Content {
			out = append(out, d.str(resolve(c), fmt.Sprintf("%s[%d]", path, i)))
		}
		return out
	}
	d.failf(n, path, "want a string or a list of strings, got %s", kindName(n))
	return nil
}

func (d *decoder) strList(n *yaml.Node, path string) []string {
	if n.Kind == yaml.ScalarNode && n.Tag != "!!null" {
		return []string{n.Value} // one name written without brackets
	}
	if n.Kind != yaml.SequenceNode {
		d.failf(n, path, "want a list of names, got %s", kindName(n))
		return nil
	}
	out := make([]string, 0, len(n.Content))
	for i, c := range n.Content {
		out = append(out, d.str(resolve(c), fmt.Sprintf("%s[%d]", path, i)))
	}
	return out
}

func (d *decoder) rules(n *yaml.Node, path string) []Rule {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		d.failf(n, path, "want a list of rules, got %s", kindName(n))
		return nil
	}
	out := make([]Rule, 0, len(n.Content))
	for i, c := range n.Content {
		c = resolve(c)
		p := fmt.Sprintf("%s[%d]", path, i)
		w := d.words(c, p)
		if w == nil && len(d.errs) > 0 {
			continue
		}
		if _, err := rules.Parse(intoto.Rule(w)); err != nil {
			var pe *rules.ParseError
			if errors.As(err, &pe) {
				d.failf(c, p, "rule %q: %s", strings.Join(w, " "), pe.Reason)
			} else {
				d.failf(c, p, "%v", err)
			}
			continue
		}
		out = append(out, Rule{Words: w, Line: c.Line})
	}
	return out
}

var (
	topKeys         = []string{"expires", "readme", "functionaries", "steps", "inspections", "run_binding"}
	functionaryKeys = []string{"key", "issuer", "subject", "subject_regexp", "claims"}
	stepKeys        = []string{"name", "functionaries", "threshold", "command", "materials", "products"}
	inspectionKeys  = []string{"name", "run", "materials", "products"}
)

func (d *decoder) document(n *yaml.Node) *Document {
	doc := &Document{Functionaries: map[string]*Functionary{}, Line: n.Line}
	d.mapping(n, "", topKeys, func(key string, k, v *yaml.Node) {
		switch key {
		case "expires":
			doc.Expires, doc.ExpiresLine = d.str(v, "expires"), v.Line
		case "readme":
			doc.Readme = d.str(v, "readme")
		case "run_binding":
			doc.RunBinding = d.str(v, "run_binding")
		case "functionaries":
			d.mapping(v, "functionaries", nil, func(name string, k, fv *yaml.Node) {
				doc.Functionaries[name] = d.functionary(name, k, fv)
			})
		case "steps":
			if v.Kind != yaml.SequenceNode {
				d.failf(v, "steps", "want a list of steps, got %s", kindName(v))
				return
			}
			for i, c := range v.Content {
				doc.Steps = append(doc.Steps, d.step(resolve(c), fmt.Sprintf("steps[%d]", i)))
			}
		case "inspections":
			if v.Kind == yaml.ScalarNode && v.Tag == "!!null" {
				return
			}
			if v.Kind != yaml.SequenceNode {
				d.failf(v, "inspections", "want a list of inspections, got %s", kindName(v))
				return
			}
			for i, c := range v.Content {
				doc.Inspections = append(doc.Inspections, d.inspection(resolve(c), fmt.Sprintf("inspections[%d]", i)))
			}
		}
	})
	return doc
}

func (d *decoder) functionary(name string, k, n *yaml.Node) *Functionary {
	f := &Functionary{Name: name, Line: k.Line}
	path := "functionaries." + name
	d.mapping(n, path, functionaryKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "key":
			f.Key = d.str(v, path+".key")
		case "issuer":
			f.Issuer = d.str(v, path+".issuer")
		case "subject":
			f.Subject = d.str(v, path+".subject")
		case "subject_regexp":
			f.SubjectRegexp = d.str(v, path+".subject_regexp")
		case "claims":
			f.Claims = map[string]intoto.ClaimMatch{}
			f.ClaimLines = map[string]int{}
			d.mapping(v, path+".claims", nil, func(claim string, ck, cv *yaml.Node) {
				cp := path + ".claims." + claim
				f.ClaimLines[claim] = ck.Line
				if _, ok := intoto.FulcioClaimArc(claim); !ok {
					d.failf(ck, cp, "unknown claim %q (claims are the snake_case Fulcio names: %s)",
						claim, strings.Join(intoto.FulcioClaimNames(), ", "))
					return
				}
				switch cv.Kind {
				case yaml.ScalarNode:
					f.Claims[claim] = intoto.ClaimMatch{Exact: cv.Value}
				case yaml.MappingNode:
					d.mapping(cv, cp, []string{"regexp"}, func(_ string, _, rv *yaml.Node) {
						f.Claims[claim] = intoto.ClaimMatch{Regexp: d.str(rv, cp+".regexp")}
					})
				default:
					d.failf(cv, cp, "want a string or {regexp: …}, got %s", kindName(cv))
				}
			})
		}
	})
	switch {
	case f.Key != "" && (f.Issuer != "" || f.Subject != "" || f.SubjectRegexp != "" || len(f.Claims) > 0):
		d.failf(k, path, "a functionary is either a key or a keyless identity, not both")
	case f.Key == "":
		if err := f.Identity().Validate(); err != nil {
			for _, e := range splitJoined(err) {
				d.failf(k, path, "%v", e)
			}
		}
	}
	return f
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func (d *decoder) step(n *yaml.Node, path string) *Step {
	s := &Step{Line: n.Line, Threshold: 1}
	d.mapping(n, path, stepKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			s.Name = d.str(v, path+".name")
		case "functionaries":
			s.Functionaries, s.FunctionariesLine = d.strList(v, path+".functionaries"), v.Line
		case "threshold":
			t, err := strconv.Atoi(v.Value)
			if v.Kind != yaml.ScalarNode || err != nil || t < 1 {
				d.failf(v, path+".threshold", "want a whole number of at least 1, got %s", kindName(v))
			}
			s.Threshold, s.ThresholdLine = t, v.Line
		case "command":
			s.Command = d.words(v, path+".command")
		case "materials":
			s.Materials = d.rules(v, path+".materials")
		case "products":
			s.Products = d.rules(v, path+".products")
		}
	})
	if s.Name == "" {
		d.failf(n, path, "a step needs a name")
	}
	return s
}

func (d *decoder) inspection(n *yaml.Node, path string) *Inspection {
	in := &Inspection{Line: n.Line}
	d.mapping(n, path, inspectionKeys, func(key string, _, v *yaml.Node) {
		switch key {
		case "name":
			in.Name = d.str(v, path+".name")
		case "run":
			in.Run = d.words(v, path+".run")
		case "materials":
			in.Materials = d.rules(v, path+".materials")
		case "products":
			in.Products = d.rules(v, path+".products")
		}
	})
	if in.Name == "" {
		d.failf(n, path, "an inspection needs a name")
	}
	return in
}
