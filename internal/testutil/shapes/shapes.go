// Package shapes writes verification inputs of a given shape (many links for one step, many steps,
// many rules) for the benchmarks of internal/verify and scripts/bench. Keys are derived from fixed
// seeds, so the same call writes the same files. Imported only by tests and the benchmark program.
package shapes

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// Inputs are the files of one generated case: a layout signed by Owner (legacy envelope, which every
// peer reads) and a links directory.
type Inputs struct {
	Dir      string // the case's directory
	Layout   string // Dir/root.layout
	LinksDir string // Dir/links
	Owner    *keys.Key
	// OwnerPub is the owner's public key in PEM (the peers' -k), beside the layout.
	OwnerPub string
}

// Key returns the ed25519 key derived from name (with its private part).
func Key(name string) (*keys.Key, error) {
	seed := sha256.Sum256([]byte("intoto-ci shapes key " + name))
	return keys.FromCrypto(ed25519.NewKeyFromSeed(seed[:]))
}

// artifacts returns n artifacts named prefix/fileNNNNN with digests derived from their names.
func artifacts(prefix string, n int) intoto.ArtifactSet {
	return intoto.NewArtifactSet(artifactMap(prefix, n))
}

// artifactMap is artifacts as a name → digests map.
func artifactMap(prefix string, n int) map[string]intoto.Digests {
	a := make(map[string]intoto.Digests, n)
	for i := range n {
		name := fmt.Sprintf("%s/file%05d", prefix, i)
		s := sha256.Sum256([]byte(name))
		a[name] = intoto.Digests{"sha256": hex.EncodeToString(s[:])}
	}
	return a
}

// Matrix writes one step "test" with threshold m and m functionary keys, and m DSSE links of it (one
// per key, as a CI matrix leaves), each reporting the same arts products.
func Matrix(dir string, m, arts int) (*Inputs, error) {
	in, err := start(dir)
	if err != nil {
		return nil, err
	}
	layout := newLayout()
	step := &intoto.Step{Type: intoto.TypeStep, Name: "test", Threshold: m,
		ExpectedMaterials: []intoto.Rule{{"DISALLOW", "*"}},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "out/*"}, {"DISALLOW", "*"}}}
	layout.Steps = []*intoto.Step{step}
	products := artifacts("out", arts)
	for i := range m {
		k, err := Key(fmt.Sprintf("matrix-%d", i))
		if err != nil {
			return nil, err
		}
		step.PubKeys = append(step.PubKeys, layout.AddKey(k.Record()))
		l := &intoto.Link{Type: intoto.TypeLink, Name: step.Name, Materials: intoto.ArtifactSet{}, Products: products,
			ByProducts: map[string]any{"return-value": 0}, Environment: map[string]any{}}
		if err := writeLink(in.LinksDir, l, k, true); err != nil {
			return nil, err
		}
	}
	return in, finish(in, layout)
}

// Chain writes n steps s00000…, each signed by one key with its link reporting arts products; every
// step after the first takes the previous step's products as materials and MATCHes them.
func Chain(dir string, n, arts int) (*Inputs, error) {
	in, err := start(dir)
	if err != nil {
		return nil, err
	}
	k, err := Key("chain")
	if err != nil {
		return nil, err
	}
	layout := newLayout()
	keyid := layout.AddKey(k.Record())
	prev := intoto.ArtifactSet{}
	for i := range n {
		name := fmt.Sprintf("s%05d", i)
		s := &intoto.Step{Type: intoto.TypeStep, Name: name, Threshold: 1, PubKeys: []string{keyid},
			ExpectedMaterials: []intoto.Rule{{"DISALLOW", "*"}},
			ExpectedProducts:  []intoto.Rule{{"CREATE", name + "/*"}, {"DISALLOW", "*"}}}
		if i > 0 {
			s.ExpectedMaterials = []intoto.Rule{
				{"MATCH", "*", "WITH", "PRODUCTS", "FROM", fmt.Sprintf("s%05d", i-1)}, {"DISALLOW", "*"}}
		}
		layout.Steps = append(layout.Steps, s)
		products := artifacts(name, arts)
		l := &intoto.Link{Type: intoto.TypeLink, Name: name, Materials: prev, Products: products,
			ByProducts: map[string]any{"return-value": 0}, Environment: map[string]any{}}
		if err := writeLink(in.LinksDir, l, k, true); err != nil {
			return nil, err
		}
		prev = products
	}
	return in, finish(in, layout)
}

