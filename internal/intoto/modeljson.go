package intoto

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Field names of each document type, in the order the peers write them; anything else goes to Extra.
var (
	// LinkFields are a link's members, in the order the peers write them.
	LinkFields       = [...]string{"_type", "name", "command", "materials", "products", "byproducts", "environment"}
	layoutFields     = []string{"_type", "expires", "readme", "keys", "steps", "inspect", "identities", "run_binding"}
	stepFields       = []string{"_type", "name", "expected_materials", "expected_products", "pubkeys", "expected_command", "threshold", "identities"}
	inspectionFields = []string{"_type", "name", "expected_materials", "expected_products", "run"}
)

// errNotObject is returned when a document is not a JSON object.
var errNotObject = errors.New("not a json object")

// decodeObject decodes data into dst (a method-less alias of a model type) and returns the members whose
// names dst does not know. encoding/json matches names case-insensitively; a member that differs from a
// known name only by case is refused, because other implementations would read a different value.
func decodeObject(data []byte, dst any, known []string) (map[string]json.RawMessage, error) {
	t := bytes.TrimLeft(data, " \t\r\n")
	if len(t) == 0 || t[0] != '{' {
		return nil, errNotObject
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	var extra map[string]json.RawMessage
	for name, v := range all {
		if isKnown(name, known) {
			continue
		}
		for _, k := range known {
			if strings.EqualFold(name, k) {
				return nil, fmt.Errorf("field %q is ambiguous with %q", name, k)
			}
		}
		if extra == nil {
			extra = map[string]json.RawMessage{}
		}
		extra[name] = v
	}
	if err := json.Unmarshal(data, dst); err != nil {
		return nil, err
	}
	return extra, nil
}

func isKnown(name string, known []string) bool {
	for _, k := range known {
		if k == name {
			return true
		}
	}
	return false
}

// encodeObject marshals v (a method-less alias) and merges extra members that v does not already set.
func encodeObject(v any, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil || len(extra) == 0 {
		return b, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	for k, raw := range extra {
		if _, ok := m[k]; !ok {
			m[k] = raw
		}
	}
	return json.Marshal(m)
}

// genericLink is a link as encoding/json reads and writes it, the artifacts as maps.
type genericLink struct {
	Type        string             `json:"_type"`
	Name        string             `json:"name"`
	Command     []string           `json:"command"`
	Materials   map[string]Digests `json:"materials"`
	Products    map[string]Digests `json:"products"`
	ByProducts  map[string]any     `json:"byproducts"`
	Environment map[string]any     `json:"environment"`
}

// UnmarshalJSON decodes a link through encoding/json and keeps unknown fields in Extra: the general
// path, which wire.DecodeLink takes for what its one-pass scanner does not read, and the oracle that
// scanner is held to.
func (l *Link) UnmarshalJSON(data []byte) error {
	var g genericLink
	extra, err := decodeObject(data, &g, LinkFields[:])
	if err != nil {
		return err
	}
	*l = Link{Type: g.Type, Name: g.Name, Command: g.Command, Materials: NewArtifactSet(g.Materials),
		Products: NewArtifactSet(g.Products), ByProducts: g.ByProducts, Environment: g.Environment, Extra: extra}
	return nil
}

// MarshalJSON encodes a link through encoding/json, with empty lists and objects (never null) where
// the peers expect them: the general path, the oracle wire.MarshalLink is held to, and the encoder of
// links with unknown fields.
func (l Link) MarshalJSON() ([]byte, error) {
	a := l.alias()
	g := genericLink{Type: a.Type, Name: a.Name, Command: a.Command, Materials: a.Materials.Map(),
		Products: a.Products.Map(), ByProducts: a.ByProducts, Environment: a.Environment}
	return encodeObject(g, l.Extra)
}

// alias is l with empty lists and objects (never null) where the peers expect them.
func (l *Link) alias() Link {
	a := *l
	if a.Command == nil {
		a.Command = []string{}
	}
	if a.ByProducts == nil {
		a.ByProducts = map[string]any{}
	}
	if a.Environment == nil {
		a.Environment = map[string]any{}
	}
	return a
}

type layoutAlias Layout

// UnmarshalJSON decodes a layout and keeps unknown fields in Extra.
func (l *Layout) UnmarshalJSON(data []byte) error {
	var a layoutAlias
	extra, err := decodeObject(data, &a, layoutFields)
	if err != nil {
		return err
	}
	a.Extra = extra
	*l = Layout(a)
	return nil
}

// MarshalJSON encodes a layout; without identities it is pure in-toto v1.0.
func (l Layout) MarshalJSON() ([]byte, error) {
	a := layoutAlias(l)
	if a.Keys == nil {
		a.Keys = map[string]*Key{}
	}
	if a.Steps == nil {
		a.Steps = []*Step{}
	}
	if a.Inspections == nil {
		a.Inspections = []*Inspection{}
	}
	return encodeObject(a, l.Extra)
}

type stepAlias Step

// UnmarshalJSON decodes a step and keeps unknown fields in Extra.
func (s *Step) UnmarshalJSON(data []byte) error {
	var a stepAlias
	extra, err := decodeObject(data, &a, stepFields)
	if err != nil {
		return fmt.Errorf("step: %w", err)
	}
	a.Extra = extra
	*s = Step(a)
	return nil
}

// MarshalJSON encodes a step with empty lists (never null).
func (s Step) MarshalJSON() ([]byte, error) {
	a := stepAlias(s)
	a.ExpectedMaterials = nonNilRules(a.ExpectedMaterials)
	a.ExpectedProducts = nonNilRules(a.ExpectedProducts)
	if a.PubKeys == nil {
		a.PubKeys = []string{}
	}
	if a.ExpectedCommand == nil {
		a.ExpectedCommand = []string{}
	}
	return encodeObject(a, s.Extra)
}

type inspectionAlias Inspection

// UnmarshalJSON decodes an inspection and keeps unknown fields in Extra.
func (in *Inspection) UnmarshalJSON(data []byte) error {
	var a inspectionAlias
	extra, err := decodeObject(data, &a, inspectionFields)
	if err != nil {
		return fmt.Errorf("inspection: %w", err)
	}
	a.Extra = extra
	*in = Inspection(a)
	return nil
}

// MarshalJSON encodes an inspection with empty lists (never null).
func (in Inspection) MarshalJSON() ([]byte, error) {
	a := inspectionAlias(in)
	a.ExpectedMaterials = nonNilRules(a.ExpectedMaterials)
	a.ExpectedProducts = nonNilRules(a.ExpectedProducts)
	if a.Run == nil {
		a.Run = []string{}
	}
	return encodeObject(a, in.Extra)
}

func nonNilRules(r []Rule) []Rule {
	if r == nil {
		return []Rule{}
	}
	return r
}
