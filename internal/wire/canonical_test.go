package wire

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"

	"github.com/secure-systems-lab/go-securesystemslib/cjson"
)

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
		wantErr        bool
	}{
		{name: "sorted keys no whitespace", in: `{ "b": 1, "a": [ true, false, null ] }`, want: `{"a":[true,false,null],"b":1}`},
		{name: "nested sort", in: `{"z":{"y":1,"x":2},"a":{}}`, want: `{"a":{},"z":{"x":2,"y":1}}`},
		{name: "bytewise key order", in: `{"b":1,"B":2,"_":3,"é":4}`, want: `{"B":2,"_":3,"b":1,"é":4}`},
		{name: "escape only quote and backslash", in: `"a\"b\\c\n\u0001\/"`, want: "\"a\\\"b\\\\c\n\x01/\""},
		{name: "unicode kept raw", in: `"\u00e9\ud83d\ude00"`, want: "\"é😀\""},
		{name: "negative integer", in: `-42`, want: `-42`},
		{name: "big integer", in: `9223372036854775807`, want: `9223372036854775807`},
		{name: "integer overflow", in: `9223372036854775808`, wantErr: true},
		{name: "float refused", in: `{"a":1.5}`, wantErr: true},
		{name: "exponent refused", in: `1e3`, wantErr: true},
		{name: "unknown fields kept", in: `{"_type":"link","x-extra":{"k":[1,2]}}`, want: `{"_type":"link","x-extra":{"k":[1,2]}}`},
		{name: "trailing data", in: `{} {}`, wantErr: true},
		{name: "invalid json", in: `{"a":`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CanonicalJSON([]byte(tt.in))
			if tt.wantErr {
				if err == nil {
					t.Fatalf("got %q, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %q", err, tt.want)
			}
			if string(got) != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestCanonicalGolangReference checks the encoding in-toto-golang's own test expects for
// canonical-test.link (model_test.go, TestMetablockGetSignableRepresentation).
func TestCanonicalGolangReference(t *testing.T) {
	t.Parallel()
	const referenceHex = "7b225f74797065223a226c696e6b222" +
		"c22627970726f6475637473223a7b7d2c22636f6d6d616e64223a5b5d2" +
		"c22656e7669726f6e6d656e74223a7b2261223a22575446222c2262223" +
		"a747275652c2263223a66616c73652c2264223a6e756c6c2c2265223a3" +
		"12c2266223a221befbfbf465c5c6e5c22227d2c226d6174657269616c7" +
		"3223a7b7d2c226e616d65223a2274657374222c2270726f64756374732" +
		"23a7b7d7d"
	want, err := hex.DecodeString(referenceHex)
	if err != nil {
		t.Fatal(err)
	}
	got, err := CanonicalJSON(interoptest.Payload(t, interoptest.Read(t, "in-toto-golang/canonical-test.link")))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	link, err := DecodeLink(interoptest.Payload(t, interoptest.Read(t, "in-toto-golang/canonical-test.link")))
	if err != nil {
		t.Fatal(err)
	}
	got, err = Canonical(link)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Canonical(link): got %q, want %q", got, want)
	}
}

func TestCanonicalTyped(t *testing.T) {
	t.Parallel()
	link := &intoto.Link{
		Type:       intoto.TypeLink,
		Name:       "build",
		Command:    []string{"make"},
		Products:   intoto.NewArtifactSet(map[string]intoto.Digests{"b": {"sha256": "01"}, "a": {"sha512": "02", "sha256": "03"}}),
		ByProducts: map[string]any{"return-value": 0, "stdout": "ok\n", "float": float64(3)},
	}
	got, err := Canonical(link)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"_type":"link","byproducts":{"float":3,"return-value":0,"stdout":"ok` + "\n" + `"},"command":["make"],"environment":{},"materials":{},"name":"build","products":{"a":{"sha256":"03","sha512":"02"},"b":{"sha256":"01"}}}`
	if string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
	if _, err := Canonical(map[string]any{"x": 1.5}); !errors.Is(err, ErrCanonical) {
		t.Errorf("got %v, want ErrCanonical for a float", err)
	}
	got, err = Canonical(map[string]any{"a": intoto.NewArtifactSet(map[string]intoto.Digests{"f": {"sha256": "aa"}}), "b": []string{"x"}, "c": intoto.Digests{"sha256": "bb"}, "d": int64(-1), "e": json.Number("7")})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":{"f":{"sha256":"aa"}},"b":["x"],"c":{"sha256":"bb"},"d":-1,"e":7}`; string(got) != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestCanonicalMatchesCJSON cross-checks every fixture document against go-securesystemslib's cjson.
func TestCanonicalMatchesCJSON(t *testing.T) {
	t.Parallel()
	for _, f := range append(append([]string{}, interoptest.Layouts...), interoptest.Links...) {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			doc := interoptest.Payload(t, interoptest.Read(t, f))
			checkAgainstCJSON(t, doc)
		})
	}
}

