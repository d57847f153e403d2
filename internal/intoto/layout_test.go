package intoto

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"
)

func TestLayoutExtraFieldsKept(t *testing.T) {
	t.Parallel()
	l, err := DecodeLayout(interoptest.Payload(t, interoptest.Read(t, "in-toto-golang/demo.layout")))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"rootcas", "intermediatecas"} {
		if _, ok := l.Extra[k]; !ok {
			t.Errorf("layout Extra lacks %s", k)
		}
	}
	if _, ok := l.Step("write-code").Extra["cert_constraints"]; !ok {
		t.Error("step write-code Extra lacks cert_constraints")
	}
}

func TestLayoutMarshalPureV1(t *testing.T) {
	t.Parallel()
	l := &Layout{Type: TypeLayout, Expires: "2030-01-01T00:00:00Z",
		Steps:       []*Step{{Type: TypeStep, Name: "build", Threshold: 1}},
		Inspections: []*Inspection{{Type: TypeInspection, Name: "check", Run: []string{"true"}}}}
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	want := []string{"_type", "expires", "inspect", "keys", "readme", "steps"}
	if !sameSet(keys, want) {
		t.Errorf("layout fields: got %v, want %v", keys, want)
	}
	step := m["steps"].([]any)[0].(map[string]any)
	for _, f := range []string{"expected_materials", "expected_products", "pubkeys", "expected_command"} {
		if v, ok := step[f].([]any); !ok || len(v) != 0 {
			t.Errorf("step %s: got %v, want []", f, step[f])
		}
	}
	if _, ok := step["identities"]; ok {
		t.Error("step has identities without any")
	}
	if s := string(b); strings.Contains(s, "null") {
		t.Errorf("layout JSON has null: %s", s)
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}

func validLayout(t *testing.T) *Layout {
	t.Helper()
	l, err := DecodeLayout(interoptest.Payload(t, interoptest.Read(t, "in-toto-python/demo_files/demo.layout.template")))
	if err != nil {
		t.Fatal(err)
	}
	l.Expires = "2030-01-01T00:00:00Z"
	if err := l.Validate(); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestLayoutValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		mutate func(*Layout)
		want   string
	}{
		{"wrong type", func(l *Layout) { l.Type = "link" }, `_type is "link"`},
		{"expires not Z", func(l *Layout) { l.Expires = "2030-01-01T00:00:00+01:00" }, "expires"},
		{"expires date only", func(l *Layout) { l.Expires = "2030-01-01" }, "expires"},
		{"duplicate step", func(l *Layout) { l.Steps[1].Name = l.Steps[0].Name }, "already used"},
		{"inspection named like a step", func(l *Layout) { l.Inspections[0].Name = "package" }, "already used"},
		{"empty step name", func(l *Layout) { l.Steps[0].Name = "" }, "empty name"},
		{"threshold zero", func(l *Layout) { l.Steps[0].Threshold = 0 }, "threshold 0"},
		{"unknown pubkey", func(l *Layout) { l.Steps[0].PubKeys = []string{"abcd"} }, "not in the layout keys"},
		{"unknown identity", func(l *Layout) { l.Steps[0].Identities = []string{"ci"} }, "not in the layout identities"},
		{"null key", func(l *Layout) {
			for id := range l.Keys {
				l.Keys[id] = nil
				break
			}
		}, "is null"},
		{"empty rule", func(l *Layout) { l.Steps[1].ExpectedMaterials = append(l.Steps[1].ExpectedMaterials, Rule{}) }, "expected_materials rule 2 is empty"},
		{"step type", func(l *Layout) { l.Steps[0].Type = "inspection" }, "_type"},
		{"inspection empty run", func(l *Layout) { l.Inspections[0].Run = nil }, "empty run"},
		{"identity without issuer", func(l *Layout) { l.Identities = map[string]*Identity{"ci": {Subject: "x"}} }, "issuer is required"},
		// Match would use the regexp alone and ignore the exact subject a reviewer reads.
		{"identity with subject and subject_regexp", func(l *Layout) {
			l.Identities = map[string]*Identity{"ci": {Issuer: "i", Subject: "x", SubjectRegexp: ".*"}}
		}, "exclusive"},
		// A misspelt claim would pin nothing (an exact "" matches its absence).
		{"identity with an unknown claim", func(l *Layout) {
			l.Identities = map[string]*Identity{"ci": {Issuer: "i", Subject: "x", Claims: map[string]ClaimMatch{"source_repo": {}}}}
		}, "unknown claim"},
		{"identity bad regexp", func(l *Layout) {
			l.Identities = map[string]*Identity{"ci": {Issuer: "i", SubjectRegexp: "("}}
		}, "subject_regexp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := validLayout(t)
			tt.mutate(l)
			err := l.Validate()
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid containing %q", err, tt.want)
			}
		})
	}
	l := validLayout(t)
	l.Identities = map[string]*Identity{"ci": {Issuer: "https://issuer", SubjectRegexp: "^x$"}}
	l.Steps[0].Identities = []string{"ci"}
	if err := l.Validate(); err != nil {
		t.Errorf("layout with identities: %v", err)
	}
}

