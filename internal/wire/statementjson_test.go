package wire

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// unusualNames are artifact names (and digest algorithms) that take every branch of the string
// encoding: escapes, control characters, HTML characters (not escaped in a Statement), U+2028/2029,
// multi-byte UTF-8, U+FFFD itself and bytes that are not UTF-8.
var unusualNames = []string{
	"plain/file.txt", "é", "日本/語.txt", "emoji 🎉", `quo"te`, `back\slash`, "tab\there", "nl\nx", "cr\rx",
	"bs\bff\f", "nul\x00", "\x01\x1f", "del\x7f", "<html>&amp;", "sep\u2028\u2029", "repl\ufffd",
	"bad\xff", "bad\xc3", "\xed\xa0\x80surrogate", "a\xfe\xffb", " ", "-", "/", "zz\u0085",
}

// statementLinks are links whose Statements AppendStatement must write exactly as LinkToStatement.
func statementLinks() []*intoto.Link {
	h := strings.Repeat("0f", 32)
	mats := map[string]intoto.Digests{}
	prods := map[string]intoto.Digests{}
	for i, n := range unusualNames {
		mats[n] = intoto.Digests{"sha256": h}
		if !utf8.ValidString(n) {
			continue // a subject must be UTF-8: LinkToStatement refuses it (see statementRefusals)
		}
		switch i % 3 {
		case 0:
			prods[n] = intoto.Digests{"sha256": h}
		case 1:
			prods[n] = intoto.Digests{"sha512": strings.Repeat("ab", 64), "sha256": h, "gitCommit": strings.Repeat("01", 20)}
		default:
			prods[n] = intoto.Digests{"md5": strings.Repeat("9a", 16)}
		}
	}
	return []*intoto.Link{
		{Type: intoto.TypeLink, Name: "empty"},
		{Type: intoto.TypeLink, Name: ""},
		{Type: intoto.TypeLink, Name: "no-command", Command: []string{}, Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"sha256": h}})},
		{Type: intoto.TypeLink, Name: "materials-only", Command: []string{"make"}, Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"sha256": h}})},
		{Type: intoto.TypeLink, Name: "plain", Command: []string{"make", "dist"},
			Materials:   intoto.NewArtifactSet(map[string]intoto.Digests{"src/a.go": {"sha256": h}, "src/b.go": {"sha256": h}}),
			Products:    intoto.NewArtifactSet(map[string]intoto.Digests{"dist/app": {"sha256": h}}),
			ByProducts:  map[string]any{"return-value": 0, "stdout": "", "stderr": ""},
			Environment: map[string]any{}},
		{Type: intoto.TypeLink, Name: "unusual <é\u2028\x01\"\xff>", Command: []string{"sh", "-c", "echo '<&>' \"\t\" \xfe"},
			Materials: intoto.NewArtifactSet(mats), Products: intoto.NewArtifactSet(prods),
			ByProducts: map[string]any{"return-value": 3, "stdout": "<out>\n\x00", "stderr": "é\u2029",
				"big": int64(1) << 60, "float": 1.5e-7, "neg": -0.0, "list": []any{nil, true, "x", 1e21}},
			Environment: map[string]any{"k\xff": map[string]any{"n": json.Number("12.50")}, "": "empty key"}},
		{Type: intoto.TypeLink, Name: "digests", Command: []string{"x"},
			Materials: intoto.NewArtifactSet(map[string]intoto.Digests{
				"custom":  {"my-hash": "abcd", "sha256": h},
				"upperlg": {"SHA256": "00", "Blake3": "ff"},
				"quoted":  {`a"l\g`: "12", "\u00e9\u2028": "34", "\x01": "56"},
				"notutf8": {"x\xff": "78", "x\xfe\xfe": "9a"},
			}),
			Products: intoto.NewArtifactSet(map[string]intoto.Digests{
				"custom":   {"my-hash": "abcd"},
				"sha1":     {"sha1": strings.Repeat("ab", 20)},
				"sha512":   {"sha512": strings.Repeat("cd", 64)},
				"dirhash":  {"dirHash": h},
				"unicode":  {"é-hash": "00", "日本": "11"},
				"multiple": {"sha256": h, "sha384": strings.Repeat("ef", 48), "sha3_256": h},
			})},
	}
}

