package layout

import (
	"bytes"
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"

	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// Comments are optional remarks Format attaches to the document, keyed by the item they explain:
// "" (the head of the document), "functionaries.<name>", "steps.<name>".
type Comments map[string]string

// Format writes doc as layout YAML that Decode reads back to the same document.
func Format(doc *Document, comments Comments) ([]byte, error) {
	root := mapNode()
	root.HeadComment = comments[""]
	if doc.Expires != "" {
		addPair(root, "expires", str(doc.Expires))
	}
	if doc.Readme != "" {
		addPair(root, "readme", str(doc.Readme))
	}
	if len(doc.Functionaries) > 0 {
		fs := mapNode()
		for _, name := range sortedNames(doc.Functionaries) {
			f := doc.Functionaries[name]
			fn := mapNode()
			switch {
			case f.Key != "":
				addPair(fn, "key", str(f.Key))
			case f.PublicKey != nil:
				pem, err := keys.FromRecord(f.PublicKey).PublicPEM()
				if err != nil {
					return nil, fmt.Errorf("functionary %s: %w", name, err)
				}
				addPair(fn, "key", &yaml.Node{Kind: yaml.ScalarNode, Value: string(pem), Style: yaml.LiteralStyle})
			default:
				addPair(fn, "issuer", str(f.Issuer))
				if f.Subject != "" {
					addPair(fn, "subject", str(f.Subject))
				}
				if f.SubjectRegexp != "" {
					addPair(fn, "subject_regexp", str(f.SubjectRegexp))
				}
				if len(f.Claims) > 0 {
					cs := mapNode()
					for _, c := range sortedNames(f.Claims) {
						m := f.Claims[c]
						if m.Regexp != "" {
							rm := mapNode()
							rm.Style = yaml.FlowStyle
							addPair(rm, "regexp", str(m.Regexp))
							addPair(cs, c, rm)
						} else {
							addPair(cs, c, str(m.Exact))
						}
					}
					addPair(fn, "claims", cs)
				}
			}
			k := str(name)
			k.HeadComment = comments["functionaries."+name]
			fs.Content = append(fs.Content, k, fn)
		}
		addPair(root, "functionaries", fs)
	}
	steps := &yaml.Node{Kind: yaml.SequenceNode}
	for _, s := range doc.Steps {
		sn := mapNode()
		sn.HeadComment = comments["steps."+s.Name]
		addPair(sn, "name", str(s.Name))
		addPair(sn, "functionaries", flowList(s.Functionaries))
		t := s.Threshold
		if t == 0 {
			t = 1
		}
		addPair(sn, "threshold", &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.Itoa(t)})
		if len(s.Command) > 0 {
			addPair(sn, "command", flowList(s.Command))
		}
		addPair(sn, "materials", ruleList(s.Materials))
		addPair(sn, "products", ruleList(s.Products))
		steps.Content = append(steps.Content, sn)
	}
	addPair(root, "steps", steps)
	if len(doc.Inspections) > 0 {
		ins := &yaml.Node{Kind: yaml.SequenceNode}
		for _, in := range doc.Inspections {
			n := mapNode()
			addPair(n, "name", str(in.Name))
			addPair(n, "run", flowList(in.Run))
			addPair(n, "materials", ruleList(in.Materials))
			addPair(n, "products", ruleList(in.Products))
			ins.Content = append(ins.Content, n)
		}
		addPair(root, "inspections", ins)
	}
	if doc.RunBinding != "" {
		addPair(root, "run_binding", str(doc.RunBinding))
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func mapNode() *yaml.Node { return &yaml.Node{Kind: yaml.MappingNode} }

func str(s string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s} }

func addPair(m *yaml.Node, key string, v *yaml.Node) {
	m.Content = append(m.Content, str(key), v)
}

func flowList(items []string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, s := range items {
		n.Content = append(n.Content, str(s))
	}
	return n
}

func ruleList(rs []Rule) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	if len(rs) == 0 {
		n.Style = yaml.FlowStyle
	}
	for _, r := range rs {
		n.Content = append(n.Content, str(r.String()))
	}
	return n
}
