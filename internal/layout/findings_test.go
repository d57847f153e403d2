package layout

import (
	"bytes"
	"encoding/json"
	"testing"
)

// TestWriteFindings: layout lint's output (moved from cli): a line per finding naming the file, or a
// JSON array that is [] rather than null when the layout is clean.
func TestWriteFindings(t *testing.T) {
	t.Parallel()
	fs := []Finding{{Line: 3, Path: "steps[0]", Code: "no-final-disallow", Message: "m"}}
	var b bytes.Buffer
	if err := WriteFindings(&b, "l.yaml", fs, false); err != nil || b.String() != "l.yaml: "+fs[0].String()+"\n" {
		t.Errorf("text: %q %v", b.String(), err)
	}
	b.Reset()
	var got []Finding
	if err := WriteFindings(&b, "l.yaml", fs, true); err != nil || json.Unmarshal(b.Bytes(), &got) != nil || len(got) != 1 || got[0] != fs[0] {
		t.Errorf("json: %q %v", b.String(), err)
	}
	b.Reset()
	if err := WriteFindings(&b, "l.yaml", nil, true); err != nil || b.String() != "[]\n" {
		t.Errorf("json, clean: %q %v", b.String(), err)
	}
	b.Reset()
	if err := WriteFindings(&b, "l.yaml", nil, false); err != nil || b.Len() != 0 {
		t.Errorf("text, clean: %q %v", b.String(), err)
	}
}