// statementRefusals are links LinkToStatement refuses; AppendStatement must refuse them too.
func statementRefusals() []*intoto.Link {
	h := strings.Repeat("0f", 32)
	return []*intoto.Link{
		{Name: "upper hex", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"sha256": strings.ToUpper(h)}})},
		{Name: "empty name", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"": {"sha256": h}})},
		{Name: "no digest", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {}})},
		{Name: "null digest", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a": nil})},
		{Name: "empty algorithm", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"": "00"}})},
		{Name: "short sha256 subject", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"sha256": "00"}})},
		{Name: "short sha256 material", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"sha256": "00"}})},
		{Name: "long md5", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"md5": h}})},
		{Name: "subject not utf-8", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a\xff": {"sha256": h}})},
		{Name: "subject algorithm not utf-8", Products: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"x\xff": "00"}})},
		{Name: "material algorithms clash", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"x\xff": "00", "x\xfe": "11"}})},
		{Name: "material algorithms clash with U+FFFD", Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {"x\xff": "00", "x\ufffd": "11"}})},
		{Name: "byproducts", ByProducts: map[string]any{"c": make(chan int)}},
	}
}

// TestAppendStatementMatchesLinkToStatement holds the encoder to LinkToStatement's bytes, after
// whatever b holds, with one allocation of exactly the size needed.
func TestAppendStatementMatchesLinkToStatement(t *testing.T) {
	t.Parallel()
	for _, l := range statementLinks() {
		want, err := LinkToStatement(l)
		if err != nil {
			t.Fatalf("%q: LinkToStatement: %v", l.Name, err)
		}
		for _, prefix := range [][]byte{nil, []byte("0123456789"), make([]byte, 3, 5)} {
			in := prefix
			if in != nil {
				in = in[:len(in):len(in)] // no spare room: the function must grow it, once
			}
			got, err := AppendStatement(in, l)
			if err != nil {
				t.Fatalf("%q: %v", l.Name, err)
			}
			if !bytes.Equal(got[:len(prefix)], prefix) || !bytes.Equal(got[len(prefix):], want) {
				t.Fatalf("%q: got\n%q\nwant %q +\n%q", l.Name, got, prefix, want)
			}
			if cap(got) != len(got) {
				t.Errorf("%q: capacity %d for %d bytes: the size was not worked out exactly", l.Name, cap(got), len(got))
			}
		}
		big := make([]byte, 4, 4+len(want))
		got, err := AppendStatement(big, l)
		if err != nil || &got[0] != &big[0] || !bytes.Equal(got[4:], want) {
			t.Errorf("%q: with room enough the result is not b's array (err %v)", l.Name, err)
		}
		if got, err := MarshalStatement(l); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%q: MarshalStatement differs (err %v)", l.Name, err)
		}
	}
}

func TestAppendStatementRefusals(t *testing.T) {
	t.Parallel()
	for _, l := range statementRefusals() {
		_, werr := LinkToStatement(l)
		if werr == nil {
			t.Fatalf("%s: LinkToStatement accepted it: the case is not a refusal", l.Name)
		}
		got, err := AppendStatement(nil, l)
		if err == nil {
			t.Errorf("%s: AppendStatement = %q, want an error like %v", l.Name, got, werr)
			continue
		}
		if !strings.HasPrefix(err.Error(), "link to statement: ") {
			t.Errorf("%s: error %q does not say what failed", l.Name, err)
		}
	}
	// The refusals LinkToStatement itself words (intoto's and the attestation spec's checks) read the same.
	for _, name := range []string{"upper hex", "empty name", "no digest", "short sha256 subject", "long md5"} {
		for _, l := range statementRefusals() {
			if l.Name != name {
				continue
			}
			_, werr := LinkToStatement(l)
			_, err := AppendStatement(nil, l)
			if err == nil || err.Error() != werr.Error() {
				t.Errorf("%s: error %v, want %v", name, err, werr)
			}
		}
	}
}