// Rules writes one step whose link reports arts products and whose product rules are r rules, each
// consuming at most one name (ALLOW out/fileNNNNN, then CREATE and MODIFY of names that are not
// there), ended by DISALLOW *.
func Rules(dir string, r, arts int) (*Inputs, error) {
	in, err := start(dir)
	if err != nil {
		return nil, err
	}
	k, err := Key("rules")
	if err != nil {
		return nil, err
	}
	layout := newLayout()
	s := &intoto.Step{Type: intoto.TypeStep, Name: "build", Threshold: 1, PubKeys: []string{layout.AddKey(k.Record())},
		ExpectedMaterials: []intoto.Rule{{"DISALLOW", "*"}}}
	verbs := []string{"ALLOW", "CREATE", "MODIFY"}
	for i := range r - 1 {
		s.ExpectedProducts = append(s.ExpectedProducts, intoto.Rule{verbs[i%len(verbs)], fmt.Sprintf("out/file%05d", i)})
	}
	s.ExpectedProducts = append(s.ExpectedProducts, intoto.Rule{"DISALLOW", "*"})
	// Every product must be consumed by an ALLOW or a CREATE: keep the artifacts to the names those
	// rules name.
	all := artifactMap("out", min(3*arts, r-1))
	picked := map[string]intoto.Digests{}
	for i := 0; i < r-1 && len(picked) < arts; i++ {
		if i%3 != 2 {
			name := fmt.Sprintf("out/file%05d", i)
			picked[name] = all[name]
		}
	}
	products := intoto.NewArtifactSet(picked)
	layout.Steps = []*intoto.Step{s}
	l := &intoto.Link{Type: intoto.TypeLink, Name: s.Name, Materials: intoto.ArtifactSet{}, Products: products,
		ByProducts: map[string]any{"return-value": 0}, Environment: map[string]any{}}
	if err := writeLink(in.LinksDir, l, k, true); err != nil {
		return nil, err
	}
	return in, finish(in, layout)
}

func newLayout() *intoto.Layout {
	return &intoto.Layout{Type: intoto.TypeLayout, Expires: "2099-01-01T00:00:00Z", Readme: "intoto-ci shapes",
		Keys: map[string]*intoto.Key{}, Inspections: []*intoto.Inspection{}}
}

// start makes dir and its links directory and the owner key.
func start(dir string) (*Inputs, error) {
	in := &Inputs{Dir: dir, Layout: filepath.Join(dir, "root.layout"), LinksDir: filepath.Join(dir, "links"),
		OwnerPub: filepath.Join(dir, "owner.pub.pem")}
	if err := os.MkdirAll(in.LinksDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	if in.Owner, err = Key("owner"); err != nil {
		return nil, err
	}
	pub, err := in.Owner.PublicPEM()
	if err != nil {
		return nil, err
	}
	return in, os.WriteFile(in.OwnerPub, pub, 0o644)
}

// finish signs and writes the layout.
func finish(in *Inputs, layout *intoto.Layout) error {
	payload, err := json.Marshal(layout)
	if err != nil {
		return err
	}
	env, err := envelope.SignLegacy(payload, in.Owner)
	if err != nil {
		return err
	}
	return os.WriteFile(in.Layout, env, 0o644)
}

// writeLink signs l with k (DSSE, or a legacy envelope) into dir under the usual file name.
func writeLink(dir string, l *intoto.Link, k *keys.Key, dsse bool) error {
	payload, err := wire.MarshalLink(l)
	if err != nil {
		return err
	}
	var env []byte
	if dsse {
		env, err = envelope.SignDSSE(intoto.PayloadType, payload, k)
	} else {
		env, err = envelope.SignLegacy(payload, k)
	}
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, intoto.LinkFileName(l.Name, k.ID())), env, 0o644)
}
