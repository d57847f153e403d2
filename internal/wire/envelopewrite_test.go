package wire

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/secure-systems-lab/go-securesystemslib/dsse"
)

// genericDecode, genericLegacy: the legacy encoder as it was before the envelope was streamed,
// pretty() of the generic decoding. The streamed writers must keep every byte of it (the peers'
// conformance tests read these files).
func genericDecode(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

func genericLegacy(signed []byte, sigs []EncodedSignature) ([]byte, error) {
	doc, err := genericDecode(signed)
	if err != nil {
		return nil, err
	}
	return pretty(map[string]any{"signed": doc, "signatures": sigs})
}

// TestEncodeDSSEMatchesPretty checks the hand-written DSSE writer against the generic one.
func TestEncodeDSSEMatchesPretty(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pt      string
		payload []byte
		sigs    []EncodedSignature
	}{
		{"application/vnd.in-toto+json", []byte(`{"_type":"link"}`), []EncodedSignature{{KeyID: "abc", Sig: "c2ln"}}},
		{"x<y>&\"\\\u2028é\x01", []byte{0, 1, 2, 255}, []EncodedSignature{{KeyID: "", Sig: "a+/="}, {KeyID: "k\n<2>", Sig: "é"}}},
		{"", nil, []EncodedSignature{}},
		{"t", []byte("p"), nil},
	}
	for i, c := range cases {
		got, err := EncodeDSSE(c.pt, c.payload, c.sigs)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		want, err := pretty(map[string]any{
			"payloadType": c.pt,
			"payload":     base64.StdEncoding.EncodeToString(c.payload),
			"signatures":  c.sigs,
		})
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if string(got) != string(want) {
			t.Errorf("case %d: got\n%s\nwant\n%s", i, got, want)
		}
	}
}

// The encoders as they were before the envelope was streamed: pretty() of the generic decoding. The
// streamed writers must keep every byte of them (the peers' conformance tests read these files).

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
		raw := interoptest.Read(t, rel)
		e, err := ParseEnvelope(raw)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(e.Payload), string(raw))
	}
	for _, sigs := range [][]EncodedSignature{
		nil, {}, {{KeyID: "k1", Sig: "00ff"}},
		{{KeyID: "k1", Sig: "00"}, {KeyID: "<k2>\n", Sig: "é"}},
	} {
		for _, doc := range docs {
			want, err := genericLegacy([]byte(doc), sigs)
			if err != nil {
				t.Fatalf("%q: generic: %v", doc, err)
			}
			got, err := EncodeLegacy([]byte(doc), sigs)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%q with %d signatures: err %v, got\n%s\nwant\n%s", doc, len(sigs), err, got, want)
			}
			var b bytes.Buffer
			if err := WriteLegacy(&b, []byte(doc), sigs); err != nil || !bytes.Equal(b.Bytes(), want) {
				t.Fatalf("%q: WriteLegacy differs (%v):\n%s\nwant\n%s", doc, err, b.Bytes(), want)
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
		sigs := []EncodedSignature{{KeyID: "k", Sig: "s"}}
		got, err := EncodeLegacy(doc, sigs)
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

// TestPAEHeaderMatchesDSSE holds the one PAE (PAE, and AppendPAEHeader that signing in place writes in
// front of a payload) byte-equal to go-securesystemslib's dsse.PAE, the oracle.
func TestPAEHeaderMatchesDSSE(t *testing.T) {
	t.Parallel()
	for _, pt := range []string{"", "t", "application/vnd.in-toto+json", strings.Repeat("x", 12345)} {
		for _, n := range []int{0, 1, 9, 10, 99, 100, 1 << 20} {
			payload := bytes.Repeat([]byte{'p'}, n)
			want := dsse.PAE(pt, payload)
			if whole := PAE(pt, payload); !bytes.Equal(whole, want) {
				t.Fatalf("type %.20q, %d bytes: PAE differs from dsse.PAE", pt, n)
			}
			got := append(AppendPAEHeader(nil, pt, n), payload...)
			if !bytes.Equal(got, want) {
				t.Fatalf("type %.20q, %d bytes: header %q, want %q", pt, n, got[:len(got)-n], want[:len(want)-n])
			}
			if h := len(got) - n; h > PAERoom(pt) {
				t.Fatalf("type %.20q, %d bytes: header of %d bytes, room %d", pt, n, h, PAERoom(pt))
			}
		}
	}
}
