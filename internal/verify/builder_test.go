package verify

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// caseSpec is testdata/cases/<name>/case.json: a chain to build and verify. Keys are named after the
// PEM files in testdata/keys; layouts name them in pubkeys, file names use {name} for the keyid's first
// 8 hex digits. Artifacts are given as file contents and hashed here.
type caseSpec struct {
	Description string `json:"description"`
	// Layout is the layout's "signed" body; defaults fill _type, expires, readme, keys, inspect.
	Layout json.RawMessage `json:"layout"`
	// LayoutEnvelope is legacy (default), dsse or bundle.
	LayoutEnvelope string `json:"layout_envelope"`
	// LayoutSigners sign the layout (default ["owner"]); LayoutKeys are pinned at verify (default: the signers).
	LayoutSigners []string `json:"layout_signers"`
	LayoutKeys    []string `json:"layout_keys"`
	// LayoutSigner is the keyless signer of a bundle layout; LayoutIdentities are pinned at verify.
	LayoutSigner     *intoto.SignerIdentity `json:"layout_signer"`
	LayoutIdentities []*intoto.Identity     `json:"layout_identities"`
	Links            []linkSpec             `json:"links"`
	// Work are files (name → content) in the inspections' work directory.
	Work    map[string]string `json:"work"`
	Options struct {
		Now               string            `json:"now"`
		Params            map[string]string `json:"params"`
		SameRun           bool              `json:"same_run"`
		InspectionTimeout string            `json:"inspection_timeout"`
		NoKeyless         bool              `json:"no_keyless"`
	} `json:"options"`
	Want wantSpec `json:"want"`
}

type wantSpec struct {
	Verified bool   `json:"verified"`
	Stage    string `json:"stage"`
	Step     string `json:"step"`
	// Error names the sentinel the Failure must wrap (ErrThreshold, …).
	Error string `json:"error"`
	// Warnings is the number of warnings expected (-1: don't check).
	Warnings *int `json:"warnings"`
}

type linkSpec struct {
	// File is the name in the links dir ({key} placeholders); default <name>.<signer8>.link.
	File string `json:"file"`
	// Dir is a subdirectory of the links dir ({key} placeholders), for sublayout links.
	Dir string `json:"dir"`
	// Signers are key names. Envelope is legacy (default), dsse, statement (DSSE over a Statement
	// v1 with a link v0.3 predicate) or bundle (a fake Sigstore bundle signed by Keyless).
	Signers  []string               `json:"signers"`
	Envelope string                 `json:"envelope"`
	Keyless  *intoto.SignerIdentity `json:"keyless"`
	// Link is the link body; Layout a sublayout body (then Step names the delegated step).
	Link   *linkBody       `json:"link"`
	Layout json.RawMessage `json:"layout"`
	Step   string          `json:"step"`
	// Tamper changes the signed content after signing (the signature no longer verifies).
	Tamper bool `json:"tamper"`
	// Raw is written as is (no signing).
	Raw string `json:"raw"`
}

type linkBody struct {
	Name      string            `json:"name"`
	Command   []string          `json:"command"`
	Materials map[string]string `json:"materials"`
	Products  map[string]string `json:"products"`
}

// chain is a built case: directories and options ready for Verify.
type chain struct {
	dir   string
	opts  Options
	keys  map[string]*keys.Key
	fakes *fakeKeyless
}

var keyCache sync.Map // name → *keys.Key

// testKey loads testdata/keys/<name>.pem.
func testKey(t testing.TB, name string) *keys.Key {
	t.Helper()
	if k, ok := keyCache.Load(name); ok {
		return k.(*keys.Key)
	}
	k, err := keys.Load(filepath.Join("testdata", "keys", name+".pem"))
	if err != nil {
		t.Fatalf("load key %s: %v", name, err)
	}
	keyCache.Store(name, k)
	return k
}

var placeholder = regexp.MustCompile(`\{([a-z]+)\}`)

// expandName replaces {key} with the key's short keyid.
func expandName(t testing.TB, s string) string {
	t.Helper()
	return placeholder.ReplaceAllStringFunc(s, func(m string) string {
		return testKey(t, m[1:len(m)-1]).ShortID()
	})
}

func digest(content string) intoto.Digests {
	sum := sha256.Sum256([]byte(content))
	return intoto.Digests{"sha256": hex.EncodeToString(sum[:])}
}

func artifacts(m map[string]string) intoto.ArtifactSet {
	a := map[string]intoto.Digests{}
	for name, content := range m {
		a[name] = digest(content)
	}
	return intoto.NewArtifactSet(a)
}

