package layout

import (
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Document is a layout as authored in YAML. Line fields hold the 1-based line of the item in the
// source (0 when the document was not read from YAML), for precise errors and lint findings.
type Document struct {
	// Expires is the expiry as written (RFC 3339); Compile turns it into UTC with a literal Z.
	Expires     string
	ExpiresLine int
	Readme      string
	// Functionaries, by the name steps refer to.
	Functionaries map[string]*Functionary
	Steps         []*Step
	Inspections   []*Inspection
	// RunBinding asks verify to refuse keyless links from different CI runs ("", "same-run").
	RunBinding string
	Line       int
}

// Functionary is who may sign a step's link: a public key, or a keyless OIDC identity.
type Functionary struct {
	Name string
	// Key is the path of a public key file (relative to the YAML file), or a PEM public key inline.
	Key string
	// PublicKey is set instead of Key when the functionary comes from a compiled layout.
	PublicKey *intoto.Key
	// The keyless identity (see intoto.Identity): Issuer and Subject or SubjectRegexp, and Claims.
	Issuer        string
	Subject       string
	SubjectRegexp string
	Claims        map[string]intoto.ClaimMatch
	Line          int
	// ClaimLines gives the line of each claim.
	ClaimLines map[string]int
}

// Keyless tells whether the functionary is an OIDC identity rather than a key.
func (f *Functionary) Keyless() bool { return f.Key == "" && f.PublicKey == nil }

// Identity returns the keyless identity of the functionary.
func (f *Functionary) Identity() *intoto.Identity {
	id := &intoto.Identity{Issuer: f.Issuer, Subject: f.Subject, SubjectRegexp: f.SubjectRegexp}
	if len(f.Claims) > 0 {
		id.Claims = make(map[string]intoto.ClaimMatch, len(f.Claims))
		for k, v := range f.Claims {
			id.Claims[k] = v
		}
	}
	return id
}

// Step is a layout step as authored.
type Step struct {
	Name          string
	Functionaries []string
	// Threshold is the number of distinct functionaries that must have signed (default 1).
	Threshold int
	Command   []string
	Materials []Rule
	Products  []Rule
	Line      int
	// ThresholdLine and FunctionariesLine locate those fields (0 when absent).
	ThresholdLine     int
	FunctionariesLine int
}

// Inspection is a command the verifier runs, as authored.
type Inspection struct {
	Name      string
	Run       []string
	Materials []Rule
	Products  []Rule
	Line      int
}

// Rule is one artifact rule, split into words.
type Rule struct {
	Words intoto.Rule
	Line  int
}

// String is the rule as one string, quoted where needed.
func (r Rule) String() string { return JoinWords(r.Words) }

func toRules(rs []Rule) []intoto.Rule {
	out := make([]intoto.Rule, len(rs))
	for i, r := range rs {
		out[i] = append(intoto.Rule(nil), r.Words...)
	}
	return out
}

func fromRules(rs []intoto.Rule) []Rule {
	out := make([]Rule, len(rs))
	for i, r := range rs {
		out[i] = Rule{Words: append(intoto.Rule(nil), r...)}
	}
	return out
}
