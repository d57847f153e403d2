package layout

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

func TestKeyRefs(t *testing.T) {
	t.Parallel()
	k, err := keys.Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs("keys/alice.pub")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ key, out, want string }{
		{"keys/alice.pub", "-", "keys/alice.pub"},                            // stdout: as given
		{"keys/alice.pub", "policy/layout.yaml", "../keys/alice.pub"},        // both relative: relative to the output
		{"/etc/keys/alice.pub", "/srv/layout.yaml", "../etc/keys/alice.pub"}, // both absolute
		{"keys/alice.pub", "/srv/layout.yaml", filepath.ToSlash(abs)},        // mixed: absolute
	} {
		refs := KeyRefs([]KeyFile{{Path: tc.key, Key: k}}, tc.out)
		if got := refs[k.ID()]; got.Name != "alice" || got.Path != tc.want {
			t.Errorf("KeyRefs(%s, out %s) = %+v, want alice at %s", tc.key, tc.out, got, tc.want)
		}
	}
	doc := &Document{Functionaries: map[string]*Functionary{
		"alice": {Key: "../keys/alice.pub"}, "bob": {Key: "keys/bob.pub"}, "ci": {},
	}}
	refs := KeyRefs([]KeyFile{{Path: "keys/alice.pub", Key: k}}, "policy/layout.yaml")
	if got := UnfilledKeys(doc, refs); len(got) != 1 || got["bob"] != "keys/bob.pub" {
		t.Errorf("UnfilledKeys = %v, want bob's placeholder only", got)
	}
}

// ReadEvidence keeps signed links with their key IDs and skips unsigned ones (named) and other files,
// signed sublayouts among them.
func TestReadEvidence(t *testing.T) {
	t.Parallel()
	k, err := keys.Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	link := []byte(`{"_type":"link","name":"build","materials":{},"products":{},"byproducts":{},"command":[],"environment":{}}`)
	signed, err := envelope.SignDSSE(intoto.PayloadType, link, k)
	if err != nil {
		t.Fatal(err)
	}
	// A signed sublayout sits beside the links: it is not a link (no evidence, not skipped as one).
	sublayout, err := envelope.SignDSSE(intoto.PayloadType, []byte(`{"_type":"layout","expires":"2030-01-01T00:00:00Z","keys":{},"steps":[],"inspect":[],"readme":""}`), k)
	if err != nil {
		t.Fatal(err)
	}
	unsigned := []byte(`{"payloadType":"` + intoto.PayloadType + `","payload":"` + base64.StdEncoding.EncodeToString(link) + `","signatures":[]}`)
	for name, data := range map[string][]byte{"build.link": signed, "other.link": unsigned, "notes.json": []byte(`{"a":1}`), "sub.link": sublayout} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ev, skipped, err := ReadEvidence(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 1 || ev[0].File != "build.link" || ev[0].Link.Name != "build" || len(ev[0].KeyIDs) != 1 || ev[0].KeyIDs[0] != k.ID() {
		t.Errorf("evidence %+v", ev)
	}
	if len(skipped) != 1 || skipped[0] != "other.link: unsigned" {
		t.Errorf("skipped %q", skipped)
	}
	if _, _, err := ReadEvidence(filepath.Join(dir, "missing"), nil); !os.IsNotExist(err) {
		t.Errorf("missing dir: %v", err)
	}
}
