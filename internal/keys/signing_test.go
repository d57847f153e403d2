package keys

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/interoptest"
)

// TestSigningKeys: the key run, record and sign sign with (moved here from cli/linksigner.go). A
// private key loads from a file or from bytes; a public one is refused naming its source; an error
// about bytes from a secret names the source and never quotes the bytes.
func TestSigningKeys(t *testing.T) {
	t.Parallel()
	priv := filepath.Join(interoptest.Dir(), "in-toto-golang", "carol")
	k, err := LoadSigning(priv, "")
	if err != nil || !k.HasPrivate() {
		t.Fatalf("load %s: %v", priv, err)
	}
	if _, err := LoadSigning(priv+".pub", ""); err == nil || err.Error() != "key "+priv+".pub: a private key is needed to sign, this is a public key" {
		t.Errorf("public key file: %v", err)
	}
	k2, err := ParseSigning(interoptest.Read(t, "in-toto-golang/carol"), "key in $K", "")
	if err != nil || k2.ID() != k.ID() {
		t.Fatalf("parse: %v", err)
	}
	if _, err := ParseSigning(interoptest.Read(t, "in-toto-golang/carol.pub"), "key in $K", ""); err == nil ||
		err.Error() != "key in $K: a private key is needed to sign, this is a public key" {
		t.Errorf("public key bytes: %v", err)
	}
	secret := "not-a-key-SECRET-material"
	if _, err := ParseSigning([]byte(secret), "key in $K", ""); err == nil || !strings.HasPrefix(err.Error(), "key in $K: ") ||
		strings.Contains(err.Error(), "SECRET") {
		t.Errorf("garbage bytes: %v", err)
	}
}

// TestWritePair: key generate's files (moved from cli/key.go): private 0600 and public, readable back
// as the same key; an existing file is kept unless forced.
func TestWritePair(t *testing.T) {
	t.Parallel()
	k, err := Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(t.TempDir(), "k")
	write := func(p string, b []byte) error { return os.WriteFile(p, b, 0o644) }
	if err := k.WritePair(prefix, false, write); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(prefix)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", st, err)
	}
	for _, p := range []string{prefix, prefix + ".pub"} {
		if got, err := Load(p); err != nil || got.ID() != k.ID() {
			t.Errorf("%s: %v", p, err)
		}
	}
	var ee *ExistsError
	if err := k.WritePair(prefix, false, write); !errors.As(err, &ee) || ee.Path != prefix {
		t.Errorf("second write without force: %v", err)
	}
	k2, _ := Generate("ed25519")
	if err := k2.WritePair(prefix, true, write); err != nil {
		t.Fatal(err)
	}
	if got, err := Load(prefix + ".pub"); err != nil || got.ID() != k2.ID() {
		t.Errorf("forced write kept the old key: %v", err)
	}
}