func TestDecodeLayoutErrors(t *testing.T) {
	t.Parallel()
	for _, in := range []string{`null`, `[]`, `"x"`, `{"steps":"x"}`, `{"_type":"layout","_TYPE":"x"}`, `{"steps":[{"Name":"a"}]}`, `{`} {
		if _, err := DecodeLayout([]byte(in)); err == nil {
			t.Errorf("DecodeLayout(%s): got no error", in)
		}
	}
}

func TestSubstitute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want, err string
	}{
		{name: "none", in: "foo.py", want: "foo.py"},
		{name: "one", in: "{name}.tar.gz", want: "demo.tar.gz"},
		{name: "two", in: "{dir}/{name}", want: "dist/demo"},
		{name: "escaped", in: "{{name}}", want: "{name}"},
		{name: "glob braces escaped", in: "a{{b,c}}", want: "a{b,c}"},
		{name: "unknown", in: "{nope}", err: "unknown parameter"},
		{name: "unmatched open", in: "{name", err: "unmatched"},
		{name: "single close", in: "name}", err: "single '}'"},
	}
	params := map[string]string{"name": "demo", "dir": "dist"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := substitute(tt.in, params)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Errorf("got %q, %v; want error %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestLayoutSubstitute(t *testing.T) {
	t.Parallel()
	l := validLayout(t)
	l.Steps[1].ExpectedCommand = []string{"tar", "zcvf", "{archive}", "foo.py"}
	l.Steps[1].ExpectedProducts = []Rule{{"CREATE", "{archive}"}}
	l.Inspections[0].Run = []string{"tar", "xfz", "{archive}"}
	if err := l.Substitute(map[string]string{"archive": "foo.tar.gz"}); err != nil {
		t.Fatal(err)
	}
	if got, want := l.Steps[1].ExpectedCommand, []string{"tar", "zcvf", "foo.tar.gz", "foo.py"}; !reflect.DeepEqual(got, want) {
		t.Errorf("expected_command: got %v, want %v", got, want)
	}
	if got := l.Steps[1].ExpectedProducts[0][1]; got != "foo.tar.gz" {
		t.Errorf("rule: got %q", got)
	}
	if got := l.Inspections[0].Run[2]; got != "foo.tar.gz" {
		t.Errorf("run: got %q", got)
	}
	l.Inspections[0].Run = []string{"{a}", "{missing}"}
	l.Steps[0].ExpectedCommand = []string{"{a}"}
	err := l.Substitute(map[string]string{"a": "A"})
	if !errors.Is(err, ErrUnknownParameter) || !strings.Contains(err.Error(), "inspection untar run") {
		t.Errorf("got %v, want ErrUnknownParameter naming the inspection", err)
	}
	if l.Steps[0].ExpectedCommand[0] != "{a}" {
		t.Error("failed Substitute changed the layout")
	}
}

func TestAddKey(t *testing.T) {
	t.Parallel()
	rec := &Key{KeyID: "0123abcd", KeyType: "ed25519", Scheme: "ed25519", KeyVal: KeyVal{Public: "00"}}
	l := &Layout{Type: TypeLayout, Expires: "2030-01-01T00:00:00Z"}
	if id := l.AddKey(rec); id != rec.KeyID || l.Keys[id] != rec {
		t.Errorf("AddKey: got %s %+v, want %s listed", id, l.Keys[id], rec.KeyID)
	}
}

func FuzzDecodeLayout(f *testing.F) {
	for _, fx := range interoptest.Layouts {
		f.Add(interoptest.Payload(f, interoptest.Read(f, fx)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := DecodeLayout(data)
		if err != nil {
			return
		}
		_ = l.Validate()
		_ = l.Substitute(map[string]string{"a": "b"})
		if _, err := json.Marshal(l); err != nil {
			t.Fatalf("marshal decoded layout: %v", err)
		}
	})
}
