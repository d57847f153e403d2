package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
)

// TestKeyFromEnvironment: --key-env signs with a private key held in an environment variable (a CI
// secret), writes no key file, and hides the variable (and the key password variable) from the wrapped
// command. Bad values are one-line errors that name the variable and never print the key.
func TestKeyFromEnvironment(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	bob := newKey(t, dir, "bob")
	pemKey, err := os.ReadFile(filepath.Join(dir, "bob"))
	if err != nil {
		t.Fatal(err)
	}
	links := filepath.Join(dir, "links")
	env := map[string]string{"BOB_KEY": string(pemKey), "INTOTO_CI_KEY_PASSWORD": "unused"}
	r := invoke(t, env, "run", "--step", "build", "--key-env", "BOB_KEY", "--links-dir", links, "--", "env")
	if r.code != 0 {
		t.Fatalf("run --key-env: exit %d\n%s", r.code, r.err)
	}
	if !strings.Contains(r.out, "PATH=") {
		t.Fatalf("the wrapped env printed nothing: %q", r.out)
	}
	for _, v := range []string{"BOB_KEY", "INTOTO_CI_KEY_PASSWORD", "PRIVATE KEY"} {
		if strings.Contains(r.out, v) {
			t.Errorf("the wrapped command saw %s:\n%s", v, r.out)
		}
	}
	data, err := os.ReadFile(filepath.Join(links, "build."+bob.ShortID()+".link"))
	if err != nil {
		t.Fatalf("link named by bob's keyid: %v", err)
	}
	signed, err := envelope.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := signed.VerifyKey(bob.Public()); err != nil {
		t.Errorf("link does not verify with bob's key: %v", err)
	}
	entries, err := os.ReadDir(links)
	if err != nil || len(entries) != 1 {
		t.Errorf("links dir holds %v (%v), want only the link", entries, err)
	}

	pubKey, err := os.ReadFile(filepath.Join(dir, "bob.pub"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		env  map[string]string
		code int
		want string
	}{
		{"unset", map[string]string{}, ExitUsage, "--key-env BOB_KEY: the variable is unset or empty"},
		{"not a key", map[string]string{"BOB_KEY": "hunter2-not-a-key"}, ExitUsage, "key in $BOB_KEY"},
		{"a public key", map[string]string{"BOB_KEY": string(pubKey)}, ExitUsage, "this is a public key"},
	} {
		r := invoke(t, tc.env, "run", "--step", "build", "--key-env", "BOB_KEY", "--links-dir", links, "--", "true")
		if r.code != tc.code || !strings.Contains(r.err, tc.want) || strings.Count(strings.TrimSpace(r.err), "\n") > 0 {
			t.Errorf("%s: got exit %d %q, want %d and one line with %q", tc.name, r.code, r.err, tc.code, tc.want)
		}
		if strings.Contains(r.err, "hunter2") || strings.Contains(r.err, "PUBLIC KEY") {
			t.Errorf("%s: the error prints the variable's content: %q", tc.name, r.err)
		}
	}
	if r := invoke(t, env, "run", "--step", "build", "--signing", "keyless", "--key-env", "BOB_KEY", "--", "true"); r.code != ExitUsage {
		t.Errorf("--signing keyless with --key-env: exit %d, want 2", r.code)
	}
}
