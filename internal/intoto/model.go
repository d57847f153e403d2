package intoto

import (
	"encoding/json"
	"time"
)

// Document type names carried in the "_type" field.
const (
	TypeLayout     = "layout"
	TypeLink       = "link"
	TypeStep       = "step"
	TypeInspection = "inspection"
)

// PayloadType is the DSSE payload type of in-toto metadata (links, layouts and Statements alike).
const PayloadType = "application/vnd.in-toto+json"

// LinkPredicateV03 is the predicate type of a link carried in an in-toto Statement v1.
const LinkPredicateV03 = "https://in-toto.io/attestation/link/v0.3"

// StatementTypeV1 is the "_type" of an in-toto Statement v1.
const StatementTypeV1 = "https://in-toto.io/Statement/v1"

// StatementTypeV01 is the "_type" of an in-toto Statement v0.1, which cosign attest-blob still writes.
// Its subject and predicate fields are those of v1 (v1 only widened the resource descriptor), so a
// v0.1 Statement with a link predicate reads like a v1 one.
const StatementTypeV01 = "https://in-toto.io/Statement/v0.1"

// Digests maps a hash algorithm name ("sha256", "sha512", …) to a lowercase hex digest.
type Digests map[string]string

// Rule is one artifact rule as written in a layout, already split into words, e.g.
// ["MATCH", "foo", "WITH", "PRODUCTS", "FROM", "build"].
type Rule []string

// Link is the v0.9 in-toto link: the evidence a functionary signs for one step.
// Unknown fields of a decoded link are kept in Extra so that a round trip does not lose them.
type Link struct {
	Type        string         `json:"_type"`
	Name        string         `json:"name"`
	Command     []string       `json:"command"`
	Materials   ArtifactSet    `json:"materials"`
	Products    ArtifactSet    `json:"products"`
	ByProducts  map[string]any `json:"byproducts"`
	Environment map[string]any `json:"environment"`
	// Extra holds fields this package does not know, so that a decode/encode round trip keeps them.
	Extra map[string]json.RawMessage `json:"-"`
}

// Layout is the in-toto v1.0 layout. Keyless functionaries are the intoto-ci extension field
// Identities (see docs/layout-spec.md); a layout that has none marshals as pure v1.0.
type Layout struct {
	Type        string          `json:"_type"`
	Expires     string          `json:"expires"`
	Readme      string          `json:"readme"`
	Keys        map[string]*Key `json:"keys"`
	Steps       []*Step         `json:"steps"`
	Inspections []*Inspection   `json:"inspect"`
	// Identities are keyless functionaries, keyed by the name steps refer to. Extension field.
	Identities map[string]*Identity `json:"identities,omitempty"`
	// RunBinding, when set, asks verify to refuse keyless links from different CI runs. Extension field.
	RunBinding string `json:"run_binding,omitempty"`
	// Extra holds unknown fields (e.g. in-toto-golang's rootcas, intermediatecas) for round trips.
	Extra map[string]json.RawMessage `json:"-"`
}

// Step is a layout step: who may perform it, what command is expected and which artifact rules apply.
type Step struct {
	Type              string   `json:"_type"`
	Name              string   `json:"name"`
	ExpectedMaterials []Rule   `json:"expected_materials"`
	ExpectedProducts  []Rule   `json:"expected_products"`
	PubKeys           []string `json:"pubkeys"`
	ExpectedCommand   []string `json:"expected_command"`
	Threshold         int      `json:"threshold"`
	// Identities names keyless functionaries from Layout.Identities. Extension field.
	Identities []string `json:"identities,omitempty"`
	// Extra holds unknown fields (e.g. in-toto-golang's cert_constraints) for round trips.
	Extra map[string]json.RawMessage `json:"-"`
}

// Inspection is a command the verifier runs itself after checking the steps.
type Inspection struct {
	Type              string   `json:"_type"`
	Name              string   `json:"name"`
	ExpectedMaterials []Rule   `json:"expected_materials"`
	ExpectedProducts  []Rule   `json:"expected_products"`
	Run               []string `json:"run"`
	// Extra holds unknown fields for round trips.
	Extra map[string]json.RawMessage `json:"-"`
}

// Identity is a keyless functionary: an OIDC identity as Fulcio certifies it.
type Identity struct {
	Issuer        string `json:"issuer"`
	Subject       string `json:"subject,omitempty"`
	SubjectRegexp string `json:"subject_regexp,omitempty"`
	// Claims maps snake_case Fulcio claim names (source_repository_uri, runner_environment, …) to a
	// constraint: an exact string, or {"regexp": "…"} for an anchored regular expression.
	Claims map[string]ClaimMatch `json:"claims,omitempty"`
}

// ClaimMatch is an exact value or an anchored regexp. It marshals as a plain string when exact.
type ClaimMatch struct {
	Exact  string
	Regexp string
}

// MarshalJSON writes an exact match as a string and a regexp as {"regexp": "…"}.
func (c ClaimMatch) MarshalJSON() ([]byte, error) {
	if c.Regexp != "" {
		return json.Marshal(map[string]string{"regexp": c.Regexp})
	}
	return json.Marshal(c.Exact)
}

// UnmarshalJSON reads either form.
func (c *ClaimMatch) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*c = ClaimMatch{Exact: s}
		return nil
	}
	var m struct {
		Regexp *string `json:"regexp"`
	}
	if err := json.Unmarshal(b, &m); err != nil || m.Regexp == nil {
		return errClaimMatch
	}
	*c = ClaimMatch{Regexp: *m.Regexp}
	return nil
}

// ExpiryTime parses Expires (RFC 3339, UTC "Z" as the peers write it).
func (l *Layout) ExpiryTime() (time.Time, error) {
	return time.Parse(time.RFC3339, l.Expires)
}
