package verify

import (
	"maps"
	"testing"
)

// TestParseParams: verify --param name=value (moved from cli).
func TestParseParams(t *testing.T) {
	t.Parallel()
	p, bad := ParseParams([]string{"repo=a=b", "empty=", "repo2=x"})
	if bad != "" || !maps.Equal(p, map[string]string{"repo": "a=b", "empty": "", "repo2": "x"}) {
		t.Errorf("params %v, bad %q", p, bad)
	}
	for _, b := range []string{"novalue", "=x"} {
		if p, bad := ParseParams([]string{"ok=1", b}); bad != b || p != nil {
			t.Errorf("%q: params %v, bad %q", b, p, bad)
		}
	}
	if p, bad := ParseParams(nil); p != nil || bad != "" {
		t.Errorf("none: %v %q", p, bad)
	}
}
