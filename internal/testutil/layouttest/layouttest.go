// Package layouttest compiles YAML layouts for tests of the CI front-ends, with the product's own
// compiler (internal/layout), so each test package does not carry its own copy. Imported only by tests.
package layouttest

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/layout"
)

// Compile turns a YAML layout into unsigned in-toto layout JSON; key paths are relative to dir.
func Compile(tb testing.TB, src []byte, dir string) []byte {
	tb.Helper()
	doc, err := layout.Decode(src)
	if err != nil {
		tb.Fatalf("layout YAML: %v", err)
	}
	l, err := layout.Compile(doc, layout.CompileOptions{BaseDir: dir})
	if err != nil {
		tb.Fatalf("compile layout: %v", err)
	}
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// WriteJSON compiles the YAML layout file src into dst (unsigned).
func WriteJSON(tb testing.TB, src, dst string) {
	tb.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(dst, Compile(tb, b, filepath.Dir(src)), 0o644); err != nil {
		tb.Fatal(err)
	}
}
