package keys

import (
	"errors"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// layoutWithKey is the python demo layout (its keys valid) with k listed too.
func layoutWithKey(t *testing.T, k *Key) *intoto.Layout {
	t.Helper()
	l, err := intoto.DecodeLayout(interoptest.Payload(t, interoptest.Read(t, "in-toto-python/demo_files/demo.layout.template")))
	if err != nil {
		t.Fatal(err)
	}
	l.Expires = "2030-01-01T00:00:00Z"
	l.AddKey(k.Record())
	return l
}

// TestCheckLayout: the key checks intoto.Layout.Validate leaves here (moved from its table: keyid mismatch).
func TestCheckLayout(t *testing.T) {
	t.Parallel()
	k, err := Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(l *intoto.Layout, id string)
		want   string
	}{
		{"keyid mismatch", func(l *intoto.Layout, id string) {
			r := l.Keys[id]
			delete(l.Keys, id)
			r.KeyID = ""
			l.Keys["00"+id[2:]] = r
		}, "has keyid"},
		{"carries another keyid", func(l *intoto.Layout, id string) { l.Keys[id].KeyID = "00" + id[2:] }, "carries keyid"},
		{"not a key", func(l *intoto.Layout, id string) { l.Keys[id].KeyVal.Public = "zz" }, "must be 64 hex digits"},
		{"unknown keytype", func(l *intoto.Layout, id string) { l.Keys[id].KeyType = "dsa" }, "unsupported key"},
		{"null", func(l *intoto.Layout, id string) { l.Keys[id] = nil }, "is null"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := layoutWithKey(t, k)
			tt.mutate(l, k.ID())
			for name, check := range map[string]func(*intoto.Layout) error{"CheckLayout": CheckLayout, "ValidateLayout": ValidateLayout} {
				if err := check(l); !errors.Is(err, intoto.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("%s: got %v, want ErrInvalid containing %q", name, err, tt.want)
				}
			}
		})
	}
	if err := ValidateLayout(layoutWithKey(t, k)); err != nil {
		t.Errorf("valid layout: got %v, want nil", err)
	}
	bad := layoutWithKey(t, k)
	bad.Type = "link"
	if err := ValidateLayout(bad); !errors.Is(err, intoto.ErrInvalid) {
		t.Errorf("ValidateLayout of a link-typed layout: got %v, want ErrInvalid", err)
	}
}

// TestRecordAddKey (moved from intoto's TestAddKey): a generated key enters a layout as its public
// record under its keyid, and the layout validates.
func TestRecordAddKey(t *testing.T) {
	t.Parallel()
	k, err := Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2030-01-01T00:00:00Z"}
	id := l.AddKey(k.Record())
	if id != k.ID() || l.Keys[id].KeyVal.Private != "" || l.Keys[id].KeyID != id {
		t.Errorf("AddKey: got %s %+v", id, l.Keys[id])
	}
	if err := ValidateLayout(l); err != nil {
		t.Error(err)
	}
}
