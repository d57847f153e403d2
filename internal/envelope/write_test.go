package envelope

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// The encoders as they were before the envelope was streamed: pretty() of the generic decoding. The
// streamed writers must keep every byte of them (the peers' conformance tests read these files).

func genericDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func genericLegacy(signed []byte, sigs []wire.EncodedSignature) ([]byte, error) {
	doc, err := genericDecode(signed)
	if err != nil {
		return nil, err
	}
	return prettyGeneric(map[string]any{"signed": doc, "signatures": sigs})
}

func genericDSSE(payloadType string, payload []byte, sigs []wire.EncodedSignature) ([]byte, error) {
	return prettyGeneric(map[string]any{
		"payloadType": payloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  sigs,
	})
}

// prettyGeneric encodes v as in-toto-python writes metadata, through encoding/json: keys sorted,
// one-space indent, no HTML escaping, a final newline.
func prettyGeneric(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", " ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

// streamed returns what s.WriteTo writes, and checks the count it returns.
func streamed(t *testing.T, s *Sealed) []byte {
	t.Helper()
	var b bytes.Buffer
	n, err := s.WriteTo(&b)
	if err != nil {
		t.Fatalf("WriteTo: %v", err)
	}
	if n != int64(b.Len()) {
		t.Fatalf("WriteTo returned %d for %d bytes written", n, b.Len())
	}
	return b.Bytes()
}

// sealingKeys are one key, several keys of every type, and a repeated key (signed once).
func sealingKeys(t *testing.T) map[string][]*keys.Key {
	ed := key(t, "in-toto-golang/carol")
	return map[string][]*keys.Key{
		"one ed25519":    {ed},
		"two ed25519":    {ed, key(t, "in-toto-python/demo_files/danny")},
		"every type":     {key(t, "in-toto-golang/alice"), ed, key(t, "in-toto-golang/frank"), key(t, "in-toto-golang/grace")},
		"repeated":       {ed, ed},
		"rsa then ecdsa": {key(t, "in-toto-python/demo_files/bob"), key(t, "in-toto-golang/grace")},
	}
}

// deterministic tells whether every key signs deterministically (ed25519), so that two signings of one
// document give the same file.
func deterministic(ks []*keys.Key) bool {
	for _, k := range ks {
		if k.KeyType != "ed25519" {
			return false
		}
	}
	return true
}

// bigLinkDoc is a link of n artifacts, larger than one base64 chunk and not a multiple of 3 long.
func bigLinkDoc(t *testing.T, n int) []byte {
	t.Helper()
	var b strings.Builder
	b.WriteString(`{"_type":"link","name":"big","command":[],"materials":{},"products":{`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"dir/f%07d":{"sha256":"%064x"}`, i, i)
	}
	b.WriteString(`},"byproducts":{},"environment":{"é":"<x>"}}`)
	if b.Len()%3 == 0 {
		b.WriteString(" ")
	}
	return []byte(b.String())
}

// TestSealedStreamsWhatSignWrites checks that the streamed envelope is byte for byte what SignDSSE and
// SignLegacy return (and what the generic encoders wrote before), for one key and several, that
// SealDSSEInPlace signs what SealDSSE signs, and that the signatures verify.
func TestSealedStreamsWhatSignWrites(t *testing.T) {
	t.Parallel()
	docs := map[string][]byte{
		"small": []byte(`{"_type":"link","name":"b","command":["x"],"materials":{},"products":{"a":{"sha256":"00"}},"byproducts":{},"environment":{}}`),
		"big":   bigLinkDoc(t, 3000),
	}
	for kname, keys := range sealingKeys(t) {
		for dname, doc := range docs {
			t.Run(kname+"/"+dname, func(t *testing.T) {
				t.Parallel()
				// DSSE, the payload copied into the PAE.
				s, err := SealDSSE(intoto.PayloadType, doc, keys...)
				if err != nil {
					t.Fatal(err)
				}
				whole, err := s.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				if got := streamed(t, s); !bytes.Equal(got, whole) {
					t.Fatalf("DSSE WriteTo differs from Bytes")
				}
				if want, _ := genericDSSE(intoto.PayloadType, doc, s.sigs); !bytes.Equal(whole, want) {
					t.Fatalf("DSSE Bytes differs from the generic encoding:\n%.300s\nwant\n%.300s", whole, want)
				}
				checkSigned(t, whole, DSSE, doc, keys)

				// DSSE in place: the payload behind room for the header, more room than needed.
				room := PAERoom(intoto.PayloadType) + 7
				buf := append(bytes.Repeat([]byte{'#'}, room), doc...)
				inPlace, err := SealDSSEInPlace(intoto.PayloadType, buf, room, keys...)
				if err != nil {
					t.Fatal(err)
				}
				got := streamed(t, inPlace)
				checkSigned(t, got, DSSE, doc, keys)
				if want, _ := genericDSSE(intoto.PayloadType, doc, inPlace.sigs); !bytes.Equal(got, want) {
					t.Fatalf("in-place DSSE differs from the generic encoding")
				}
				if !bytes.Equal(buf[room:], doc) || !bytes.Equal(buf[:7], []byte("#######")) {
					t.Fatalf("signing in place changed the payload or wrote before the header")
				}
				if deterministic(keys) {
					signed, err := SignDSSE(intoto.PayloadType, doc, keys...)
					if err != nil || !bytes.Equal(got, signed) {
						t.Fatalf("in-place DSSE differs from SignDSSE (%v)", err)
					}
				}

				// Legacy.
				l, err := SealLegacy(doc, keys...)
				if err != nil {
					t.Fatal(err)
				}
				got = streamed(t, l)
				if whole, err := l.Bytes(); err != nil || !bytes.Equal(got, whole) {
					t.Fatalf("legacy WriteTo differs from Bytes (%v)", err)
				}
				if want, _ := genericLegacy(doc, l.sigs); !bytes.Equal(got, want) {
					t.Fatalf("legacy differs from the generic encoding:\n%.300s\nwant\n%.300s", got, want)
				}
				checkSigned(t, got, Legacy, doc, keys)
				if deterministic(keys) {
					signed, err := SignLegacy(doc, keys...)
					if err != nil || !bytes.Equal(got, signed) {
						t.Fatalf("streamed legacy differs from SignLegacy (%v)", err)
					}
				}

				// Legacy signed over a canonical form made beforehand, the document sealed after.
				canon, err := wire.CanonicalJSON(doc)
				if err != nil {
					t.Fatal(err)
				}
				ls, err := SignCanonical(canon, keys...)
				if err != nil {
					t.Fatal(err)
				}
				got = streamed(t, ls.Seal(doc))
				checkSigned(t, got, Legacy, doc, keys)
				if want, _ := genericLegacy(doc, ls.sigs); !bytes.Equal(got, want) {
					t.Fatalf("legacy sealed after SignCanonical differs from the generic encoding")
				}
				if deterministic(keys) {
					if signed, _ := SignLegacy(doc, keys...); !bytes.Equal(got, signed) {
						t.Fatalf("legacy sealed after SignCanonical differs from SignLegacy")
					}
				}
			})
		}
	}
}

// checkSigned parses an envelope file and verifies it carries doc, signed once by each distinct key.
func checkSigned(t *testing.T, file []byte, kind Kind, doc []byte, ks []*keys.Key) {
	t.Helper()
	s, err := Parse(file)
	if err != nil {
		t.Fatal(err)
	}
	if s.Kind != kind {
		t.Fatalf("kind %v, want %v", s.Kind, kind)
	}
	a, err := wire.CanonicalJSON(s.Payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wire.CanonicalJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) || (kind == DSSE && !bytes.Equal(s.Payload, doc)) {
		t.Fatalf("the envelope does not carry the document")
	}
	ids := map[string]bool{}
	for _, k := range ks {
		ids[k.ID()] = true
		if err := s.VerifyKey(k.Public()); err != nil {
			t.Fatalf("key %s: %v", k.ShortID(), err)
		}
	}
	if len(s.Signatures) != len(ids) {
		t.Fatalf("%d signatures for %d keys", len(s.Signatures), len(ids))
	}
}

func TestSealDSSEInPlaceRoom(t *testing.T) {
	t.Parallel()
	k := key(t, "in-toto-golang/carol")
	room := PAERoom(intoto.PayloadType)
	for _, r := range []int{-1, room - 1, room + 3} {
		if _, err := SealDSSEInPlace(intoto.PayloadType, make([]byte, room+2), r, k); err == nil {
			t.Errorf("room %d of %d bytes: no error", r, room+2)
		}
	}
	if _, err := SealDSSEInPlace(intoto.PayloadType, make([]byte, room), room); !errors.Is(err, errNoKeys) {
		t.Errorf("no keys: got %v", err)
	}
	if _, err := SealLegacy([]byte(`{}`)); !errors.Is(err, errNoKeys) {
		t.Errorf("no keys: got %v", err)
	}
	if _, err := SignCanonical([]byte(`{}`), nil); !errors.Is(err, errNoKeys) {
		t.Errorf("no keys: got %v", err)
	}
	if _, err := SealLegacy([]byte(`{"a":1.5}`), k); !errors.Is(err, wire.ErrCanonical) {
		t.Errorf("a float: got %v, want ErrCanonical", err)
	}
}

// failingWriter accepts n bytes, then fails.
type failingWriter struct{ n int }

var errFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if len(p) <= w.n {
		w.n -= len(p)
		return len(p), nil
	}
	n := w.n
	w.n = 0
	return n, errFull
}

func TestSealedWriteToReportsWriteErrors(t *testing.T) {
	t.Parallel()
	k := key(t, "in-toto-golang/carol")
	doc := bigLinkDoc(t, 2000)
	d, err := SealDSSE(intoto.PayloadType, doc, k)
	if err != nil {
		t.Fatal(err)
	}
	l, err := SealLegacy(doc, k)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Sealed{d, l} {
		whole, err := s.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []int{0, 5, len(whole) / 2, len(whole) - 1} {
			n, err := s.WriteTo(&failingWriter{n: at})
			if !errors.Is(err, errFull) || n != int64(at) {
				t.Errorf("%v failing after %d bytes: got %d, %v", s.kind, at, n, err)
			}
		}
		if _, err := s.WriteTo(io.Discard); err != nil {
			t.Errorf("%v: %v", s.kind, err)
		}
	}
}

// TestSealedFileMatchesPeersFixture rebuilds in-toto-python's legacy links from their documents and
// signatures: the streamed files are python's, byte for byte but the final newline python leaves out.
func TestSealedFileMatchesPeersFixture(t *testing.T) {
	t.Parallel()
	for _, rel := range []string{
		"in-toto-python/demo_files/write-code.776a00e2.link",
		"in-toto-python/demo_files/package.2f89b927.link",
	} {
		raw := interoptest.Read(t, rel)
		s, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		var sigs []wire.EncodedSignature
		for _, sig := range s.Signatures {
			sigs = append(sigs, wire.EncodedSignature{KeyID: sig.KeyID, Sig: fmt.Sprintf("%x", sig.Sig)})
		}
		got := streamed(t, &Sealed{kind: Legacy, doc: s.Payload, sigs: sigs})
		if want := append(bytes.TrimRight(raw, "\n"), '\n'); !bytes.Equal(got, want) {
			t.Fatalf("%s: got\n%s\nwant\n%s", rel, got, want)
		}
	}
}

// TestSealAndStreamDoNotCopyThePayload checks the memory bound of issue 8 where it is made: signing a
// payload in place and streaming its envelope allocate a small fraction of the payload's size (before,
// the PAE copy and the envelope held 2 1/3 times the payload). Not parallel: it reads the process's
// allocation counter.
func TestSealAndStreamDoNotCopyThePayload(t *testing.T) {
	k := key(t, "in-toto-golang/carol")
	doc := bigLinkDoc(t, 40_000) // some 4 MB
	room := PAERoom(intoto.PayloadType)
	buf := append(make([]byte, room, room+len(doc)), doc...)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s, err := SealDSSEInPlace(intoto.PayloadType, buf, room, k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > uint64(len(doc))/8 {
		t.Errorf("signing and writing a %d-byte payload allocated %d bytes", len(doc), n)
	}

	// The legacy file is streamed from the document too: only the canonical form is as large.
	canon, err := wire.CanonicalJSON(doc)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := SignCanonical(canon, k)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&before)
	if _, err := sigs.Seal(doc).WriteTo(io.Discard); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > uint64(len(doc))/8 {
		t.Errorf("streaming a legacy envelope of a %d-byte document allocated %d bytes", len(doc), n)
	}
}
