package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func TestDecodeLayoutFixtures(t *testing.T) {
	t.Parallel()
	for _, f := range interoptest.Layouts {
		t.Run(f, func(t *testing.T) {
			t.Parallel()
			doc := interoptest.Payload(t, interoptest.Read(t, f))
			l, err := intoto.DecodeLayout(doc)
			if err != nil {
				t.Fatal(err)
			}
			if l.Expires == "" { // python's unsigned templates carry no expiry
				l.Expires = "2030-01-01T00:00:00Z"
				doc = []byte(strings.Replace(string(doc), "{", `{"expires":"2030-01-01T00:00:00Z",`, 1))
			}
			if err := l.Validate(); err != nil {
				t.Fatalf("validate: %v", err)
			}
			// A round trip keeps every field, known or not: same canonical bytes.
			out, err := json.Marshal(l)
			if err != nil {
				t.Fatal(err)
			}
			want, err := CanonicalJSON(doc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := CanonicalJSON(out)
			if err != nil {
				t.Fatal(err)
			}
			// The only loss: an empty private part, which never counts (KeyVal.Private is omitempty).
			want = []byte(strings.ReplaceAll(string(want), `"private":"",`, ""))
			if string(got) != string(want) {
				t.Errorf("round trip changed the layout:\n got %s\nwant %s", got, want)
			}
		})
	}
}
