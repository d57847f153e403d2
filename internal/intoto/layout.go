package intoto

import (
	"fmt"
	"strings"
	"time"
)

// ExpiresFormat is the only expiry format both peers accept: UTC, seconds, a literal Z.
const ExpiresFormat = "2006-01-02T15:04:05Z"

// DecodeLayout decodes a v1.0 layout document (the payload of an envelope, not the envelope itself).
// Unknown fields are kept in Extra. It does not validate: call Validate.
func DecodeLayout(data []byte) (*Layout, error) {
	var l Layout
	if err := l.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decode layout: %w", err)
	}
	return &l, nil
}

// Validate checks the layout's structure: types, expiry format, unique step and
// inspection names, thresholds, functionaries that exist, and non-empty rules. The keys themselves
// (usable, listed under their own keyids) are checked by keys.CheckLayout, rule grammar by the rules
// package, and expiry against the clock by the verifier.
func (l *Layout) Validate() error {
	if l.Type != TypeLayout {
		return fmt.Errorf("%w: layout _type is %q, want %q", ErrInvalid, l.Type, TypeLayout)
	}
	// time.Parse also takes fractional seconds the format does not show: compare the round trip.
	if exp, err := time.Parse(ExpiresFormat, l.Expires); err != nil || exp.Format(ExpiresFormat) != l.Expires {
		return fmt.Errorf("%w: layout expires %q is not of the form %s", ErrInvalid, l.Expires, ExpiresFormat)
	}
	for id, k := range l.Keys {
		if k == nil {
			return fmt.Errorf("%w: layout key %s is null", ErrInvalid, id)
		}
	}
	for name, ident := range l.Identities {
		if ident == nil {
			return fmt.Errorf("%w: identity %q is null", ErrInvalid, name)
		}
		if err := checkIdentity(ident); err != nil {
			return fmt.Errorf("%w: identity %q: %w", ErrInvalid, name, err)
		}
	}
	names := map[string]string{}
	for i, s := range l.Steps {
		if s == nil {
			return fmt.Errorf("%w: step %d is null", ErrInvalid, i)
		}
		if s.Type != TypeStep {
			return fmt.Errorf("%w: step %q _type is %q, want %q", ErrInvalid, s.Name, s.Type, TypeStep)
		}
		if err := checkName(names, "step", s.Name); err != nil {
			return err
		}
		if s.Threshold < 1 {
			return fmt.Errorf("%w: step %q threshold %d, want at least 1", ErrInvalid, s.Name, s.Threshold)
		}
		for _, id := range s.PubKeys {
			if _, ok := l.Keys[id]; !ok {
				return fmt.Errorf("%w: step %q pubkey %s is not in the layout keys", ErrInvalid, s.Name, id)
			}
		}
		for _, n := range s.Identities {
			if _, ok := l.Identities[n]; !ok {
				return fmt.Errorf("%w: step %q identity %q is not in the layout identities", ErrInvalid, s.Name, n)
			}
		}
		if err := checkRules("step", s.Name, s.ExpectedMaterials, s.ExpectedProducts); err != nil {
			return err
		}
	}
	for i, in := range l.Inspections {
		if in == nil {
			return fmt.Errorf("%w: inspection %d is null", ErrInvalid, i)
		}
		if in.Type != TypeInspection {
			return fmt.Errorf("%w: inspection %q _type is %q, want %q", ErrInvalid, in.Name, in.Type, TypeInspection)
		}
		if err := checkName(names, "inspection", in.Name); err != nil {
			return err
		}
		if len(in.Run) == 0 {
			return fmt.Errorf("%w: inspection %q has an empty run command", ErrInvalid, in.Name)
		}
		if err := checkRules("inspection", in.Name, in.ExpectedMaterials, in.ExpectedProducts); err != nil {
			return err
		}
	}
	return nil
}

