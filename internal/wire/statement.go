package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/intoto-ci/intoto-ci/internal/intoto"

	attv1 "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrNotLinkStatement is returned by StatementToLink for a Statement of another type or predicate.
var ErrNotLinkStatement = errors.New("not an in-toto Statement v1 with a link v0.3 predicate")

// linkPredicate is the link v0.3 predicate (https://in-toto.io/attestation/link/v0.3): the v0.9 link's
// fields, with materials as resource descriptors and products moved to the Statement's subject.
type linkPredicate struct {
	Name        string               `json:"name"`
	Command     []string             `json:"command,omitempty"`
	Materials   []resourceDescriptor `json:"materials,omitempty"`
	ByProducts  map[string]any       `json:"byproducts,omitempty"`
	Environment map[string]any       `json:"environment,omitempty"`
}

type resourceDescriptor struct {
	Name   string         `json:"name,omitempty"`
	URI    string         `json:"uri,omitempty"`
	Digest intoto.Digests `json:"digest,omitempty"`
}

// LinkToStatement converts a link to an in-toto Statement v1 with the link v0.3 predicate: products
// become the subject (sorted by name), materials the predicate's resource descriptors; name, command,
// byproducts and environment go to the predicate. A link without products yields an empty subject,
// which the attestation spec's validator refuses but the link predicate needs for steps that produce
// nothing. The output is compact JSON with sorted keys (stable bytes, unlike protojson's own output).
func LinkToStatement(l *intoto.Link) ([]byte, error) {
	if err := intoto.ValidateSet(l.Materials); err != nil {
		return nil, fmt.Errorf("link to statement: materials: %w", err)
	}
	if err := intoto.ValidateSet(l.Products); err != nil {
		return nil, fmt.Errorf("link to statement: products: %w", err)
	}
	pred := linkPredicate{
		Name:        l.Name,
		Command:     l.Command,
		Materials:   descriptors(l.Materials),
		ByProducts:  l.ByProducts,
		Environment: l.Environment,
	}
	pj, err := json.Marshal(pred)
	if err != nil {
		return nil, fmt.Errorf("link to statement: %w", err)
	}
	ps := &structpb.Struct{}
	if err := protojson.Unmarshal(pj, ps); err != nil {
		return nil, fmt.Errorf("link to statement: predicate: %w", err)
	}
	st := &attv1.Statement{
		Type:          attv1.StatementTypeUri,
		PredicateType: intoto.LinkPredicateV03,
		Predicate:     ps,
	}
	for _, d := range descriptors(l.Products) {
		st.Subject = append(st.Subject, &attv1.ResourceDescriptor{Name: d.Name, Digest: d.Digest})
	}
	for _, rd := range st.Subject {
		if err := rd.Validate(); err != nil {
			return nil, fmt.Errorf("link to statement: subject %q: %w", rd.GetName(), err)
		}
	}
	for _, d := range pred.Materials {
		rd := &attv1.ResourceDescriptor{Name: d.Name, Digest: d.Digest}
		if err := rd.Validate(); err != nil {
			return nil, fmt.Errorf("link to statement: material %q: %w", d.Name, err)
		}
	}
	raw, err := protojson.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("link to statement: %w", err)
	}
	return stableJSON(raw)
}

func descriptors(a intoto.ArtifactSet) []resourceDescriptor {
	out := make([]resourceDescriptor, 0, a.Len())
	for name, d := range a.All() {
		out = append(out, resourceDescriptor{Name: name, Digest: d.Digests()})
	}
	return out
}

// stableJSON re-encodes JSON compactly with sorted keys and exact numbers.
func stableJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// DecodeLinkPayload reads a signed payload in either form a link is signed in, an in-toto Statement
// with the link predicate or a v0.9 link, and validates it: a layout or any other document is an
// error, not a link without a name.
func DecodeLinkPayload(payload []byte) (*intoto.Link, error) {
	var l *intoto.Link
	var err error
	if IsStatement(payload) {
		l, err = StatementToLink(payload)
	} else {
		l, err = DecodeLink(payload)
	}
	if err != nil {
		return nil, err
	}
	if err := l.Validate(); err != nil {
		return nil, err
	}
	return l, nil
}

// IsStatement reports whether a payload looks like an in-toto Statement (any version) rather than a
// v0.9 link or a layout, by its "_type".
func IsStatement(payload []byte) bool {
	var probe struct {
		Type string `json:"_type"`
	}
	if json.Unmarshal(payload, &probe) != nil {
		return false
	}
	return len(probe.Type) > 8 && probe.Type[:8] == "https://"
}

// StatementToLink converts an in-toto Statement v1 (or v0.1, as cosign attest-blob writes it) with a
// link v0.3 predicate back to a v0.9 link.
// Subjects become products and predicate materials become materials; each needs a name and a digest,
// and names must be unique.
func StatementToLink(data []byte) (*intoto.Link, error) {
	var st attv1.Statement
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("decode statement: %w", err)
	}
	if (st.GetType() != intoto.StatementTypeV1 && st.GetType() != intoto.StatementTypeV01) || st.GetPredicateType() != intoto.LinkPredicateV03 {
		return nil, fmt.Errorf("decode statement: %w (got _type %q, predicateType %q)",
			ErrNotLinkStatement, st.GetType(), st.GetPredicateType())
	}
	if st.GetPredicate() == nil {
		return nil, errors.New("decode statement: no predicate")
	}
	pj, err := protojson.Marshal(st.GetPredicate())
	if err != nil {
		return nil, fmt.Errorf("decode statement predicate: %w", err)
	}
	var pred linkPredicate
	if err := json.Unmarshal(pj, &pred); err != nil {
		return nil, fmt.Errorf("decode statement predicate: %w", err)
	}
	l := &intoto.Link{
		Type:        intoto.TypeLink,
		Name:        pred.Name,
		Command:     pred.Command,
		ByProducts:  pred.ByProducts,
		Environment: pred.Environment,
	}
	if l.Command == nil {
		l.Command = []string{}
	}
	materials, products := map[string]intoto.Digests{}, map[string]intoto.Digests{}
	for i, m := range pred.Materials {
		if err := addArtifact(materials, m.Name, m.Digest); err != nil {
			return nil, fmt.Errorf("decode statement: material %d: %w", i+1, err)
		}
	}
	for i, s := range st.GetSubject() {
		if err := addArtifact(products, s.GetName(), s.GetDigest()); err != nil {
			return nil, fmt.Errorf("decode statement: subject %d: %w", i+1, err)
		}
	}
	l.Materials, l.Products = intoto.NewArtifactSet(materials), intoto.NewArtifactSet(products)
	return l, nil
}

func addArtifact(a map[string]intoto.Digests, name string, digest map[string]string) error {
	if name == "" {
		return errors.New("resource descriptor without a name")
	}
	if len(digest) == 0 {
		return fmt.Errorf("%q has no digest", name)
	}
	if _, dup := a[name]; dup {
		return fmt.Errorf("%q appears twice", name)
	}
	a[name] = intoto.Digests(maps.Clone(digest))
	return nil
}
