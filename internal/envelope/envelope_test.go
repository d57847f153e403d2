package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

func key(t testing.TB, rel string) *keys.Key {
	t.Helper()
	k, err := keys.Load(filepath.Join(interoptest.Dir(), rel))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// layoutKey returns a key embedded in a layout fixture (for signers without a key file).
func layoutKey(t testing.TB, layoutRel, id string) *keys.Key {
	t.Helper()
	s, err := Parse(interoptest.Read(t, layoutRel))
	if err != nil {
		t.Fatal(err)
	}
	l, err := intoto.DecodeLayout(s.Payload)
	if err != nil {
		t.Fatal(err)
	}
	for kid, k := range l.Keys {
		if strings.HasPrefix(kid, id) {
			return keys.FromRecord(k)
		}
	}
	t.Fatalf("no key %s in %s", id, layoutRel)
	return nil
}

type vector struct {
	file string
	kind Kind
	key  func(t testing.TB) *keys.Key
}

func fileKey(rel string) func(t testing.TB) *keys.Key {
	return func(t testing.TB) *keys.Key { return key(t, rel) }
}

var vectors = []vector{
	{"in-toto-golang/demo.layout", Legacy, fileKey("in-toto-golang/alice.pub")},
	{"in-toto-golang/demo.dsse.layout", DSSE, fileKey("in-toto-golang/alice.pub")},
	{"in-toto-golang/dsse-only.root.layout", DSSE, fileKey("in-toto-golang/alice.pub")},
	{"in-toto-golang/write-code.b7d643de.link", Legacy, fileKey("in-toto-golang/dan.pub")},
	{"in-toto-golang/foo.b7d643de.link", Legacy, fileKey("in-toto-golang/dan.pub")},
	{"in-toto-golang/package.d3ffd108.link", Legacy, func(t testing.TB) *keys.Key {
		return layoutKey(t, "in-toto-golang/demo.layout", "d3ffd108")
	}},
	{"in-toto-golang/sub_layout.70ca5750.link", Legacy, fileKey("in-toto-golang/alice.pub")},
	{"in-toto-golang/clone-dsse.776a00e2.link", DSSE, fileKey("in-toto-python/demo_files/bob.pub")},
	{"in-toto-golang/update-version-dsse.776a00e2.link", DSSE, fileKey("in-toto-python/demo_files/bob.pub")},
	{"in-toto-golang/package-dsse.2f89b927.link", DSSE, fileKey("in-toto-python/demo_files/carl.pub")},
	{"in-toto-python/demo_files/write-code.776a00e2.link", Legacy, fileKey("in-toto-python/demo_files/bob.pub")},
	{"in-toto-python/demo_files/package.2f89b927.link", Legacy, fileKey("in-toto-python/demo_files/carl.pub")},
	{"in-toto-python/demo_dsse_files/write-code.776a00e2.link", DSSE, fileKey("in-toto-python/demo_files/bob.pub")},
	{"in-toto-python/demo_dsse_files/package.2f89b927.link", DSSE, fileKey("in-toto-python/demo_files/carl.pub")},
}

func TestInteropVectorsVerify(t *testing.T) {
	t.Parallel()
	other := key(t, "in-toto-golang/carol.pub")
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			t.Parallel()
			k := v.key(t)
			if base := filepath.Base(v.file); strings.HasSuffix(base, ".link") && !strings.Contains(base, "."+k.ShortID()+".") {
				t.Errorf("file name %s does not carry keyid %s", base, k.ShortID())
			}
			s, err := Parse(interoptest.Read(t, v.file))
			if err != nil {
				t.Fatal(err)
			}
			if s.Kind != v.kind {
				t.Errorf("got kind %v, want %v", s.Kind, v.kind)
			}
			if s.Kind == DSSE && s.PayloadType != intoto.PayloadType {
				t.Errorf("got payloadType %q", s.PayloadType)
			}
			if err := s.VerifyKey(k); err != nil {
				t.Errorf("verify: %v", err)
			}
			if err := s.VerifyKey(other); !errors.Is(err, ErrNoSignature) {
				t.Errorf("other key: got %v, want ErrNoSignature", err)
			}
			// The payload decodes as the document type it claims.
			var probe struct {
				Type string `json:"_type"`
			}
			if err := json.Unmarshal(s.Payload, &probe); err != nil || (probe.Type != "link" && probe.Type != "layout") {
				t.Errorf("payload _type %q, %v", probe.Type, err)
			}
		})
	}
}

