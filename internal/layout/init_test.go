package layout

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// TestInit: layout init's proposal from a run (moved from cli/layout.go): a key given fills its
// functionary, the proposal decodes back, skipped files are listed; an unreadable key or links
// directory is an InputError.
func TestInit(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	alice, err := keys.Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.WritePair(filepath.Join(dir, "alice"), false, func(p string, b []byte) error { return os.WriteFile(p, b, 0o600) }); err != nil {
		t.Fatal(err)
	}
	links := filepath.Join(dir, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	link := []byte(`{"_type":"link","name":"build","materials":{},"products":{"app":{"sha256":"` + strings.Repeat("ab", 32) +
		`"}},"byproducts":{},"command":["make"],"environment":{}}`)
	signed, err := envelope.SignDSSE(intoto.PayloadType, link, alice)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"build.link": signed, "other.link": unsignedEnvelope(link)} {
		if err := os.WriteFile(filepath.Join(links, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "layout.yaml")
	p, err := Init(InitOptions{LinksDir: links, KeyPaths: []string{filepath.Join(dir, "alice.pub")}, Out: out, Validity: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Unfilled) != 0 || !strings.Contains(string(p.YAML), "alice.pub") || len(p.Skipped) != 1 {
		t.Errorf("proposal: unfilled %v, skipped %q\n%s", p.Unfilled, p.Skipped, p.YAML)
	}
	if err := os.WriteFile(out, p.YAML, 0o644); err != nil {
		t.Fatal(err)
	}
	data, _, err := Build(out)
	if err != nil {
		t.Fatalf("the proposal does not build: %v", err)
	}
	if l, err := intoto.DecodeLayout(data); err != nil || len(l.Steps) != 1 || l.Steps[0].Name != "build" {
		t.Errorf("built layout: %v", err)
	}
	if _, _, err := Build(filepath.Join(dir, "missing.yaml")); !errors.As(err, new(*InputError)) {
		t.Errorf("missing YAML: %v, want an InputError", err)
	}
	if got := BuiltPath(out); got != filepath.Join(dir, "root.layout") {
		t.Errorf("BuiltPath = %s", got)
	}
	p, err = Init(InitOptions{LinksDir: links, Out: "-", Validity: time.Hour})
	if err != nil || len(p.Unfilled) != 1 {
		t.Errorf("no key given: unfilled %v, %v", p.Unfilled, err)
	}
	var ie *InputError
	if _, err := Init(InitOptions{LinksDir: links, KeyPaths: []string{filepath.Join(dir, "nokey.pub")}, Out: "-"}); !errors.As(err, &ie) {
		t.Errorf("missing key: %v, want an InputError", err)
	}
	if _, err := Init(InitOptions{LinksDir: filepath.Join(dir, "nolinks"), Out: "-"}); !errors.As(err, &ie) {
		t.Errorf("missing links dir: %v, want an InputError", err)
	}
}

func unsignedEnvelope(payload []byte) []byte {
	return []byte(`{"payloadType":"` + intoto.PayloadType + `","payload":"` + base64.StdEncoding.EncodeToString(payload) + `","signatures":[]}`)
}
