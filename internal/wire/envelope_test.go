package wire

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"
)

// checkPlainDSSE fails when plainDSSE answers differently from encoding/json.
func checkPlainDSSE(t *testing.T, data []byte) {
	w, payload, ok := plainDSSE(data, nil, nil)
	if !ok {
		return
	}
	var slow dsseWire
	if err := json.Unmarshal(data, &slow); err != nil {
		t.Fatalf("plainDSSE accepted %q, encoding/json: %v", data, err)
	}
	w.Payload = string(payload)
	if !reflect.DeepEqual(w, slow) {
		t.Fatalf("%q: plainDSSE %+v, encoding/json %+v", data, w, slow)
	}
}

func TestPlainDSSEMatchesGeneric(t *testing.T) {
	t.Parallel()
	for _, rel := range dsseFixtures {
		checkPlainDSSE(t, interoptest.Read(t, rel))
	}
	for _, d := range []string{
		`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"a","sig":"AA=="}],"payload":"e30"}`,
		`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"a","sig":"AA=="}],"signatures":[{"sig":"AB=="}]}`,
		`{"payloadType":"t","payload":null}`,
		`{"payloadType":1,"payload":"e30="}`,
	} {
		checkPlainDSSE(t, []byte(d))
	}
}

// dsseFixtures are the peers' DSSE envelopes.
var dsseFixtures = []string{
	"in-toto-golang/demo.dsse.layout",
	"in-toto-golang/clone-dsse.776a00e2.link",
	"in-toto-golang/package-dsse.2f89b927.link",
	"in-toto-python/demo_dsse_files/write-code.776a00e2.link",
	"in-toto-python/demo_dsse_files/package.2f89b927.link",
}

// FuzzParseEnvelope holds the plain DSSE reader to encoding/json on any input, and ParseEnvelope to
// never panicking.
func FuzzParseEnvelope(f *testing.F) {
	for _, rel := range append(append([]string{}, dsseFixtures...), interoptest.Links...) {
		f.Add(interoptest.Read(f, rel))
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"e30=","payloadType":"x","signatures":[]}}`))
	f.Add([]byte(`{"payloadType":"t","payload":"e30=","signatures":[{"keyid":"a","sig":"AA=="}],"payload":"e30"}`))
	f.Add([]byte(`{"payloadType":"t","PayLoad":"e30=","payload":"","signatures":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		checkPlainDSSE(t, data)
		_, _ = ParseEnvelope(data)
	})
}
