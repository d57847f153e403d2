package linkfile

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/sigstore"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

func interopKey(t *testing.T, rel string) *keys.Key {
	t.Helper()
	k, err := keys.Load(filepath.Join("..", "..", "testdata", "interop", rel))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// manyArtifacts returns a set of n artifacts with a few names that need escaping in JSON.
func manyArtifacts(n int) intoto.ArtifactSet {
	a := map[string]intoto.Digests{}
	for i := range n {
		a[fmt.Sprintf("tree/d%03d/f%07d", i%997, i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
	}
	a["odd <name> & \"quoted\" é"] = intoto.Digests{"sha256": strings.Repeat("ab", 32)}
	a["two digests"] = intoto.Digests{"sha256": strings.Repeat("cd", 32), "sha512": strings.Repeat("ef", 64)}
	return intoto.NewArtifactSet(a)
}

// TestWriteKeyLinkSameFileAsBefore checks that the streamed link file is byte for byte the one the
// link writer produced before streaming (SignDSSE or SignLegacy of MarshalLink, SignDSSE of
// LinkToStatement, the generic Statement encoder, for --format statement), with one key and with several, for a small link and for
// one big enough to take the memory-saving path.
func TestWriteKeyLinkSameFileAsBefore(t *testing.T) {
	t.Parallel()
	carol, danny := interopKey(t, "in-toto-golang/carol"), interopKey(t, "in-toto-python/demo_files/danny") // ed25519: deterministic
	link := &intoto.Link{Type: intoto.TypeLink, Name: "build", Command: []string{"make", "<all>"},
		ByProducts:  map[string]any{"return-value": 0, "stdout": "ok\n", "stderr": ""},
		Environment: map[string]any{}}
	sizes := map[string][2]intoto.ArtifactSet{
		"small": {manyArtifacts(3), manyArtifacts(5)},
		"big":   {manyArtifacts(10), manyArtifacts(bigLinkArtifacts + 10)},
	}
	for size, sets := range sizes {
		for _, form := range []struct{ env, format string }{{"dsse", "link"}, {"legacy", "link"}, {"dsse", "statement"}} {
			env := form.env
			for _, keys := range [][]*keys.Key{{carol}, {carol, danny}} {
				t.Run(fmt.Sprintf("%s/%s/%s/%d keys", size, env, form.format, len(keys)), func(t *testing.T) {
					t.Parallel()
					withSets := *link
					withSets.Materials, withSets.Products = sets[0], sets[1]
					payload, err := wire.MarshalLink(&withSets)
					if form.format == "statement" {
						// The Statement as LinkToStatement writes it through maps and protojson.
						payload, err = wire.LinkToStatement(&withSets)
					}
					if err != nil {
						t.Fatal(err)
					}
					var want []byte
					if env == "legacy" {
						want, err = envelope.SignLegacy(payload, keys...)
					} else {
						want, err = envelope.SignDSSE(intoto.PayloadType, payload, keys...)
					}
					if err != nil {
						t.Fatal(err)
					}
					s, err := New(Options{Keys: keys, Envelope: env, Format: form.format})
					if err != nil {
						t.Fatal(err)
					}
					dir := t.TempDir()
					path, err := s.Write(context.Background(), dir, &withSets)
					if err != nil {
						t.Fatal(err)
					}
					if want := filepath.Join(dir, "build."+carol.ID()[:8]+".link"); path != want {
						t.Errorf("path %s, want %s", path, want)
					}
					got, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("the streamed file differs from the one built in memory (%d and %d bytes)", len(got), len(want))
					}
					parsed, err := envelope.Parse(got)
					if err != nil {
						t.Fatal(err)
					}
					for _, k := range keys {
						if err := parsed.VerifyKey(k.Public()); err != nil {
							t.Errorf("key %s: %v", k.ShortID(), err)
						}
					}
					entries, _ := os.ReadDir(dir)
					if len(entries) != 1 {
						t.Errorf("%d files in the links dir, want the link only", len(entries))
					}
				})
			}
		}
	}
}

// TestWriteKeyLinkForms covers every key-signed form of a link (record stop writes the same way as
// run), which must come out as SignDSSE and SignLegacy write the generic encoders' payloads.
func TestWriteKeyLinkForms(t *testing.T) {
	t.Parallel()
	carol := interopKey(t, "in-toto-golang/carol")
	link := &intoto.Link{Type: intoto.TypeLink, Name: "pkg", Command: []string{}, ByProducts: map[string]any{}, Environment: map[string]any{},
		Materials: manyArtifacts(4), Products: manyArtifacts(6)}

	stmt, err := wire.LinkToStatement(link)
	if err != nil {
		t.Fatal(err)
	}
	v09, err := json.Marshal(link)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env, format string
		want        func() ([]byte, error)
	}{
		{"dsse", "statement", func() ([]byte, error) { return envelope.SignDSSE(intoto.PayloadType, stmt, carol) }},
		{"legacy", "statement", func() ([]byte, error) { return envelope.SignLegacy(stmt, carol) }},
		{"dsse", "link", func() ([]byte, error) { return envelope.SignDSSE(intoto.PayloadType, v09, carol) }},
		{"legacy", "link", func() ([]byte, error) { return envelope.SignLegacy(v09, carol) }},
	} {
		want, err := c.want()
		if err != nil {
			t.Fatal(err)
		}
		s, err := New(Options{Keys: []*keys.Key{carol}, Envelope: c.env, Format: c.format})
		if err != nil {
			t.Fatal(err)
		}
		path, err := s.Write(context.Background(), t.TempDir(), link)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("%s/%s: the file differs from the one built in memory", c.env, c.format)
		}
	}
}

