package conformance_test

import (
	"path/filepath"
	"testing"

	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// TestPythonChainVerifies builds the demo chain with in-toto-python 1.3.1 (keys from in-toto-keygen:
// an ed25519 layout owner, an RSA and an ECDSA functionary; links from in-toto-run in the legacy
// envelope; the layout written as JSON and signed with in-toto-sign) and verifies it with intoto-ci
// and, as a check of the case itself, with in-toto-verify. A copy whose write-code link claims another
// foo.py, re-signed by its functionary with in-toto-sign, is refused by both.
func TestPythonChainVerifies(t *testing.T) {
	t.Parallel()
	needPython(t)
	d := newChainDirs(t)
	for _, k := range []struct{ name, typ string }{{"alice", "ed25519"}, {"bob", "rsa"}, {"carl", "ecdsa"}} {
		mustRun(t, d.keys, "in-toto-keygen", "-t", k.typ, k.name)
	}
	keys := pythonKeyObjects(t, d.keys, []string{"alice.pub", "bob.pub", "carl.pub"}, []string{"ed25519", "rsa", "ecdsa"})
	bob, carl := keys[1], keys[2]

	mustRun(t, d.work, "in-toto-run", "-n", "write-code", "-k", filepath.Join(d.keys, "bob"), "-t", "rsa",
		"-d", d.links, "-x", "-p", "foo.py")
	args := []string{"-n", "package", "-k", filepath.Join(d.keys, "carl"), "-t", "ecdsa", "-d", d.links,
		"-m", "foo.py", "-p", "foo.py", "foo.tar.gz", "--"}
	mustRun(t, d.work, "in-toto-run", append(args, packageCmd...)...)
	d.deliver(t)

	layout := filepath.Join(d.root, "root.layout")
	harness.WriteJSON(t, layout, map[string]any{
		"signed": demoLayout(chainSpec{
			keys: []keyObject{bob, carl}, writeCode: []keyObject{bob}, pkg: []keyObject{carl},
			packageCmd: packageCmd, inspectionRun: []string{"tar", "xzf", "foo.tar.gz"},
		}),
		"signatures": []any{},
	})
	mustRun(t, d.root, "in-toto-sign", "-f", layout, "-k", filepath.Join(d.keys, "alice"), "-t", "ed25519")
	alicePub := filepath.Join(d.keys, "alice.pub")

	t.Run("verified", func(t *testing.T) {
		wantExit(t, "in-toto-verify", verifyPython(t, d, layout, []string{alicePub}, []string{"ed25519"}), 0)
		wantExit(t, "intoto-ci", verifyIntotoCI(t, d, layout, alicePub), 0)
	})

	t.Run("re-signed link with another foo.py", func(t *testing.T) {
		link := onlyFile(t, filepath.Join(d.links, "write-code.*.link"))
		signed, _ := linkPayload(t, link)
		setProductHash(t, signed, "foo.py", sha256Hex([]byte("print('not what was reviewed')\n")))
		harness.WriteJSON(t, link, map[string]any{"signed": signed, "signatures": []any{}})
		mustRun(t, d.root, "in-toto-sign", "-f", link, "-k", filepath.Join(d.keys, "bob"), "-t", "rsa", "-o", link)
		wantExit(t, "in-toto-verify", verifyPython(t, d, layout, []string{alicePub}, []string{"ed25519"}), 1)
		wantRefused(t, verifyIntotoCI(t, d, layout, alicePub), "rules")
	})
}