// buildLayout fills defaults into a layout body, turns key names into keyids and adds the keys.
func buildLayout(t testing.TB, raw json.RawMessage) []byte {
	t.Helper()
	var l map[string]any
	if err := json.Unmarshal(raw, &l); err != nil {
		t.Fatalf("layout: %v", err)
	}
	setDefault(l, "_type", "layout")
	setDefault(l, "expires", "2030-01-01T00:00:00Z")
	setDefault(l, "readme", "")
	setDefault(l, "inspect", []any{})
	setDefault(l, "steps", []any{})
	keys := map[string]any{}
	for _, s := range l["steps"].([]any) {
		step := s.(map[string]any)
		setDefault(step, "_type", "step")
		setDefault(step, "threshold", 1)
		setDefault(step, "expected_command", []any{})
		setDefault(step, "expected_materials", []any{})
		setDefault(step, "expected_products", []any{})
		setDefault(step, "pubkeys", []any{})
		var ids []any
		for _, name := range step["pubkeys"].([]any) {
			k := testKey(t, name.(string)).Public()
			ids = append(ids, k.KeyID)
			keys[k.KeyID] = k
		}
		if ids == nil {
			ids = []any{}
		}
		step["pubkeys"] = ids
	}
	for _, s := range l["inspect"].([]any) {
		in := s.(map[string]any)
		setDefault(in, "_type", "inspection")
		setDefault(in, "expected_materials", []any{})
		setDefault(in, "expected_products", []any{})
	}
	l["keys"] = keys
	b, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func setDefault(m map[string]any, k string, v any) {
	if _, ok := m[k]; !ok {
		m[k] = v
	}
}

// linkDoc is the v0.9 link document for a body.
func linkDoc(t testing.TB, b *linkBody) []byte {
	t.Helper()
	cmd := b.Command
	if cmd == nil {
		cmd = []string{}
	}
	doc := map[string]any{
		"_type": "link", "name": b.Name, "command": cmd,
		"materials": artifacts(b.Materials), "products": artifacts(b.Products),
		"byproducts": map[string]any{}, "environment": map[string]any{},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// statementDoc is the in-toto Statement v1 with a link v0.3 predicate for a body.
func statementDoc(t testing.TB, b *linkBody) []byte {
	t.Helper()
	descs := func(m map[string]string) []any {
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		sort.Strings(names)
		out := []any{}
		for _, n := range names {
			out = append(out, map[string]any{"name": n, "digest": digest(m[n])})
		}
		return out
	}
	cmd := b.Command
	if cmd == nil {
		cmd = []string{}
	}
	doc := map[string]any{
		"_type":         intoto.StatementTypeV1,
		"subject":       descs(b.Products),
		"predicateType": intoto.LinkPredicateV03,
		"predicate": map[string]any{
			"name": b.Name, "command": cmd, "materials": descs(b.Materials),
			"byproducts": map[string]any{}, "environment": map[string]any{},
		},
	}
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sign wraps payload in the named envelope.
func (c *chain) sign(t testing.TB, kind string, payload []byte, signers []string, keyless *intoto.SignerIdentity) []byte {
	t.Helper()
	var ks []*keys.Key
	for _, n := range signers {
		ks = append(ks, testKey(t, n))
	}
	var out []byte
	var err error
	switch kind {
	case "", "legacy":
		out, err = envelope.SignLegacy(payload, ks...)
	case "dsse", "statement":
		out, err = envelope.SignDSSE(intoto.PayloadType, payload, ks...)
	case "bundle":
		out = c.fakes.bundle(t, payload, keyless)
	default:
		t.Fatalf("unknown envelope %q", kind)
	}
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return out
}

// tamper changes a signed document so that its signature no longer verifies but it still parses.
func tamper(t testing.TB, data []byte) []byte {
	t.Helper()
	s, err := envelope.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	switch s.Kind {
	case envelope.Legacy:
		doc["signed"].(map[string]any)["tampered"] = true
	default:
		p := strings.Replace(string(s.Payload), "{", `{"tampered":true,`, 1)
		doc["payload"] = base64.StdEncoding.EncodeToString([]byte(p))
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// build writes the case under a temp dir and returns verify options for it.
func buildCase(t testing.TB, spec *caseSpec) *chain {
	t.Helper()
	c := &chain{dir: t.TempDir(), fakes: newFakeKeyless()}
	links := filepath.Join(c.dir, "links")
	work := filepath.Join(c.dir, "work")
	for _, d := range []string{links, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	signers := spec.LayoutSigners
	if signers == nil {
		signers = []string{"owner"}
	}
	layoutData := c.sign(t, spec.LayoutEnvelope, buildLayout(t, spec.Layout), signers, spec.LayoutSigner)
	for _, ls := range spec.Links {
		writeLink(t, c, links, ls)
	}
	for name, content := range spec.Work {
		p := filepath.Join(work, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pinned := spec.LayoutKeys
	if pinned == nil && spec.LayoutEnvelope != "bundle" {
		pinned = signers
	}
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	if spec.Options.Now != "" {
		var err error
		if now, err = time.Parse(time.RFC3339, spec.Options.Now); err != nil {
			t.Fatal(err)
		}
	}
	c.opts = Options{
		LayoutPath:       "root.layout",
		Layout:           layoutData,
		LayoutIdentities: spec.LayoutIdentities,
		LinksDir:         links,
		Params:           spec.Options.Params,
		WorkDir:          work,
		SameRun:          spec.Options.SameRun,
		Now:              now,
	}
	if !spec.Options.NoKeyless {
		c.opts.Keyless = c.fakes
	}
	for _, n := range pinned {
		c.opts.LayoutKeys = append(c.opts.LayoutKeys, testKey(t, n).Record())
	}
	if spec.Options.InspectionTimeout != "" {
		d, err := time.ParseDuration(spec.Options.InspectionTimeout)
		if err != nil {
			t.Fatal(err)
		}
		c.opts.InspectionTimeout = d
	}
	return c
}

func writeLink(t testing.TB, c *chain, links string, ls linkSpec) {
	t.Helper()
	dir := links
	if ls.Dir != "" {
		dir = filepath.Join(links, expandName(t, ls.Dir))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var data []byte
	var step string
	switch {
	case ls.Raw != "":
		data = []byte(ls.Raw)
	case ls.Layout != nil:
		step = ls.Step
		data = c.sign(t, ls.Envelope, buildLayout(t, ls.Layout), ls.Signers, ls.Keyless)
	case ls.Link != nil:
		step = ls.Link.Name
		payload := linkDoc(t, ls.Link)
		if ls.Envelope == "statement" || ls.Envelope == "bundle" {
			payload = statementDoc(t, ls.Link)
		}
		data = c.sign(t, ls.Envelope, payload, ls.Signers, ls.Keyless)
	default:
		t.Fatal("link spec without link, layout or raw")
	}
	if ls.Tamper {
		data = tamper(t, data)
	}
	name := ls.File
	if name == "" {
		if len(ls.Signers) == 0 {
			t.Fatalf("link of %s: no file name and no signer", step)
		}
		name = step + ".{" + ls.Signers[0] + "}.link"
	}
	if err := os.WriteFile(filepath.Join(dir, expandName(t, name)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fakeKeyless is a BundleVerifier for tests: it knows the bundles it made and who "signed" them.
type fakeKeyless struct {
	mu      sync.Mutex
	signers map[[32]byte]*intoto.SignerIdentity
}

func newFakeKeyless() *fakeKeyless {
	return &fakeKeyless{signers: map[[32]byte]*intoto.SignerIdentity{}}
}

// bundle makes a Sigstore-bundle-shaped file around a DSSE envelope and remembers its signer.
func (f *fakeKeyless) bundle(t testing.TB, payload []byte, signer *intoto.SignerIdentity) []byte {
	t.Helper()
	if signer == nil {
		t.Fatal("bundle without a keyless signer")
	}
	// The "certificate" is the signer itself, so that bundles of one payload by two signers differ.
	cert, err := json.Marshal(signer)
	if err != nil {
		t.Fatal(err)
	}
	doc := map[string]any{
		"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
		"verificationMaterial": map[string]any{
			"certificate": map[string]any{"rawBytes": base64.StdEncoding.EncodeToString(cert)}},
		"dsseEnvelope": map[string]any{
			"payload":     base64.StdEncoding.EncodeToString(payload),
			"payloadType": intoto.PayloadType,
			"signatures":  []any{map[string]any{"sig": "ZmFrZQ=="}},
		},
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	f.signers[sha256.Sum256(out)] = signer
	f.mu.Unlock()
	return out
}

var errFakeBundle = errors.New("fake keyless: bundle not signed by the fake")

func (f *fakeKeyless) VerifyBundle(_ context.Context, data []byte) (*Verified, error) {
	f.mu.Lock()
	signer, ok := f.signers[sha256.Sum256(data)]
	f.mu.Unlock()
	if !ok {
		return nil, errFakeBundle
	}
	s, err := envelope.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("fake keyless: %w", err)
	}
	return &Verified{PayloadType: s.PayloadType, Payload: s.Payload, Signer: signer,
		Time: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)}, nil
}
