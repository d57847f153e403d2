package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"slices"
	"strings"
	"testing"
)

// TestChooseAndWriteAll: which reports verify writes where (moved from cli/verify.go).
func TestChooseAndWriteAll(t *testing.T) {
	t.Parallel()
	if f, bad := Choose(nil, false); !slices.Equal(f, []string{"text"}) || bad != "" {
		t.Errorf("default: %q %q", f, bad)
	}
	if f, bad := Choose([]string{"markdown"}, true); !slices.Equal(f, []string{"markdown", "json"}) || bad != "" {
		t.Errorf("--report markdown --json: %q %q", f, bad)
	}
	if _, bad := Choose([]string{"text", "html"}, false); bad != "html" {
		t.Errorf("unknown format: bad %q", bad)
	}
	res := passResult()

	var out bytes.Buffer
	file, err := WriteAll(&out, []string{"text", "junit"}, true, res)
	if err != nil {
		t.Fatal(err)
	}
	var suites struct{ XMLName xml.Name }
	if err := xml.Unmarshal(file, &suites); err != nil || strings.Contains(out.String(), "<?xml") || out.Len() == 0 {
		t.Errorf("text then junit to a file: stdout %q, file %q (%v)", out.String(), file, err)
	}

	out.Reset()
	file, err = WriteAll(&out, []string{"json"}, true, res)
	if err != nil || !bytes.Equal(file, out.Bytes()) || !json.Valid(file) {
		t.Errorf("one format to a file: also on stdout, the same: %q vs %q (%v)", out.String(), file, err)
	}

	out.Reset()
	file, err = WriteAll(&out, []string{"text", "json"}, false, res)
	if err != nil || file != nil || !strings.Contains(out.String(), "{") {
		t.Errorf("no file: every format on stdout: %q, file %q (%v)", out.String(), file, err)
	}
}
