package keys

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// TestKeyIDWithScheme: in-toto-golang's keylib_test.go labels its ECDSA test keys by curve through
// the library's Load(path, scheme, …); WithScheme gives those keyids back.
func TestKeyIDWithScheme(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ file, scheme, id string }{
		{"in-toto-golang/frank.pub", SchemeECDSAP521, "434cf7c5b168f6ea4c7e6e67afa74a02625310530f1664f761637bdc7ad8f8df"},
		{"in-toto-golang/grace.pub", SchemeECDSAP384, "a5522ebccd492f64e6ec0bbcb5eb782708f6e26709a3712e64fff108b98e5142"},
		{"in-toto-golang/heidi.pub", SchemeECDSAP224, "fae849ef9247cc7d19ebd33ab63b5d18a31357508fd82d8ad2aad6fdcc584bd7"},
	} {
		k, err := Load(filepath.Join(interoptest.Dir(), tt.file))
		if err != nil {
			t.Fatal(err)
		}
		l, err := k.WithScheme(tt.scheme)
		if err != nil {
			t.Fatal(err)
		}
		if l.KeyID != tt.id || l.ID() != tt.id {
			t.Errorf("%s as %s: got keyid %s, want %s", tt.file, tt.scheme, l.KeyID, tt.id)
		}
		if _, err := k.WithScheme(SchemeED25519); !errors.Is(err, ErrUnsupportedKey) {
			t.Errorf("%s as ed25519: got %v, want ErrUnsupportedKey", tt.file, err)
		}
	}
}

// TestECDSAHashConventions: a P-384 key labelled ecdsa-sha2-nistp256 signs with SHA-384 when read from
// PEM (in-toto-golang's way) and with SHA-256 when read from a securesystemslib JSON private key
// (in-toto-python's way); Verify takes both.
func TestECDSAHashConventions(t *testing.T) {
	t.Parallel()
	pemKey, err := Load(filepath.Join(interoptest.Dir(), "in-toto-golang/grace"))
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(pemKey)
	if err != nil {
		t.Fatal(err)
	}
	jsonKey, err := Parse(js, nil)
	if err != nil {
		t.Fatal(err)
	}
	if jsonKey.ID() != pemKey.ID() {
		t.Fatalf("json key id %s, pem key id %s", jsonKey.ID(), pemKey.ID())
	}
	pub, err := pemKey.CryptoPublicKey()
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("payload")
	s256, s384 := sha256.Sum256(data), sha512.Sum384(data)
	for _, tt := range []struct {
		name   string
		k      *Key
		digest []byte
	}{{"pem", pemKey, s384[:]}, {"json", jsonKey, s256[:]}} {
		sig, err := tt.k.Sign(data)
		if err != nil {
			t.Fatal(err)
		}
		if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), tt.digest, sig) {
			t.Errorf("%s key: signature is not over the expected digest", tt.name)
		}
		if err := pemKey.Public().Verify(data, sig); err != nil {
			t.Errorf("%s key: Verify: %v", tt.name, err)
		}
		if err := pemKey.Public().Verify([]byte("other"), sig); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s key: Verify of other data: got %v, want ErrBadSignature", tt.name, err)
		}
	}
}

