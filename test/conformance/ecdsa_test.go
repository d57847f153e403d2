package conformance_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/fixture"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// writeECKey writes a new ECDSA key on curve as PREFIX (PKCS#8 PEM, what `openssl genpkey` writes),
// PREFIX.sec1 (the "EC PRIVATE KEY" form securesystemslib's PEM import takes) and PREFIX.pub (PKIX PEM).
func writeECKey(t testing.TB, prefix string, curve elliptic.Curve) {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sec1, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	harness.WriteFile(t, prefix, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: priv}))
	harness.WriteFile(t, prefix+".sec1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))
	harness.WriteFile(t, prefix+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// pythonPEMKey asks in-toto-python's securesystemslib to import a PEM ECDSA key with its default
// label (import_ecdsakey_from_pem) and returns the key object; with a private PEM the object carries
// the private part, which is the JSON key file in-toto-run -t ecdsa reads.
func pythonPEMKey(t testing.TB, pemFile string) keyObject {
	t.Helper()
	needPython(t)
	script := `import json, sys
from securesystemslib.keys import import_ecdsakey_from_pem
print(json.dumps(import_ecdsakey_from_pem(open(sys.argv[1]).read())))
`
	res := mustRun(t, filepath.Dir(pemFile), "/usr/bin/python3", "-c", script, pemFile)
	var k keyObject
	if err := json.Unmarshal([]byte(res.stdout), &k); err != nil {
		t.Fatalf("python import of %s: %v\n%s", pemFile, err, res)
	}
	return k
}

// ecdsaSigner is who signs the package step of the ECDSA chain, and with which key file.
type ecdsaSigner struct {
	name string
	// dsse: the links go in DSSE envelopes (intoto-ci and in-toto-golang only).
	dsse bool
	// sign runs the package step in work, writing its link into links.
	sign func(t *testing.T, keys, work, links string, dsse bool)
	// verifiers that must accept the chain: "intoto-ci" always, plus the peers named here.
	peers []string
	// other is the peer that hashes the other way and so refuses the same signature (legacy only):
	// the disagreement between the peers, confirmed rather than assumed.
	other string
}

var ecdsaSigners = []ecdsaSigner{
	{name: "intoto-ci with the PEM key, golang verifies", peers: []string{"golang"}, other: "python",
		sign: func(t *testing.T, keys, work, links string, dsse bool) {
			intotoPackage(t, filepath.Join(keys, "carl"), work, links, dsse)
		}},
	{name: "intoto-ci with the PEM key in DSSE, golang verifies", dsse: true, peers: []string{"golang"},
		sign: func(t *testing.T, keys, work, links string, dsse bool) {
			intotoPackage(t, filepath.Join(keys, "carl"), work, links, dsse)
		}},
	{name: "intoto-ci with the python JSON key, python verifies", peers: []string{"python"}, other: "golang",
		sign: func(t *testing.T, keys, work, links string, dsse bool) {
			intotoPackage(t, filepath.Join(keys, "carl.json"), work, links, dsse)
		}},
	{name: "in-toto-golang signs, intoto-ci verifies", peers: []string{"golang"}, other: "python",
		sign: func(t *testing.T, keys, work, links string, dsse bool) {
			args := []string{"run", "-n", "package", "-k", filepath.Join(keys, "carl"), "-d", links,
				"-m", "foo.py", "-p", "foo.py", "-p", "foo.tar.gz", "--"}
			mustRun(t, work, golangBin(t), append(args, packageCmd...)...)
		}},
	{name: "in-toto-golang signs in DSSE, intoto-ci verifies", dsse: true, peers: []string{"golang"},
		sign: func(t *testing.T, keys, work, links string, dsse bool) {
			args := []string{"run", "-n", "package", "-k", filepath.Join(keys, "carl"), "-d", links, "--use-dsse",
				"-m", "foo.py", "-p", "foo.py", "-p", "foo.tar.gz", "--"}
			mustRun(t, work, golangBin(t), append(args, packageCmd...)...)
		}},
	{name: "in-toto-python signs, intoto-ci verifies", peers: []string{"python"}, other: "golang",
		sign: func(t *testing.T, keys, work, links string, dsse bool) {
			args := []string{"-n", "package", "-k", filepath.Join(keys, "carl.json"), "-t", "ecdsa", "-d", links,
				"-m", "foo.py", "-p", "foo.py", "foo.tar.gz", "--"}
			mustRun(t, work, "in-toto-run", append(args, packageCmd...)...)
		}},
}

func intotoPackage(t *testing.T, key, work, links string, dsse bool) {
	t.Helper()
	envelope := "legacy"
	if dsse {
		envelope = "dsse"
	}
	args := []string{"run", "--step", "package", "--key", key, "--envelope", envelope, "--links-dir", links,
		"--materials", "foo.py", "--products", "foo.py", "--products", "foo.tar.gz", "--"}
	mustRun(t, work, intotoCI(t), append(args, packageCmd...)...)
}

// TestECDSACurvesWithPeers: a P-384 and a P-521 functionary key (PEM) get one keyid from intoto-ci,
// in-toto-golang and in-toto-python; the layout pins the key object the peers make, and the package
// step's link is signed by each implementation in turn and verified by intoto-ci and by the peer that
// reads that signer's key format. in-toto-golang hashes ECDSA signatures by curve size (SHA-384/512),
// in-toto-python by the label ecdsa-sha2-nistp256 (SHA-256): intoto-ci verifies both, and signs the
// golang way with a PEM key and the python way with python's JSON key file. A layout pinning another
// key of the same curve refuses the same links (the control that the key is really checked).
func TestECDSACurvesWithPeers(t *testing.T) {
	t.Parallel()
	needPython(t)
	for _, curve := range []elliptic.Curve{elliptic.P384(), elliptic.P521()} {
		t.Run(curve.Params().Name, func(t *testing.T) {
			t.Parallel()
			ic := intotoCI(t)
			keys := filepath.Join(t.TempDir(), "keys")
			mkdirs(t, keys)
			for _, who := range []string{"alice", "bob"} {
				fixture.Key(t, ic, keys, who, "ed25519")
				writeSSLibPub(t, ed25519KeyObject(t, filepath.Join(keys, who+".pub")), filepath.Join(keys, who+".pub.json"))
			}
			writeECKey(t, filepath.Join(keys, "carl"), curve)
			writeECKey(t, filepath.Join(keys, "mallory"), curve)

			carlGo := golangKeyObject(t, filepath.Join(keys, "carl.pub"))
			carlPy := pythonPEMKey(t, filepath.Join(keys, "carl.pub"))
			carlCI := strings.TrimSpace(mustRun(t, keys, ic, "key", "id", "carl.pub").stdout)
			t.Logf("carl (%s) keyid: intoto-ci %s, in-toto-golang %s, in-toto-python %s", curve.Params().Name,
				carlCI, carlGo.id(), carlPy.id())
			if carlGo.id() != carlPy.id() || carlCI != carlGo.id() {
				t.Fatalf("keyids differ: intoto-ci %s, in-toto-golang %s, in-toto-python %s", carlCI, carlGo.id(), carlPy.id())
			}
			// python's JSON private key: the public import's object (python's own private import derives
			// the public PEM with a trailing newline, hence another keyid) plus the SEC1 private PEM.
			carlJSON := keyObject{}
			for f, v := range carlPy {
				carlJSON[f] = v
			}
			carlJSON["keyval"] = map[string]any{
				"public":  carlPy["keyval"].(map[string]any)["public"],
				"private": strings.TrimSpace(string(harness.ReadFile(t, filepath.Join(keys, "carl.sec1")))),
			}
			harness.WriteJSON(t, filepath.Join(keys, "carl.json"), map[string]any(carlJSON))
			mallory := golangKeyObject(t, filepath.Join(keys, "mallory.pub"))
			bob := ed25519KeyObject(t, filepath.Join(keys, "bob.pub"))

			for _, s := range ecdsaSigners {
				t.Run(s.name, func(t *testing.T) {
					t.Parallel()
					d := newChainDirs(t)
					envelope := "legacy"
					if s.dsse {
						envelope = "dsse"
					}
					mustRun(t, d.work, ic, "run", "--step", "write-code", "--key", filepath.Join(keys, "bob"),
						"--envelope", envelope, "--links-dir", d.links, "--products", "foo.py", "--no-command")
					s.sign(t, keys, d.work, d.links, s.dsse)
					d.deliver(t)
					if got := onlyFile(t, filepath.Join(d.links, "package.*.link")); !strings.HasPrefix(filepath.Base(got), "package."+carlCI[:8]) {
						t.Errorf("package link %s is not named by carl's keyid %s", filepath.Base(got), carlCI[:8])
					}

					layout := func(name string, pkg keyObject) string {
						path := filepath.Join(d.root, name)
						harness.WriteJSON(t, path, demoLayout(chainSpec{
							keys: []keyObject{bob, pkg}, writeCode: []keyObject{bob}, pkg: []keyObject{pkg},
							packageCmd: packageCmd, inspectionRun: []string{"tar", "xzf", "foo.tar.gz"},
						}))
						mustRun(t, d.root, ic, "sign", "--file", path, "--key", filepath.Join(keys, "alice"), "--envelope", envelope)
						return path
					}
					good, other := layout("root.layout", carlGo), layout("mallory.layout", mallory)
					alice := filepath.Join(keys, "alice.pub")

					wantExit(t, "intoto-ci", verifyIntotoCI(t, d, good, alice), 0)
					wantRefused(t, verifyIntotoCI(t, d, other, alice), "threshold")
					switch s.other {
					case "golang":
						got := verifyGolang(t, d, good, alice)
						wantExit(t, "in-toto-golang verify (SHA-256 signature)", got, 1)
						t.Logf("in-toto-golang on a python-hashed signature: %s", strings.TrimSpace(got.stderr))
					case "python":
						got := verifyPython(t, d, good, []string{alice + ".json"}, []string{"ed25519"})
						wantExit(t, "in-toto-verify (curve-hashed signature)", got, 1)
						t.Logf("in-toto-python on a curve-hashed signature: %s", strings.TrimSpace(got.stderr))
					}
					for _, p := range s.peers {
						switch p {
						case "golang":
							wantExit(t, "in-toto-golang verify", verifyGolang(t, d, good, alice), 0)
							wantExit(t, "in-toto-golang verify (mallory's layout)", verifyGolang(t, d, other, alice), 1)
						case "python":
							py := []string{alice + ".json"}
							wantExit(t, "in-toto-verify", verifyPython(t, d, good, py, []string{"ed25519"}), 0)
							wantExit(t, "in-toto-verify (mallory's layout)", verifyPython(t, d, other, py, []string{"ed25519"}), 1)
						}
					}
				})
			}
		})
	}
}