func checkName(seen map[string]string, kind, name string) error {
	if name == "" {
		return fmt.Errorf("%w: %s with an empty name", ErrInvalid, kind)
	}
	// Step and inspection names become file and directory names (links, sublayout directories,
	// unfinished links): one plain path segment, like `run --step`.
	if err := CheckStepName(name); err != nil {
		return fmt.Errorf("%w: %s %w", ErrInvalid, kind, err)
	}
	if prev, ok := seen[name]; ok {
		return fmt.Errorf("%w: %s name %q is already used by a %s", ErrInvalid, kind, name, prev)
	}
	seen[name] = kind
	return nil
}

func checkRules(kind, name string, lists ...[]Rule) error {
	for li, rules := range lists {
		which := [...]string{"expected_materials", "expected_products"}[li]
		for i, r := range rules {
			if len(r) == 0 {
				return fmt.Errorf("%w: %s %q %s rule %d is empty", ErrInvalid, kind, name, which, i+1)
			}
		}
	}
	return nil
}

// checkIdentity is Identity.Validate: a layout whose identity sets both subject and subject_regexp
// (Match would use the regexp alone) or names an unknown claim (which would pin nothing) is invalid.
func checkIdentity(id *Identity) error {
	return id.Validate()
}

// Step returns the step called name, or nil.
func (l *Layout) Step(name string) *Step {
	for _, s := range l.Steps {
		if s != nil && s.Name == name {
			return s
		}
	}
	return nil
}

// AddKey lists the public key record k in the layout keys under its keyid (k.KeyID, which keys.Key.Record
// sets) and returns that keyid.
func (l *Layout) AddKey(k *Key) string {
	if l.Keys == nil {
		l.Keys = map[string]*Key{}
	}
	l.Keys[k.KeyID] = k
	return k.KeyID
}

// Substitute replaces {name} placeholders in every step's expected_command and rules and in every
// inspection's run and rules, as in-toto-python's substitute_parameters does with str.format: "{{" and
// "}}" stand for literal braces, an unknown name or a lone brace is an error. Like the peers, callers
// substitute only when parameters were given. On error the layout is left unchanged.
func (l *Layout) Substitute(params map[string]string) error {
	type job struct {
		where string
		words []string
	}
	var jobs []job
	for _, s := range l.Steps {
		jobs = append(jobs, job{"step " + s.Name + " expected_command", s.ExpectedCommand})
		for _, r := range s.ExpectedMaterials {
			jobs = append(jobs, job{"step " + s.Name + " expected_materials", r})
		}
		for _, r := range s.ExpectedProducts {
			jobs = append(jobs, job{"step " + s.Name + " expected_products", r})
		}
	}
	for _, in := range l.Inspections {
		jobs = append(jobs, job{"inspection " + in.Name + " run", in.Run})
		for _, r := range in.ExpectedMaterials {
			jobs = append(jobs, job{"inspection " + in.Name + " expected_materials", r})
		}
		for _, r := range in.ExpectedProducts {
			jobs = append(jobs, job{"inspection " + in.Name + " expected_products", r})
		}
	}
	out := make([][]string, len(jobs))
	for i, j := range jobs {
		out[i] = make([]string, len(j.words))
		for w, word := range j.words {
			s, err := substitute(word, params)
			if err != nil {
				return fmt.Errorf("substitute parameters in %s: %w", j.where, err)
			}
			out[i][w] = s
		}
	}
	for i, j := range jobs {
		copy(j.words, out[i])
	}
	return nil
}

// ErrUnknownParameter is returned by Substitute for a placeholder without a value.
var ErrUnknownParameter = fmt.Errorf("unknown parameter")

func substitute(s string, params map[string]string) (string, error) {
	if !strings.ContainsAny(s, "{}") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			b.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			b.WriteByte('}')
			i++
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return "", fmt.Errorf("unmatched '{' in %q", s)
			}
			name := s[i+1 : i+1+end]
			v, ok := params[name]
			if !ok {
				return "", fmt.Errorf("%w %q in %q", ErrUnknownParameter, name, s)
			}
			b.WriteString(v)
			i += end + 1
		case c == '}':
			return "", fmt.Errorf("single '}' in %q", s)
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}
