package envelope

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
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

func genericLegacy(signed []byte, sigs []sigWire) ([]byte, error) {
	doc, err := genericDecode(signed)
	if err != nil {
		return nil, err
	}
	return pretty(map[string]any{"signed": doc, "signatures": sigs})
}

func genericDSSE(payloadType string, payload []byte, sigs []sigWire) ([]byte, error) {
	return pretty(map[string]any{
		"payloadType": payloadType,
		"payload":     base64.StdEncoding.EncodeToString(payload),
		"signatures":  sigs,
	})
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

// prettyDocs are documents whose legacy envelope must come out exactly as the generic encoder writes it:
// keys out of order, repeated, escaped; strings needing re-encoding; every kind of number and value.
var prettyDocs = []string{
	`{}`, `[]`, `0`, `"x"`, `null`, `true`, `false`,
	`{"_type":"link","name":"build","command":["make","-j"],"materials":{},"products":{"a":{"sha256":"00"},"b\u0000":{"sha512":"ff","sha256":"aa"}},"byproducts":{"return-value":0,"stdout":"<&>\u2028é\ud800"},"environment":{}}`,
	" \t\r\n{ \"b\" : [ 1 , -0.5e+3 , 2E9 , [ ] , { } , [ [ ] ] ] , \"a\" : { } } \n",
	`{"a":1,"a":2,"b":{"x":1,"x":[3]},"a":3}`,
	`{"\u0062":1,"a":2,"\u0061b":3,"é":4,"e":5,"\u00e9x":6}`,
	`{"k<>&":"v<>&","\u003c":"\u003e","\/":"\/","\"q\\":"\b\f\n\r\t","del\u007f":"\u007f"}`,
	"{\"bad utf8 \xff\":\"\xfe\xff\",\"ok\":\"日本語\",\"sep\":\"\u2028\u2029\"}",
	`[{"z":{"y":{"x":[{"w":{}}]}}},-1,0.0,1e-7,123456789012345678901234567890]`,
	`{"signatures":[{"keyid":"a","sig":"b"}],"signed":{"nested":"doc"}}`,
}

func TestWritePrettyMatchesGeneric(t *testing.T) {
	t.Parallel()
	docs := append([]string{}, prettyDocs...)
	for _, rel := range []string{
		"in-toto-python/demo_files/demo.layout.template",
		"in-toto-python/demo_files/write-code.776a00e2.link",
		"in-toto-golang/demo.layout",
		"in-toto-golang/super.layout",
		"in-toto-golang/canonical-test.link",
		"in-toto-golang/package-dsse.2f89b927.link",
	} {
		s, err := Parse(fixture(t, rel))
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(s.Payload), string(s.Raw))
	}
	for _, sigs := range [][]sigWire{
		nil, {}, {{KeyID: "k1", Sig: "00ff"}},
		{{KeyID: "k1", Sig: "00"}, {KeyID: "<k2>\n", Sig: "é"}},
	} {
		for _, doc := range docs {
			want, err := genericLegacy([]byte(doc), sigs)
			if err != nil {
				t.Fatalf("%q: generic: %v", doc, err)
			}
			got, err := encodeLegacy([]byte(doc), sigs)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%q with %d signatures: err %v, got\n%s\nwant\n%s", doc, len(sigs), err, got, want)
			}
			if got := streamed(t, &Sealed{kind: Legacy, doc: []byte(doc), sigs: sigs}); !bytes.Equal(got, want) {
				t.Fatalf("%q: WriteTo differs:\n%s\nwant\n%s", doc, got, want)
			}
		}
	}
}

func TestWritePrettyRefusesMalformed(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		``, ` `, `{`, `}`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{,}`, `[1,]`, `[,1]`, `[1 2]`, `{"a" 1}`, `{1:2}`,
		`01`, `-`, `1.`, `.5`, `1e`, `1e+`, `+1`, `tru`, `nul`, `"abc`, "\"a\x01\"", `"\x"`, `"\u12"`,
		`{} x`, `1 2`, `[` + strings.Repeat(`[`, maxPrettyDepth+5) + strings.Repeat(`]`, maxPrettyDepth+6),
	} {
		var b bytes.Buffer
		if err := writePretty(bufio.NewWriter(&b), []byte(doc), 0); !errors.Is(err, errMalformed) {
			t.Errorf("%.40q: got %v, want errMalformed", doc, err)
		}
	}
}

// FuzzWritePretty checks the streamed legacy encoder against the generic one on any document the
// generic decoder takes whole (trailing data is refused by the streamed one, and by CanonicalJSON
// before it is ever reached).
func FuzzWritePretty(f *testing.F) {
	for _, d := range prettyDocs {
		f.Add([]byte(d))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		sigs := []sigWire{{KeyID: "k", Sig: "s"}}
		got, err := encodeLegacy(doc, sigs)
		whole := json.Valid(doc)
		want, gerr := genericLegacy(doc, sigs)
		switch {
		case whole && gerr == nil:
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%q: err %v, got\n%s\nwant\n%s", doc, err, got, want)
			}
		case err == nil:
			t.Fatalf("%q: streamed accepted a document the generic decoder refuses (valid %v, %v)", doc, whole, gerr)
		}
	})
}

func TestPAEHeaderMatchesDSSE(t *testing.T) {
	t.Parallel()
	for _, pt := range []string{"", "t", intoto.PayloadType, strings.Repeat("x", 12345)} {
		for _, n := range []int{0, 1, 9, 10, 99, 100, 1 << 20} {
			payload := bytes.Repeat([]byte{'p'}, n)
			want := dsse.PAE(pt, payload)
			got := append(appendPAEHeader(nil, pt, n), payload...)
			if !bytes.Equal(got, want) {
				t.Fatalf("type %.20q, %d bytes: header %q, want %q", pt, n, got[:len(got)-n], want[:len(want)-n])
			}
			if h := len(got) - n; h > PAERoom(pt) {
				t.Fatalf("type %.20q, %d bytes: header of %d bytes, room %d", pt, n, h, PAERoom(pt))
			}
		}
	}
}

// sealingKeys are one key, several keys of every type, and a repeated key (signed once).
func sealingKeys(t *testing.T) map[string][]*intoto.Key {
	ed := key(t, "in-toto-golang/carol")
	return map[string][]*intoto.Key{
		"one ed25519":    {ed},
		"two ed25519":    {ed, key(t, "in-toto-python/demo_files/danny")},
		"every type":     {key(t, "in-toto-golang/alice"), ed, key(t, "in-toto-golang/frank"), key(t, "in-toto-golang/grace")},
		"repeated":       {ed, ed},
		"rsa then ecdsa": {key(t, "in-toto-python/demo_files/bob"), key(t, "in-toto-golang/grace")},
	}
}

// deterministic tells whether every key signs deterministically (ed25519), so that two signings of one
// document give the same file.
func deterministic(keys []*intoto.Key) bool {
	for _, k := range keys {
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
func checkSigned(t *testing.T, file []byte, kind Kind, doc []byte, keys []*intoto.Key) {
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
	for _, k := range keys {
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
		raw := fixture(t, rel)
		s, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		var sigs []sigWire
		for _, sig := range s.Signatures {
			sigs = append(sigs, sigWire{KeyID: sig.KeyID, Sig: fmt.Sprintf("%x", sig.Sig)})
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
