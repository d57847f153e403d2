package wire

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

const interop = "../../testdata/interop"

func readFixture(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(interop, rel))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// payloadOf returns the document inside a legacy or DSSE envelope.
func payloadOf(t testing.TB, env []byte) []byte {
	t.Helper()
	var w struct {
		Signed  json.RawMessage `json:"signed"`
		Payload string          `json:"payload"`
	}
	if err := json.Unmarshal(env, &w); err != nil {
		t.Fatalf("decode envelope: %v", err)
	}
	if w.Signed != nil {
		return w.Signed
	}
	b, err := base64.StdEncoding.DecodeString(w.Payload)
	if err != nil {
		t.Fatalf("decode payload: %v", err)
	}
	return b
}

var (
	layoutFixtures = []string{
		"in-toto-golang/demo.layout",
		"in-toto-golang/demo.dsse.layout",
		"in-toto-golang/dsse-only.root.layout",
		"in-toto-golang/super.layout",
		"in-toto-python/demo_files/demo.layout.template",
		"in-toto-python/demo_dsse_files/demo.layout.template",
	}
	linkFixtures = []string{
		"in-toto-golang/write-code.b7d643de.link",
		"in-toto-golang/package.d3ffd108.link",
		"in-toto-golang/foo.b7d643de.link",
		"in-toto-golang/foo.d3ffd108.link",
		"in-toto-golang/clone-dsse.776a00e2.link",
		"in-toto-golang/update-version-dsse.776a00e2.link",
		"in-toto-golang/package-dsse.2f89b927.link",
		"in-toto-golang/canonical-test.link",
		"in-toto-python/demo_files/write-code.776a00e2.link",
		"in-toto-python/demo_files/package.2f89b927.link",
		"in-toto-python/demo_dsse_files/write-code.776a00e2.link",
		"in-toto-python/demo_dsse_files/package.2f89b927.link",
	}
)
