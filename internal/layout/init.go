package layout

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// InitOptions say what layout init proposes a layout from.
type InitOptions struct {
	// LinksDir holds the links of a real run.
	LinksDir string
	// KeyPaths are functionaries' public key files, each named after its file.
	KeyPaths []string
	// Out is where the YAML goes ("-" for stdout): key paths in it are written relative to it.
	Out      string
	Validity time.Duration
	// Signer reads the identity in a bundle's certificate.
	Signer SignerFunc
}

// Proposal is what layout init writes, and what it has to say about it.
type Proposal struct {
	YAML []byte
	// Skipped lists the files of LinksDir passed over, with the reason.
	Skipped []string
	// Unfilled maps a functionary to the placeholder key path to fill in: no key given was its.
	Unfilled map[string]string
}

// InputError is an input layout init cannot use: a key file, or links that cannot be read or
// proposed from.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// Init proposes a YAML layout from the links of a run (see Propose): review it before signing.
func Init(o InitOptions) (*Proposal, error) {
	var keyFiles []KeyFile
	for _, p := range o.KeyPaths {
		k, err := keys.Load(p)
		if err != nil {
			return nil, &InputError{err}
		}
		keyFiles = append(keyFiles, KeyFile{Path: p, Key: k})
	}
	refs := KeyRefs(keyFiles, o.Out)
	ev, skipped, err := ReadEvidence(o.LinksDir, o.Signer)
	if err != nil {
		return nil, &InputError{err}
	}
	doc, comments, err := Propose(ev, ProposeOptions{Keys: refs, Source: o.LinksDir, Validity: o.Validity})
	if err != nil {
		return nil, &InputError{fmt.Errorf("%s: %w", o.LinksDir, err)}
	}
	data, err := Format(doc, comments)
	if err != nil {
		return nil, err
	}
	return &Proposal{YAML: data, Skipped: skipped, Unfilled: UnfilledKeys(doc, refs)}, nil
}

// Build compiles the YAML layout at path into the unsigned layout file that layout sign signs, with
// the lint findings about it. A YAML file that does not read or decode is an *InputError.
func Build(path string) (data []byte, findings []Finding, err error) {
	doc, l, err := ReadYAML(path)
	if err != nil {
		return nil, nil, &InputError{err}
	}
	data, err = Encode(l)
	return data, Lint(doc, LintOptions{}), err
}

// BuiltPath is where layout sign puts the layout it builds from the YAML file at path: root.layout
// beside it.
func BuiltPath(path string) string { return filepath.Join(filepath.Dir(path), "root.layout") }