func checkAgainstCJSON(t *testing.T, doc []byte) {
	t.Helper()
	got, err := CanonicalJSON(doc)
	want, wantErr := cjsonOf(doc)
	if (err != nil) != (wantErr != nil) {
		t.Fatalf("input %q: got error %v, cjson error %v", doc, err, wantErr)
	}
	if err == nil && string(got) != string(want) {
		t.Fatalf("input %q: got %q, cjson %q", doc, got, want)
	}
}

func cjsonOf(doc []byte) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("cjson panic: %v", r)
		}
	}()
	if !json.Valid(doc) {
		return nil, errors.New("invalid json")
	}
	return cjson.EncodeCanonical(json.RawMessage(doc))
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, fx := range append(append([]string{}, interoptest.Layouts...), interoptest.Links...) {
		f.Add(interoptest.Payload(f, interoptest.Read(f, fx)))
	}
	f.Add([]byte(`{"a":"\u0000\"\\","b":[1,-0,{}],"c":null}`))
	f.Add([]byte(`"\xff\xfe"`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		checkAgainstCJSON(t, doc)
	})
}

func BenchmarkCanonicalJSON100k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"_type":"link","name":"big","products":{`)
	for i := range 100_000 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `"dir/file-%06d.txt":{"sha256":"%064x"}`, i, i)
	}
	sb.WriteString(`},"materials":{}}`)
	doc := []byte(sb.String())
	b.SetBytes(int64(len(doc)))
	for b.Loop() {
		if _, err := CanonicalJSON(doc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCanonicalLink100k(b *testing.B) {
	products := map[string]intoto.Digests{}
	for i := range 100_000 {
		products[fmt.Sprintf("dir/file-%06d.txt", i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
	}
	l := &intoto.Link{Type: intoto.TypeLink, Name: "big", Products: intoto.NewArtifactSet(products)}
	for b.Loop() {
		if _, err := Canonical(l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCJSONLink100k(b *testing.B) {
	products := map[string]intoto.Digests{}
	for i := range 100_000 {
		products[fmt.Sprintf("dir/file-%06d.txt", i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
	}
	l := &intoto.Link{Type: intoto.TypeLink, Name: "big", Products: intoto.NewArtifactSet(products)}
	for b.Loop() {
		if _, err := cjson.EncodeCanonical(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePlainLink100k decodes a link with 100k materials and 100k products, half of them
// the same artifacts (as in a build step), indented as the peers write it.
func BenchmarkDecodePlainLink100k(b *testing.B) {
	data := bigLinkJSON(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := DecodePlainLink(data); !ok {
			b.Fatal("not plain")
		}
	}
}

func bigLinkJSON(b *testing.B) []byte {
	b.Helper()
	materials, products := map[string]intoto.Digests{}, map[string]intoto.Digests{}
	for i := range 100_000 {
		d := intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
		materials[fmt.Sprintf("src/m%03d/file%07d.c", i%997, i)] = d
		if i%2 == 0 {
			products[fmt.Sprintf("src/m%03d/file%07d.c", i%997, i)] = d
		} else {
			products[fmt.Sprintf("obj/m%03d/file%07d.o", i%997, i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i+1)}
		}
	}
	l := &intoto.Link{Type: intoto.TypeLink, Name: "big", Materials: intoto.NewArtifactSet(materials), Products: intoto.NewArtifactSet(products)}
	data, err := json.MarshalIndent(l, "", " ")
	if err != nil {
		b.Fatal(err)
	}
	return data
}