// TestAppendStatementLarge compares both encoders on sets of many random names and digests.
func TestAppendStatementLarge(t *testing.T) {
	t.Parallel()
	n := 100_000
	if testing.Short() {
		n = 10_000
	}
	r := rand.New(rand.NewPCG(8, 1))
	mats, prods := make(map[string]intoto.Digests, n), make(map[string]intoto.Digests, n)
	alphabet := []string{"a", "b", "/", ".", "é", "\"", "\\", "\n", "<", "\u2028", "日", "\xff", "\x00", " "}
	for i := range n {
		var sb strings.Builder
		fmt.Fprintf(&sb, "d%d/", i%97)
		for range r.IntN(12) {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		fmt.Fprintf(&sb, "%d", i)
		name := sb.String()
		var sum [32]byte
		for j := range sum {
			sum[j] = byte(r.Uint32())
		}
		d := intoto.SHA256Digest(sum).Digests()
		if i%1000 == 0 {
			d["sha512"] = strings.Repeat("ab", 64)
		}
		mats[name] = d
		if utf8.ValidString(name) {
			prods["out/"+name] = d
		}
	}
	l := &intoto.Link{Type: intoto.TypeLink, Name: "large", Command: []string{"build", "--all"},
		ByProducts: map[string]any{"return-value": 0, "stdout": "done\n", "stderr": ""}, Materials: intoto.NewArtifactSet(mats), Products: intoto.NewArtifactSet(prods)}
	want, err := LinkToStatement(l)
	if err != nil {
		t.Fatal(err)
	}
	got, err := AppendStatement(nil, l)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%d bytes, want %d; first difference at %d: got %q, want %q", len(got), len(want), i,
			got[max(0, i-40):min(len(got), i+40)], want[max(0, i-40):min(len(want), i+40)])
	}
	if cap(got) != len(got) {
		t.Errorf("capacity %d for %d bytes", cap(got), len(got))
	}
}

// referenceString is what LinkToStatement makes of a string: encoding/json (HTML-escaped, bytes that
// are not UTF-8 replaced), decoded again, and encoded by stableJSON.
func referenceString(t testing.TB, s string) []byte {
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	out, err := stableJSON(raw)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAppendStatementString(t *testing.T) {
	t.Parallel()
	cases := append([]string{""}, unusualNames...)
	for c := range 256 { // every byte alone and in a sequence
		cases = append(cases, string([]byte{byte(c)}), "x"+string([]byte{byte(c), 0x80, 'y'}))
	}
	for _, s := range cases {
		want := referenceString(t, s)
		if got := appendStatementString(nil, s); !bytes.Equal(got, want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
		if n := statementStringLen(s); n != len(want) {
			t.Errorf("%q: length %d, want %d", s, n, len(want))
		}
	}
}

func FuzzAppendStatementString(f *testing.F) {
	for _, s := range unusualNames {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := referenceString(t, s)
		if got := appendStatementString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q: got %s, want %s", s, got, want)
		}
		if n := statementStringLen(s); n != len(want) {
			t.Fatalf("%q: length %d, want %d", s, n, len(want))
		}
	})
}

// FuzzAppendStatement checks the encoder against LinkToStatement on links of fuzzed names, digest
// algorithms and values: the same bytes, or both refuse.
func FuzzAppendStatement(f *testing.F) {
	h := strings.Repeat("0f", 32)
	f.Add("step", "a", "b", "sha256", h, "out")
	f.Add("é\u2028", "x\xff", "<&>", "md5", "00", "\x00")
	f.Add("", "\"", "\\", "x\xff", "12", "日本")
	f.Add("s", "a", "a", "sha256", "AB", "b")
	f.Fuzz(func(t *testing.T, step, m1, m2, alg, value, p1 string) {
		l := &intoto.Link{Name: step, Command: []string{step, m1},
			Materials:  intoto.NewArtifactSet(map[string]intoto.Digests{m1: {"sha256": h}, m2: {alg: value}}),
			Products:   intoto.NewArtifactSet(map[string]intoto.Digests{p1: {alg: value, "sha512": strings.Repeat("ab", 64)}, m1: {"sha256": h}}),
			ByProducts: map[string]any{"stdout": m2}}
		want, werr := LinkToStatement(l)
		got, err := AppendStatement(nil, l)
		if (err == nil) != (werr == nil) {
			t.Fatalf("error %v, LinkToStatement's %v", err, werr)
		}
		if err == nil && !bytes.Equal(got, want) {
			t.Fatalf("got\n%q\nwant\n%q", got, want)
		}
	})
}

func BenchmarkAppendStatement(b *testing.B) {
	n := 100_000
	a := make(map[string]intoto.Digests, n)
	for i := range n {
		var sum [32]byte
		sum[0], sum[1], sum[2] = byte(i), byte(i>>8), byte(i>>16)
		a[fmt.Sprintf("dir%03d/file%07d.txt", i%1000, i)] = intoto.SHA256Digest(sum).Digests()
	}
	set := intoto.NewArtifactSet(a)
	l := &intoto.Link{Type: intoto.TypeLink, Name: "bench", Command: []string{"make"}, Materials: set, Products: set}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := AppendStatement(nil, l); err != nil {
			b.Fatal(err)
		}
	}
}