// failAfter is an io.WriterTo that writes some bytes and then fails, as a full disk would.
type failAfter struct {
	data []byte
	err  error
}

func (f failAfter) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(f.data)
	if err != nil {
		return int64(n), err
	}
	return int64(n), f.err
}

// TestWriteFileFromFailure checks that a write failing halfway leaves neither a partial file nor
// a temporary one, keeps the previous file, and names the file in the error.
func TestWriteFileFromFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "step.abcdef01.link")
	if err := WriteFile(path, []byte("previous")); err != nil {
		t.Fatal(err)
	}
	errDisk := errors.New("no space left on device")
	// Larger than the write buffer, so part of it reaches the temporary file before the failure.
	err := WriteFileFrom(path, failAfter{data: bytes.Repeat([]byte("x"), 1<<20), err: errDisk})
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want the write error naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "previous" {
		t.Errorf("the previous file was changed: %q", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left behind: %v", names)
	}

	// And a new file that fails leaves nothing at all.
	fresh := filepath.Join(dir, "sub", "new.link")
	if err := WriteFileFrom(fresh, failAfter{data: []byte("{"), err: errDisk}); !errors.Is(err, errDisk) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a partial file was left: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(fresh)); len(entries) != 0 {
		t.Errorf("%d files left in the new directory", len(entries))
	}
}

// TestWriteFileFromWrites checks the content and mode of a file written whole.
func TestWriteFileFromWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b.link")
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := WriteFileFrom(path, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("content differs (%v)", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
}

// fakeKeyless is a keyless.Signer that keeps the payload it is handed and answers with a bundle
// holding only a certificate (what the link's name is made of), or fails.
type fakeKeyless struct {
	cert    []byte // DER
	fail    error
	payload []byte
}

func (f *fakeKeyless) Sign(_ context.Context, payloadType string, payload []byte) ([]byte, error) {
	if payloadType != intoto.PayloadType {
		return nil, fmt.Errorf("payload type %q", payloadType)
	}
	f.payload = payload
	if f.fail != nil {
		return nil, f.fail
	}
	return json.Marshal(map[string]any{"verificationMaterial": map[string]any{"certificate": map[string]any{"rawBytes": f.cert}}})
}

// signerCert is a self-signed certificate naming a workflow and an issuer as Fulcio's do.
func signerCert(t *testing.T, san string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(san)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), URIs: []*url.URL{u},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}, Value: []byte("https://issuer.example")}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestWriteKeylessStatementFromSets checks that a keyless link signs the Statement LinkToStatement
// writes for the link with the recorded artifacts (encoded from the sets, small or big), that the
// signer is handed that buffer itself, and that the bundle is written under its name, or, when
// signing fails, the payload kept unsigned.
func TestWriteKeylessStatementFromSets(t *testing.T) {
	t.Parallel()
	san := "https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main"
	cert := signerCert(t, san)
	link := &intoto.Link{Type: intoto.TypeLink, Name: "build", Command: []string{"make", "<all>"},
		ByProducts: map[string]any{"return-value": 2, "stdout": "é\n", "stderr": "\x01"}, Environment: map[string]any{}}
	sizes := map[string][2]intoto.ArtifactSet{
		"small": {manyArtifacts(3), manyArtifacts(5)},
		"big":   {manyArtifacts(10), manyArtifacts(bigLinkArtifacts + 10)},
		"empty": {},
	}
	for size, sets := range sizes {
		t.Run(size, func(t *testing.T) {
			t.Parallel()
			withSets := *link
			withSets.Materials, withSets.Products = sets[0], sets[1]
			want, err := wire.LinkToStatement(&withSets)
			if err != nil {
				t.Fatal(err)
			}
			f := &fakeKeyless{cert: cert}
			s, err := New(Options{Keyless: f, Backend: sigstore.Backend{}, RunKey: "local"})
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			path, err := s.Write(context.Background(), dir, &withSets)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(f.payload, want) {
				t.Fatalf("signed payload differs from LinkToStatement's (%d and %d bytes)", len(f.payload), len(want))
			}
			if cap(f.payload) != len(f.payload) {
				t.Errorf("payload buffer of capacity %d for %d bytes: not sized exactly", cap(f.payload), len(f.payload))
			}
			signer, err := sigstore.BundleSigner(mustRead(t, path))
			if err != nil {
				t.Fatal(err)
			}
			if name := keylessName("build", signer, want); path != filepath.Join(dir, name) {
				t.Errorf("path %s, want %s in %s", path, name, dir)
			}

			// Signing fails: the same payload is kept for `intoto-ci sign`.
			errSign := errors.New("fulcio is down")
			f = &fakeKeyless{fail: errSign}
			s.keyless = f
			if _, err := s.Write(context.Background(), dir, &withSets); err == nil ||
				!strings.Contains(err.Error(), errSign.Error()) {
				t.Fatalf("failed signature: err = %v", err)
			}
			u, err := ReadUnsigned(UnsignedPath(dir, "build"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(u.Bytes(), want) || u.RunKey != "local" || u.Step != "build" {
				t.Errorf("the kept payload differs from LinkToStatement's, or its step %q and run key %q are not the link's and the job's", u.Step, u.RunKey)
			}
		})
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