// tamper returns a copy of an envelope whose document differs in one string value.
func tamper(t *testing.T, data []byte) []byte {
	t.Helper()
	s, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	doc := bytes.Replace(s.Payload, []byte(`"_type"`), []byte(`"x-tampered": 1, "_type"`), 1)
	if bytes.Equal(doc, s.Payload) {
		t.Fatal("nothing to tamper")
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	switch s.Kind {
	case Legacy:
		m["signed"] = json.RawMessage(doc)
	case DSSE:
		m["payload"] = base64.StdEncoding.EncodeToString(doc)
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestInteropVectorsTampered(t *testing.T) {
	t.Parallel()
	for _, v := range vectors {
		t.Run(v.file, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tamper(t, interoptest.Read(t, v.file)))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.VerifyKey(v.key(t)); !errors.Is(err, keys.ErrBadSignature) {
				t.Errorf("got %v, want ErrBadSignature", err)
			}
		})
	}
}

// TestSignatureCoversUnknownFields is the in-toto-python 1.3.1 bug: dropping the X.509 fields of
// in-toto-golang's demo.layout must break its signature, and keeping them (any formatting) must not.
func TestSignatureCoversUnknownFields(t *testing.T) {
	t.Parallel()
	alice := key(t, "in-toto-golang/alice.pub")
	data := interoptest.Read(t, "in-toto-golang/demo.layout")
	var env struct {
		Signed     map[string]json.RawMessage `json:"signed"`
		Signatures json.RawMessage            `json:"signatures"`
	}
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	compact, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(compact)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyKey(alice); err != nil {
		t.Errorf("reformatted envelope: %v", err)
	}
	delete(env.Signed, "rootcas")
	delete(env.Signed, "intermediatecas")
	dropped, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	s, err = Parse(dropped)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyKey(alice); !errors.Is(err, keys.ErrBadSignature) {
		t.Errorf("dropped fields: got %v, want ErrBadSignature", err)
	}
}

func TestSignAndVerifyAllKeyTypes(t *testing.T) {
	t.Parallel()
	doc := []byte(`{"_type":"link","name":"build","command":["make"],"materials":{},"products":{"a":{"sha256":"00"}},"byproducts":{"return-value":0},"environment":{"x":"<&>"}}`)
	ks := []*keys.Key{
		key(t, "in-toto-golang/alice"), key(t, "in-toto-golang/carol"), key(t, "in-toto-golang/frank"),
		key(t, "in-toto-golang/grace"), key(t, "in-toto-python/demo_files/danny"),
	}
	for _, k := range ks {
		t.Run(k.KeyType+"/"+k.ShortID(), func(t *testing.T) {
			t.Parallel()
			for name, sign := range map[string]func() ([]byte, error){
				"dsse":   func() ([]byte, error) { return SignDSSE(intoto.PayloadType, doc, k) },
				"legacy": func() ([]byte, error) { return SignLegacy(doc, k) },
			} {
				out, err := sign()
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				s, err := Parse(out)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				if err := s.VerifyKey(k.Public()); err != nil {
					t.Errorf("%s: %v", name, err)
				}
				if len(s.Signatures) != 1 || s.Signatures[0].KeyID != k.ID() {
					t.Errorf("%s: got signatures %v", name, s.KeyIDs())
				}
				if name == "dsse" && !bytes.Equal(s.Payload, doc) {
					t.Errorf("dsse payload changed: %s", s.Payload)
				}
				if !bytes.Contains(out, []byte("\n \"signatures\": [\n")) {
					t.Errorf("%s: not pretty-printed like in-toto-python:\n%s", name, out)
				}
			}
		})
	}
}

func TestSignLegacyPythonTemplate(t *testing.T) {
	t.Parallel()
	alice := key(t, "in-toto-python/demo_files/alice")
	s, err := Parse(interoptest.Read(t, "in-toto-python/demo_files/demo.layout.template"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := SignLegacy(s.Payload, alice, alice)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed.Signatures) != 1 {
		t.Errorf("got %d signatures, want 1 (deduplicated)", len(signed.Signatures))
	}
	if err := signed.VerifyKey(key(t, "in-toto-python/demo_files/alice.pub")); err != nil {
		t.Error(err)
	}
	a, err := wire.CanonicalJSON(s.Payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wire.CanonicalJSON(signed.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Error("signing changed the document")
	}
}

func TestAppendSignature(t *testing.T) {
	t.Parallel()
	alice := key(t, "in-toto-golang/alice")
	carol := key(t, "in-toto-golang/carol")
	for _, f := range []string{"in-toto-golang/demo.layout", "in-toto-golang/demo.dsse.layout"} {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			data := interoptest.Read(t, f)
			out, err := AppendSignature(data, carol)
			if err != nil {
				t.Fatal(err)
			}
			out, err = AppendSignature(out, alice) // replaces alice's existing signature
			if err != nil {
				t.Fatal(err)
			}
			out, err = AppendSignature(out, carol) // dedupe
			if err != nil {
				t.Fatal(err)
			}
			s, err := Parse(out)
			if err != nil {
				t.Fatal(err)
			}
			if got := s.KeyIDs(); len(got) != 2 {
				t.Errorf("got keyids %v, want alice and carol once each", got)
			}
			for _, k := range []*keys.Key{alice, carol} {
				if err := s.VerifyKey(k.Public()); err != nil {
					t.Errorf("key %s: %v", k.ShortID(), err)
				}
			}
		})
	}
}

func TestParseFormats(t *testing.T) {
	t.Parallel()
	bundle := `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","verificationMaterial":{},` +
		`"dsseEnvelope":{"payloadType":"application/vnd.in-toto+json","payload":"e30=","signatures":[{"sig":"AAEC"}]}}`
	s, err := Parse([]byte(bundle))
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != Bundle || string(s.Payload) != "{}" || string(s.Raw) != bundle {
		t.Errorf("bundle: got kind %v payload %q", s.Kind, s.Payload)
	}
	if err := s.VerifyKey(key(t, "in-toto-golang/alice.pub")); !errors.Is(err, ErrBundle) {
		t.Errorf("bundle VerifyKey: got %v, want ErrBundle", err)
	}
	if _, err := AppendSignature([]byte(bundle), key(t, "in-toto-golang/carol")); !errors.Is(err, ErrBundle) {
		t.Errorf("bundle AppendSignature: got %v, want ErrBundle", err)
	}
	bad := []struct{ name, in string }{
		{"empty", ``},
		{"array", `[]`},
		{"unknown object", `{"foo":1}`},
		{"other media type", `{"mediaType":"text/plain"}`},
		{"legacy signed not object", `{"signed":[],"signatures":[]}`},
		{"legacy sig not hex", `{"signed":{},"signatures":[{"keyid":"a","sig":"zz"}]}`},
		{"dsse payload not base64", `{"payloadType":"x","payload":"!!","signatures":[]}`},
		{"dsse sig not base64", `{"payloadType":"x","payload":"e30=","signatures":[{"sig":"!!"}]}`},
		{"truncated", `{"signed":{}`},
		{"legacy and dsse", `{"signed":{},"signatures":[],"payload":"e30=","payloadType":"x"}`},
		{"bundle and legacy", `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","signed":{},"signatures":[]}`},
	}
	for _, tt := range bad {
		if _, err := Parse([]byte(tt.in)); err == nil {
			t.Errorf("%s: got no error", tt.name)
		}
	}
	if _, err := Parse([]byte(`{"foo":1}`)); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("got %v, want ErrUnknownFormat", err)
	}
	// URL-safe, unpadded base64 is accepted in DSSE.
	s, err = Parse([]byte(`{"payloadType":"x","payload":"e30","signatures":[{"keyid":"k","sig":"_-8"}]}`))
	if err != nil || string(s.Payload) != "{}" || !bytes.Equal(s.Signatures[0].Sig, []byte{0xff, 0xef}) {
		t.Errorf("got %v, %+v", err, s)
	}
}

func TestSignNoKeys(t *testing.T) {
	t.Parallel()
	if _, err := SignDSSE(intoto.PayloadType, []byte(`{}`)); err == nil {
		t.Error("SignDSSE without keys: got no error")
	}
	if _, err := SignLegacy([]byte(`{}`)); err == nil {
		t.Error("SignLegacy without keys: got no error")
	}
	if _, err := SignLegacy([]byte(`{}`), key(t, "in-toto-golang/alice.pub")); !errors.Is(err, keys.ErrNoPrivateKey) {
		t.Errorf("SignLegacy with a public key: got %v, want ErrNoPrivateKey", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, v := range vectors {
		f.Add(interoptest.Read(f, v.file))
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"e30=","payloadType":"x","signatures":[]}}`))
	k := key(f, "in-toto-golang/carol.pub")
	f.Add([]byte(`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"a","sig":"AA=="}],"payload":"e30"}`))
	f.Add([]byte(`{"payloadType":"t","PayLoad":"e30=","payload":"","signatures":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data) // the plain DSSE reader is held to encoding/json by wire.FuzzParseEnvelope
		if err != nil {
			return
		}
		_ = s.VerifyKey(k)
		_, _ = s.SignedBytes()
	})
}
