package tekton

import (
	"encoding/json"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/layout"
)

// compileLayout turns a YAML layout (docs/DESIGN.md "Formats") into unsigned in-toto layout JSON with
// the product's own compiler; key paths are relative to dir. Replace with `intoto-ci sign` once the CLI
// compiles YAML itself.
func compileLayout(tb testing.TB, src []byte, dir string) []byte {
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
