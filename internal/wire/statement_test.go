package wire

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"

	"github.com/google/go-cmp/cmp"
)

var (
	sha256hex = strings.Repeat("ab", 32)
	sha512hex = strings.Repeat("cd", 64)
	sha1hex   = strings.Repeat("ef", 20)
)

func TestStatementRoundTrip(t *testing.T) {
	t.Parallel()
	links := []*intoto.Link{
		{
			Type:    intoto.TypeLink,
			Name:    "build",
			Command: []string{"make", "dist"},
			Materials: intoto.NewArtifactSet(map[string]intoto.Digests{
				"src/main.go": {"sha256": sha256hex, "sha512": sha512hex},
				"go.mod":      {"sha256": sha256hex},
			}),
			Products:    intoto.NewArtifactSet(map[string]intoto.Digests{"dist/app": {"sha256": sha256hex, "sha512": sha512hex, "gitCommit": sha1hex}}),
			ByProducts:  map[string]any{"return-value": float64(0), "stdout": "ok\n", "stderr": ""},
			Environment: map[string]any{"ci": map[string]any{"run": "42"}},
		},
		{Type: intoto.TypeLink, Name: "test", Command: []string{}, Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"sha256": sha256hex}}), Products: intoto.ArtifactSet{}},
	}
	for _, f := range interoptest.Links {
		l, err := DecodeLink(interoptest.Payload(t, interoptest.Read(t, f)))
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, l)
	}
	for _, l := range links {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			st, err := LinkToStatement(l)
			if err != nil {
				t.Fatal(err)
			}
			var probe struct {
				Type          string `json:"_type"`
				PredicateType string `json:"predicateType"`
				Subject       []struct {
					Name   string            `json:"name"`
					Digest map[string]string `json:"digest"`
				} `json:"subject"`
				Predicate map[string]json.RawMessage `json:"predicate"`
			}
			if err := json.Unmarshal(st, &probe); err != nil {
				t.Fatal(err)
			}
			if probe.Type != intoto.StatementTypeV1 || probe.PredicateType != intoto.LinkPredicateV03 {
				t.Errorf("got _type %q predicateType %q", probe.Type, probe.PredicateType)
			}
			if len(probe.Subject) != l.Products.Len() {
				t.Errorf("got %d subjects, want %d", len(probe.Subject), l.Products.Len())
			}
			if _, ok := probe.Predicate["name"]; !ok {
				t.Error("predicate has no name")
			}
			if _, ok := probe.Predicate["products"]; ok {
				t.Error("predicate has products (they belong in subject)")
			}
			back, err := StatementToLink(st)
			if err != nil {
				t.Fatal(err)
			}
			want := *l
			want.Extra = nil
			norm := func(l *intoto.Link) {
				if l.Command == nil {
					l.Command = []string{}
				}
				if len(l.ByProducts) == 0 {
					l.ByProducts = nil
				}
				if len(l.Environment) == 0 {
					l.Environment = nil
				}
			}
			norm(&want)
			norm(back)
			if diff := cmp.Diff(&want, back); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
			again, err := LinkToStatement(back)
			if err != nil {
				t.Fatal(err)
			}
			if string(again) != string(st) {
				t.Errorf("statement bytes not stable:\n%s\n%s", st, again)
			}
		})
	}
}

func TestStatementToLinkErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in string
		want     error
	}{
		{"other predicate", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}}],"predicateType":"https://slsa.dev/provenance/v1","predicate":{}}`, ErrNotLinkStatement},
		{"unknown statement version", `{"_type":"https://in-toto.io/Statement/v0.2","subject":[],"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{}}`, ErrNotLinkStatement},
		{"a link", `{"_type":"link","name":"x"}`, nil},
		{"duplicate subject", `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a","digest":{"sha256":"00"}},{"name":"a","digest":{"sha256":"01"}}],"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"x"}}`, nil},
		{"material without digest", `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"x","materials":[{"name":"m"}]}}`, nil},
		{"not json", `{`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := StatementToLink([]byte(tt.in))
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	if !IsStatement([]byte(`{"_type":"https://in-toto.io/Statement/v1"}`)) || IsStatement([]byte(`{"_type":"link"}`)) {
		t.Error("IsStatement misclassifies")
	}
}

func FuzzStatementToLink(f *testing.F) {
	l := &intoto.Link{Type: intoto.TypeLink, Name: "b", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"p": {"sha256": sha256hex}}), Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"m": {"sha512": sha512hex}})}
	st, err := LinkToStatement(l)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(st)
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := StatementToLink(data)
		if err != nil {
			return
		}
		if _, err := json.Marshal(l); err != nil {
			t.Fatal(err)
		}
	})
}

// TestStatementV01ToLink: cosign attest-blob writes Statement v0.1; with a link v0.3 predicate it reads
// as the same link as a v1 Statement. Other Statement versions are refused by name.
func TestStatementV01ToLink(t *testing.T) {
	t.Parallel()
	doc := func(typ string) []byte {
		return []byte(`{"_type":"` + typ + `","subject":[{"name":"dist/app","digest":{"sha256":"` +
			strings.Repeat("ab", 32) + `"}}],"predicateType":"` + intoto.LinkPredicateV03 + `","predicate":{"name":"build",` +
			`"command":["make"],"materials":[{"name":"src/main.go","digest":{"sha256":"` + strings.Repeat("cd", 32) + `"}}]}}`)
	}
	v1, err := StatementToLink(doc(intoto.StatementTypeV1))
	if err != nil {
		t.Fatal(err)
	}
	v01, err := StatementToLink(doc(intoto.StatementTypeV01))
	if err != nil {
		t.Fatalf("Statement v0.1: %v", err)
	}
	if d := cmp.Diff(v1, v01); d != "" {
		t.Errorf("v0.1 and v1 differ (-v1 +v0.1):\n%s", d)
	}
	for _, typ := range []string{"https://in-toto.io/Statement/v0.2", "https://in-toto.io/Statement/v2", "link"} {
		if _, err := StatementToLink(doc(typ)); !errors.Is(err, ErrNotLinkStatement) {
			t.Errorf("_type %q: got %v, want ErrNotLinkStatement", typ, err)
		}
	}
}

// DecodeLinkPayload reads a link signed in either form to the same link, and refuses what is neither.
func TestDecodeLinkPayload(t *testing.T) {
	t.Parallel()
	l := &intoto.Link{Type: intoto.TypeLink, Name: "build", Command: []string{"make"},
		Materials:   intoto.NewArtifactSet(map[string]intoto.Digests{"src/main.go": {"sha256": sha256hex}}),
		Products:    intoto.NewArtifactSet(map[string]intoto.Digests{"dist/app": {"sha256": sha256hex}}),
		ByProducts:  map[string]any{},
		Environment: map[string]any{},
	}
	v09, err := MarshalLink(l)
	if err != nil {
		t.Fatal(err)
	}
	st, err := LinkToStatement(l)
	if err != nil {
		t.Fatal(err)
	}
	for name, payload := range map[string][]byte{"link": v09, "statement": st} {
		got, err := DecodeLinkPayload(payload)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got.Name != "build" || got.Materials.Len() != 1 || got.Products.Len() != 1 ||
			got.Products.Name(0) != "dist/app" || !got.Products.Digest(0).Equal(l.Products.Digest(0)) {
			t.Errorf("%s: decoded %s with %d materials, %d products", name, got.Name, got.Materials.Len(), got.Products.Len())
		}
	}
	for _, bad := range []string{`{"_type":"layout","steps":[]}`, `{"_type":"https://in-toto.io/Statement/v1","predicateType":"https://slsa.dev/provenance/v1"}`, `not json`} {
		if _, err := DecodeLinkPayload([]byte(bad)); err == nil {
			t.Errorf("%s: decoded, want an error", bad)
		}
	}
}