func TestKeyIDsMatchPeers(t *testing.T) {
	t.Parallel()
	// Keyids from the fixture file names and from in-toto-golang's keylib_test.go.
	tests := []struct {
		file, keyType, scheme, id string
	}{
		{"in-toto-golang/alice", "rsa", SchemeRSAPSSSHA256, "70ca5750c2eda80b18f41f4ec5f92146789b5d68dd09577be422a0159bd13680"},
		{"in-toto-golang/alice.pub", "rsa", SchemeRSAPSSSHA256, "70ca5750c2eda80b18f41f4ec5f92146789b5d68dd09577be422a0159bd13680"},
		{"in-toto-golang/dan", "rsa", SchemeRSAPSSSHA256, "b7d643dec0a051096ee5d87221b5d91a33daa658699d30903e1cefb90c418401"},
		{"in-toto-golang/dan.pub", "rsa", SchemeRSAPSSSHA256, "b7d643dec0a051096ee5d87221b5d91a33daa658699d30903e1cefb90c418401"},
		{"in-toto-golang/carol", "ed25519", SchemeED25519, "be6371bc627318218191ce0780fd3183cce6c36da02938a477d2e4dfae1804a6"},
		{"in-toto-golang/carol.pub", "ed25519", SchemeED25519, "be6371bc627318218191ce0780fd3183cce6c36da02938a477d2e4dfae1804a6"},
		// ECDSA PEM keys: the label both peers' CLIs give (in-toto key layout, import_ecdsakey_from_pem).
		{"in-toto-golang/frank", "ecdsa", SchemeECDSAP256, "0ab02fd8a1195d902d4e71df38123be0d3fa9ea45ebc6e1246d8e82179acb6dd"},
		{"in-toto-golang/frank.pub", "ecdsa", SchemeECDSAP256, "0ab02fd8a1195d902d4e71df38123be0d3fa9ea45ebc6e1246d8e82179acb6dd"},
		{"in-toto-golang/grace", "ecdsa", SchemeECDSAP256, "a5fe82bffd11c43cd25b41b427496dea8eb61505bfa11907a6a565ebb00fa323"},
		{"in-toto-golang/grace.pub", "ecdsa", SchemeECDSAP256, "a5fe82bffd11c43cd25b41b427496dea8eb61505bfa11907a6a565ebb00fa323"},
		{"in-toto-golang/heidi", "ecdsa", SchemeECDSAP256, "337f2a2bed46e863a68f17ae0e3e96756eca87c38080d872c5824493cec1ce1a"},
		{"in-toto-golang/heidi.pub", "ecdsa", SchemeECDSAP256, "337f2a2bed46e863a68f17ae0e3e96756eca87c38080d872c5824493cec1ce1a"},
		{"in-toto-golang/example.com.write-code.cert.pem", "rsa", SchemeRSAPSSSHA256, "4979dea7a8467cbe0299693703b81d490854143b859a469ec0f6349e7bdf582a"},
		{"in-toto-python/demo_files/bob", "rsa", SchemeRSAPSSSHA256, "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5"},
		{"in-toto-python/demo_files/bob.pub", "rsa", SchemeRSAPSSSHA256, "776a00e29f3559e0141b3b096f696abc6cfb0c657ab40f441132b345b08453f5"},
		{"in-toto-python/demo_files/carl", "rsa", SchemeRSAPSSSHA256, "2f89b9272acfc8f4a0a0f094d789fdb0ba798b0fe41f2f5f417c12f0085ff498"},
		{"in-toto-python/demo_files/carl.pub", "rsa", SchemeRSAPSSSHA256, "2f89b9272acfc8f4a0a0f094d789fdb0ba798b0fe41f2f5f417c12f0085ff498"},
		{"in-toto-python/demo_files/danny", "ed25519", SchemeED25519, "36a5529f72cf3b1cc096a28887350969212f9d6c46529658ab186fc0cb781699"},
		{"in-toto-python/demo_files/danny.pub", "ed25519", SchemeED25519, "36a5529f72cf3b1cc096a28887350969212f9d6c46529658ab186fc0cb781699"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			k, err := Load(filepath.Join(interoptest.Dir(), tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if k.KeyType != tt.keyType || k.Scheme != tt.scheme {
				t.Errorf("got %s/%s, want %s/%s", k.KeyType, k.Scheme, tt.keyType, tt.scheme)
			}
			if got := k.ID(); got != tt.id {
				t.Errorf("got keyid %s, want %s", got, tt.id)
			}
			if k.KeyID != tt.id {
				t.Errorf("got KeyID field %s, want %s", k.KeyID, tt.id)
			}
			isPub := strings.HasSuffix(tt.file, ".pub") || strings.HasSuffix(tt.file, ".cert.pem")
			if k.HasPrivate() == isPub {
				t.Errorf("got HasPrivate %v for %s", k.HasPrivate(), tt.file)
			}
			p := k.Public()
			if p.HasPrivate() || p.ID() != tt.id {
				t.Errorf("Public(): got private %v keyid %s", p.HasPrivate(), p.ID())
			}
		})
	}
}

// TestLayoutKeysMatchFiles checks that the keys embedded in the fixture layouts hash to their map keys
// and equal the keys loaded from the PEM files (so the trimmed-PEM convention matches both peers).
func TestLayoutKeysMatchFiles(t *testing.T) {
	t.Parallel()
	for _, f := range interoptest.Layouts {
		l, err := intoto.DecodeLayout(interoptest.Payload(t, interoptest.Read(t, f)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for id, k := range l.Keys {
			if got := ID(k); got != id {
				t.Errorf("%s: key %s hashes to %s", f, id, got)
			}
		}
	}
	dan, err := Load(filepath.Join(interoptest.Dir(), "in-toto-golang/dan.pub"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := intoto.DecodeLayout(interoptest.Payload(t, interoptest.Read(t, "in-toto-golang/demo.layout")))
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Keys[dan.ID()]; got == nil || got.KeyVal.Public != dan.KeyVal.Public {
		t.Errorf("demo.layout key %s differs from dan.pub", dan.ShortID())
	}
}

func TestEncryptedKeys(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"rsa", "ecdsa", "ed25519"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			enc := filepath.Join(interoptest.Dir(), "in-toto-python/pems", typ+"_private_encrypted.pem")
			plain, err := Load(filepath.Join(interoptest.Dir(), "in-toto-python/pems", typ+"_private_unencrypted.pem"))
			if err != nil {
				t.Fatal(err)
			}
			k, err := LoadWithPassword(enc, []byte("hunter2"))
			if err != nil {
				t.Fatal(err)
			}
			if k.ID() != plain.ID() || k.KeyVal.Private != plain.KeyVal.Private {
				t.Errorf("got keyid %s, want %s (private parts equal: %v)", k.ID(), plain.ID(), k.KeyVal.Private == plain.KeyVal.Private)
			}
			pub, err := Load(filepath.Join(interoptest.Dir(), "in-toto-python/pems", typ+"_public.pem"))
			if err != nil {
				t.Fatal(err)
			}
			if pub.ID() != k.ID() {
				t.Errorf("public keyid %s, want %s", pub.ID(), k.ID())
			}
			if _, err := Load(enc); !errors.Is(err, ErrEncryptedKey) || !strings.Contains(err.Error(), typ+"_private_encrypted.pem") {
				t.Errorf("no password: got %v, want ErrEncryptedKey naming the file", err)
			}
			if _, err := LoadWithPassword(enc, []byte("hunter3")); !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: got %v, want ErrWrongPassword", err)
			}
		})
	}
}

func TestLoadKeyErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name, path string
		want       error
		contains   string
	}{
		{"secp256k1 is unsupported", filepath.Join(interoptest.Dir(), "in-toto-golang/erin"), nil, "erin"},
		{"missing file", filepath.Join(dir, "nope"), os.ErrNotExist, "nope"},
		{"not a key", write("junk", "hello"), nil, "no PEM block"},
		{"unknown pem type", write("csr", "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n"), ErrUnsupportedKey, "csr"},
		{"json key with wrong keyid", write("bad.json", `{"keyid":"00","keytype":"ed25519","scheme":"ed25519","keyval":{"public":"32b2b597295d7a9ef4c5cfd2d588f6b02dc983a58cf5677b1d7d20af82c7e1a2"}}`), nil, "does not match"},
		{"json key bad hex", write("bad2.json", `{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"zz"}}`), nil, "hex"},
		{"json ed25519 mismatched private", write("bad3.json", `{"keytype":"ed25519","scheme":"ed25519","keyval":{"public":"32b2b597295d7a9ef4c5cfd2d588f6b02dc983a58cf5677b1d7d20af82c7e1a2","private":"0000000000000000000000000000000000000000000000000000000000000000"}}`), nil, "does not match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(tt.path)
			if err == nil {
				t.Fatal("got no error")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("got %q, want it to contain %q", err, tt.contains)
			}
		})
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	files := []string{
		"in-toto-golang/alice", "in-toto-golang/carol", "in-toto-golang/frank", "in-toto-golang/grace",
		"in-toto-golang/heidi", "in-toto-python/demo_files/danny", "in-toto-python/pems/ecdsa_private_unencrypted.pem",
	}
	var keys []*Key
	for _, f := range files {
		k, err := Load(filepath.Join(interoptest.Dir(), f))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	for _, typ := range []string{"ed25519", "ecdsa", "rsa"} {
		k, err := Generate(typ)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	msg := []byte("in-toto")
	for _, k := range keys {
		t.Run(k.KeyType+"/"+k.ShortID(), func(t *testing.T) {
			t.Parallel()
			sig, err := k.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			pub := k.Public()
			if err := pub.Verify(msg, sig); err != nil {
				t.Errorf("verify: %v", err)
			}
			if err := pub.Verify([]byte("in-totO"), sig); !errors.Is(err, ErrBadSignature) {
				t.Errorf("tampered message: got %v, want ErrBadSignature", err)
			}
			bad := append([]byte(nil), sig...)
			bad[len(bad)/2] ^= 1
			if err := pub.Verify(msg, bad); !errors.Is(err, ErrBadSignature) {
				t.Errorf("tampered signature: got %v, want ErrBadSignature", err)
			}
			if _, err := pub.Sign(msg); !errors.Is(err, ErrNoPrivateKey) {
				t.Errorf("sign with public key: got %v, want ErrNoPrivateKey", err)
			}
			// PEM round trip keeps the keyid.
			privPEM, err := k.PrivatePEM()
			if err != nil {
				t.Fatal(err)
			}
			pubPEM, err := k.PublicPEM()
			if err != nil {
				t.Fatal(err)
			}
			k2, err := Parse(privPEM, nil)
			if err != nil {
				t.Fatal(err)
			}
			p2, err := Parse(pubPEM, nil)
			if err != nil {
				t.Fatal(err)
			}
			if k2.ID() != k.ID() || p2.ID() != k.ID() {
				t.Errorf("PEM round trip: got %s and %s, want %s", k2.ID(), p2.ID(), k.ID())
			}
		})
	}
}

func TestGenerateKeyUnknownType(t *testing.T) {
	t.Parallel()
	if _, err := Generate("dsa"); !errors.Is(err, ErrUnsupportedKey) {
		t.Errorf("got %v, want ErrUnsupportedKey", err)
	}
}

func FuzzParseKey(f *testing.F) {
	for _, fx := range []string{
		"in-toto-golang/alice", "in-toto-golang/alice.pub", "in-toto-golang/carol", "in-toto-golang/erin",
		"in-toto-golang/frank.pub", "in-toto-python/demo_files/danny", "in-toto-python/pems/ecdsa_private_encrypted.pem",
		"in-toto-python/pems/ed25519_private_encrypted.pem", "in-toto-golang/root.cert.pem",
	} {
		f.Add(interoptest.Read(f, fx), []byte("hunter2"))
	}
	f.Fuzz(func(t *testing.T, data, password []byte) {
		k, err := Parse(data, password)
		if err != nil {
			return
		}
		if k.ID() == "" || k.ID() != k.Public().ID() {
			t.Fatalf("parsed key has keyid %q, public %q", k.ID(), k.Public().ID())
		}
	})
}
