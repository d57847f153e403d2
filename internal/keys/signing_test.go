package keys

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestSigningKeys: the key run, record and sign sign with (moved here from cli/linksigner.go). A
// private key loads from a file or from bytes; a public one is refused naming its source; an error
// about bytes from a secret names the source and never quotes the bytes.
func TestSigningKeys(t *testing.T) {
	t.Parallel()
	priv := filepath.Join(interop, "in-toto-golang", "carol")
	k, err := LoadSigning(priv, "")
	if err != nil || !k.HasPrivate() {
		t.Fatalf("load %s: %v", priv, err)
	}
	if _, err := LoadSigning(priv+".pub", ""); err == nil || err.Error() != "key "+priv+".pub: a private key is needed to sign, this is a public key" {
		t.Errorf("public key file: %v", err)
	}
	k2, err := ParseSigning(readFixture(t, "in-toto-golang/carol"), "key in $K", "")
	if err != nil || k2.ID() != k.ID() {
		t.Fatalf("parse: %v", err)
	}
	if _, err := ParseSigning(readFixture(t, "in-toto-golang/carol.pub"), "key in $K", ""); err == nil ||
		err.Error() != "key in $K: a private key is needed to sign, this is a public key" {
		t.Errorf("public key bytes: %v", err)
	}
	secret := "not-a-key-SECRET-material"
	if _, err := ParseSigning([]byte(secret), "key in $K", ""); err == nil || !strings.HasPrefix(err.Error(), "key in $K: ") ||
		strings.Contains(err.Error(), "SECRET") {
		t.Errorf("garbage bytes: %v", err)
	}
}
