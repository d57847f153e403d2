// Package interoptest reads the signed metadata the two reference implementations wrote
// (testdata/interop), for the unit tests of the packages that parse it.
package interoptest

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// Layouts are the peers' layouts, legacy and DSSE.
var Layouts = []string{
	"in-toto-golang/demo.layout",
	"in-toto-golang/demo.dsse.layout",
	"in-toto-golang/dsse-only.root.layout",
	"in-toto-golang/super.layout",
	"in-toto-python/demo_files/demo.layout.template",
	"in-toto-python/demo_dsse_files/demo.layout.template",
}

// Links are the peers' links, legacy and DSSE.
var Links = []string{
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

// Dir is testdata/interop in this checkout.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "interop")
}

// Read returns the fixture at rel (a path below testdata/interop).
func Read(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(), rel))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}
	return b
}

// Payload returns the document inside a legacy or DSSE envelope.
func Payload(t testing.TB, env []byte) []byte {
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
