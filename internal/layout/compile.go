package layout

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// CompileOptions tune Compile.
type CompileOptions struct {
	// BaseDir is where relative key paths are read from (the YAML file's directory).
	BaseDir string
	// ReadFile reads a key file; nil means os.ReadFile.
	ReadFile func(string) ([]byte, error)
}

// Compile turns the authored document into an in-toto v1.0 layout. Key functionaries become layout
// keys and step pubkeys; keyless functionaries become the "identities" extension and step
// "identities". A layout without keyless functionaries has no extension field: pure v1.0.
func Compile(doc *Document, opts CompileOptions) (*intoto.Layout, error) {
	if opts.ReadFile == nil {
		opts.ReadFile = os.ReadFile
	}
	var errs []error
	fail := func(line int, path, format string, a ...any) {
		errs = append(errs, &Error{Line: line, Path: path, Reason: fmt.Sprintf(format, a...)})
	}
	l := &intoto.Layout{Type: intoto.TypeLayout, Readme: doc.Readme, RunBinding: doc.RunBinding,
		Keys: map[string]*intoto.Key{}, Steps: []*intoto.Step{}, Inspections: []*intoto.Inspection{}}
	if doc.Expires == "" {
		fail(doc.Line, "expires", "expires is required (RFC 3339, e.g. 2027-06-01T00:00:00Z)")
	} else if t, err := ParseExpires(doc.Expires); err != nil {
		fail(doc.ExpiresLine, "expires", "%v", err)
	} else {
		l.Expires = t.UTC().Format(intoto.ExpiresFormat)
	}

	keyids := map[string]string{} // functionary → keyid
	for _, name := range sortedNames(doc.Functionaries) {
		f := doc.Functionaries[name]
		path := "functionaries." + name
		switch {
		case f.PublicKey != nil:
			keyids[name] = l.AddKey(keys.FromRecord(f.PublicKey).Record())
		case f.Key != "":
			k, err := loadKey(f.Key, opts)
			if err != nil {
				fail(f.Line, path+".key", "%v", err)
				continue
			}
			keyids[name] = l.AddKey(k)
		default:
			id := f.Identity()
			if err := id.Validate(); err != nil {
				fail(f.Line, path, "%v", err)
				continue
			}
			if l.Identities == nil {
				l.Identities = map[string]*intoto.Identity{}
			}
			l.Identities[name] = id
		}
	}

	seen := map[string]string{}
	for i, s := range doc.Steps {
		path := fmt.Sprintf("steps[%d]", i)
		if prev, ok := seen[s.Name]; ok {
			fail(s.Line, path, "name %q is already used by %s", s.Name, prev)
		}
		seen[s.Name] = path
		step := &intoto.Step{Type: intoto.TypeStep, Name: s.Name, Threshold: s.Threshold,
			ExpectedMaterials: toRules(s.Materials), ExpectedProducts: toRules(s.Products),
			PubKeys: []string{}, ExpectedCommand: append([]string{}, s.Command...)}
		if step.Threshold == 0 {
			step.Threshold = 1
		}
		for _, fn := range s.Functionaries {
			f, ok := doc.Functionaries[fn]
			switch {
			case !ok:
				fail(lineOr(s.FunctionariesLine, s.Line), path+".functionaries", "unknown functionary %q (declare it under functionaries)", fn)
			case f.Keyless():
				if !contains(step.Identities, fn) {
					step.Identities = append(step.Identities, fn)
				}
			default:
				if id, ok := keyids[fn]; ok && !contains(step.PubKeys, id) {
					step.PubKeys = append(step.PubKeys, id)
				}
			}
		}
		l.Steps = append(l.Steps, step)
	}
	for i, in := range doc.Inspections {
		path := fmt.Sprintf("inspections[%d]", i)
		if prev, ok := seen[in.Name]; ok {
			fail(in.Line, path, "name %q is already used by %s", in.Name, prev)
		}
		seen[in.Name] = path
		if len(in.Run) == 0 {
			fail(in.Line, path+".run", "an inspection needs a run command")
		}
		l.Inspections = append(l.Inspections, &intoto.Inspection{Type: intoto.TypeInspection, Name: in.Name,
			Run: append([]string{}, in.Run...), ExpectedMaterials: toRules(in.Materials), ExpectedProducts: toRules(in.Products)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if err := keys.ValidateLayout(l); err != nil {
		return nil, fmt.Errorf("compiled layout: %w", err)
	}
	return l, nil
}

func lineOr(a, b int) int {
	if a > 0 {
		return a
	}
	return b
}

func loadKey(ref string, opts CompileOptions) (*intoto.Key, error) {
	if strings.HasPrefix(strings.TrimSpace(ref), "-----BEGIN") {
		k, err := keys.Parse([]byte(ref), nil)
		if err != nil {
			return nil, fmt.Errorf("inline key: %w", err)
		}
		return k.Record(), nil
	}
	path := ref
	if !filepath.IsAbs(path) && opts.BaseDir != "" {
		path = filepath.Join(opts.BaseDir, path)
	}
	data, err := opts.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read key: %w", err)
	}
	k, err := keys.Parse(data, nil)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", ref, err)
	}
	return k.Record(), nil
}

// ParseExpires reads an expiry: RFC 3339 (any offset), or a date (midnight UTC).
func ParseExpires(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expires %q: want RFC 3339 (2027-06-01T00:00:00Z) or a date (2027-06-01)", s)
}

func sortedNames[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// FromLayout turns a compiled layout back into a document (for lint and for reading): keys become
// functionaries named by their short keyid, identities keep their names.
func FromLayout(l *intoto.Layout) *Document {
	doc := &Document{Expires: l.Expires, Readme: l.Readme, RunBinding: l.RunBinding,
		Functionaries: map[string]*Functionary{}}
	keyName := func(id string) string {
		if len(id) > 8 {
			return "key-" + id[:8]
		}
		return "key-" + id
	}
	for id, k := range l.Keys {
		doc.Functionaries[keyName(id)] = &Functionary{Name: keyName(id), PublicKey: k}
	}
	for name, id := range l.Identities {
		if id == nil {
			continue
		}
		doc.Functionaries[name] = &Functionary{Name: name, Issuer: id.Issuer, Subject: id.Subject,
			SubjectRegexp: id.SubjectRegexp, Claims: id.Claims}
	}
	for _, s := range l.Steps {
		if s == nil {
			continue
		}
		st := &Step{Name: s.Name, Threshold: s.Threshold, Command: s.ExpectedCommand,
			Materials: fromRules(s.ExpectedMaterials), Products: fromRules(s.ExpectedProducts)}
		for _, id := range s.PubKeys {
			st.Functionaries = append(st.Functionaries, keyName(id))
		}
		st.Functionaries = append(st.Functionaries, s.Identities...)
		doc.Steps = append(doc.Steps, st)
	}
	for _, in := range l.Inspections {
		if in == nil {
			continue
		}
		doc.Inspections = append(doc.Inspections, &Inspection{Name: in.Name, Run: in.Run,
			Materials: fromRules(in.ExpectedMaterials), Products: fromRules(in.ExpectedProducts)})
	}
	return doc
}
