package envelope

import (
	"encoding/base64"
	"testing"
)

// TestEncodeDSSEMatchesPretty checks the hand-written DSSE writer against the generic one.
func TestEncodeDSSEMatchesPretty(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pt      string
		payload []byte
		sigs    []sigWire
	}{
		{"application/vnd.in-toto+json", []byte(`{"_type":"link"}`), []sigWire{{KeyID: "abc", Sig: "c2ln"}}},
		{"x<y>&\"\\\u2028é\x01", []byte{0, 1, 2, 255}, []sigWire{{KeyID: "", Sig: "a+/="}, {KeyID: "k\n<2>", Sig: "é"}}},
		{"", nil, []sigWire{}},
		{"t", []byte("p"), nil},
	}
	for i, c := range cases {
		got, err := encodeDSSE(c.pt, c.payload, c.sigs)
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
