package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	vsapkg "github.com/intoto-ci/intoto-ci/internal/vsa"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
)

// TestVSAWithKey: a passing verify writes a DSSE-signed VSA over the final products, verify-vsa
// accepts it for the product it names and refuses another file, another key and a tampered envelope.
func TestVSAWithKey(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	if r := c.build(t, "cd "+c.work+" && cp in.txt out.txt"); r.code != 0 {
		t.Fatalf("build: %d %s", r.code, r.err)
	}
	vsa := filepath.Join(c.dir, "vsa.intoto.json")
	if r := c.verify(t, "--vsa", vsa, "--key", filepath.Join(c.keys, "alice"), "--quiet"); r.code != ExitOK {
		t.Fatalf("verify --vsa: exit %d\n%s\n%s", r.code, r.out, r.err)
	}
	data, err := os.ReadFile(vsa)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := envelope.Parse(data)
	if err != nil || signed.Kind != envelope.DSSE {
		t.Fatalf("vsa envelope: %v kind %v", err, signed)
	}
	var stmt vsapkg.Statement
	if err := json.Unmarshal(signed.Payload, &stmt); err != nil {
		t.Fatal(err)
	}
	if stmt.PredicateType != vsapkg.PredicateType || stmt.Predicate.VerificationResult != "PASSED" {
		t.Errorf("statement = %+v", stmt)
	}
	// in.txt passes through build unchanged (a material): only out.txt is a final product.
	if len(stmt.Subject) != 1 || stmt.Subject[0].Name != "out.txt" || stmt.Predicate.ResourceURI != "out.txt" {
		t.Errorf("subjects %+v resourceUri %q, want out.txt only", stmt.Subject, stmt.Predicate.ResourceURI)
	}
	if len(stmt.Predicate.InputAttestations) != 1 || stmt.Predicate.Policy.Digest["sha256"] == "" {
		t.Errorf("inputAttestations %+v policy %+v", stmt.Predicate.InputAttestations, stmt.Predicate.Policy)
	}

	alicePub := filepath.Join(c.keys, "alice.pub")
	if r := invoke(t, nil, "verify-vsa", "--vsa", vsa, "--key", alicePub, "--base-path", c.work, "--subject", filepath.Join(c.work, "out.txt")); r.code != ExitOK {
		t.Errorf("verify-vsa: exit %d\n%s%s", r.code, r.out, r.err)
	}
	other := filepath.Join(c.work, "other.txt")
	if err := os.WriteFile(other, []byte("not the product\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, nil, "verify-vsa", "--vsa", vsa, "--key", alicePub, "--base-path", c.work, "--subject", other); r.code != ExitRefused {
		t.Errorf("verify-vsa of a file it does not cover: exit %d, want 1", r.code)
	}
	if r := invoke(t, nil, "verify-vsa", "--vsa", vsa, "--key", filepath.Join(c.keys, "bob.pub")); r.code != ExitRefused {
		t.Errorf("verify-vsa with another key: exit %d, want 1", r.code)
	}
	var env map[string]any
	if err := json.Unmarshal(data, &env); err != nil {
		t.Fatal(err)
	}
	env["payload"] = strings.Replace(env["payload"].(string), "A", "B", 1)
	tampered, _ := json.Marshal(env)
	bad := filepath.Join(c.dir, "tampered.json")
	if err := os.WriteFile(bad, tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := invoke(t, nil, "verify-vsa", "--vsa", bad, "--key", alicePub); r.code == ExitOK {
		t.Errorf("verify-vsa accepted a tampered envelope")
	}
}

// A refused verification writes no VSA.
func TestVSANotWrittenOnRefusal(t *testing.T) {
	t.Parallel()
	c, bob := newChain(t)
	writeLayout(t, c, bob, time.Now().Add(time.Hour), nil)
	if r := c.build(t, "cd "+c.work+" && cp in.txt out.txt && touch extra"); r.code != 0 {
		t.Fatalf("build: %d %s", r.code, r.err)
	}
	vsa := filepath.Join(c.dir, "vsa.json")
	if r := c.verify(t, "--vsa", vsa, "--key", filepath.Join(c.keys, "alice")); r.code != ExitRefused {
		t.Fatalf("verify: exit %d, want 1", r.code)
	}
	if _, err := os.Stat(vsa); !os.IsNotExist(err) {
		t.Errorf("a VSA was written for a refused chain: %v", err)
	}
}
