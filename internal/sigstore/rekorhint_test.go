package sigstore

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

// A 404 to the entry upload names the other API version; other failures get no hint.
func TestRekorVersionHint(t *testing.T) {
	t.Parallel()
	notFound := fmt.Errorf("adding rekor v2 entry: %w", &statusError{code: 404, msg: "rekor v2 returned 404"})
	for _, tt := range []struct {
		name string
		err  error
		log  keyless.Log
		want string
	}{
		{"v2 API on a v1 log", notFound, keyless.Log{URL: "https://rekor.example", Version: 2}, "--rekor-version 1"},
		{"v1 API on a v2 log", &statusError{code: 404}, keyless.Log{URL: "https://log2.example", Version: 1}, "--rekor-version 2"},
		{"server error", &statusError{code: 500}, keyless.Log{URL: "https://rekor.example", Version: 1}, ""},
		{"network error", errors.New("connection refused"), keyless.Log{URL: "https://rekor.example", Version: 1}, ""},
	} {
		got := rekorVersionHint(tt.err, tt.log)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("%s: got hint %q, want one naming %q", tt.name, got, tt.want)
		}
	}
}
