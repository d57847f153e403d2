package conformance_test

import (
	"path/filepath"
	"testing"

	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// TestGolangChainVerifies builds the demo chain with in-toto-golang v0.11.0 (its own test keys: alice
// RSA owns the layout, carol ed25519 writes the code, frank ECDSA packages; key objects from
// `in-toto-golang key layout`; the layout signed with `in-toto-golang sign`), once with legacy links
// and once with DSSE links (--use-dsse), and verifies it with intoto-ci and with in-toto-golang. A
// copy whose write-code link claims another foo.py, re-signed by carol with in-toto-golang, is refused
// by both.
func TestGolangChainVerifies(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		dsse bool
	}{{"legacy links", false}, {"dsse links", true}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gobin := golangBin(t)
			d := newChainDirs(t)
			for _, k := range []string{"alice", "carol", "frank"} {
				copyFile(t, filepath.Join(golangDir, k), filepath.Join(d.keys, k))
				copyFile(t, filepath.Join(golangDir, k+".pub"), filepath.Join(d.keys, k+".pub"))
			}
			carol := golangKeyObject(t, filepath.Join(d.keys, "carol.pub"))
			frank := golangKeyObject(t, filepath.Join(d.keys, "frank.pub"))

			var dsse []string
			if tt.dsse {
				dsse = []string{"--use-dsse"}
			}
			mustRun(t, d.work, gobin, append([]string{"run", "-n", "write-code", "-k", filepath.Join(d.keys, "carol"),
				"-d", d.links, "-x", "-p", "foo.py"}, dsse...)...)
			args := append([]string{"run", "-n", "package", "-k", filepath.Join(d.keys, "frank"), "-d", d.links,
				"-m", "foo.py", "-p", "foo.py", "-p", "foo.tar.gz"}, dsse...)
			mustRun(t, d.work, gobin, append(append(args, "--"), packageCmd...)...)
			d.deliver(t)
			if _, isDSSE := linkPayload(t, onlyFile(t, filepath.Join(d.links, "package.*.link"))); isDSSE != tt.dsse {
				t.Fatalf("in-toto-golang wrote a DSSE link: %v, want %v", isDSSE, tt.dsse)
			}

			layout := filepath.Join(d.root, "root.layout")
			harness.WriteJSON(t, layout, map[string]any{
				"signed": demoLayout(chainSpec{
					keys: []keyObject{carol, frank}, writeCode: []keyObject{carol}, pkg: []keyObject{frank},
					packageCmd: packageCmd, inspectionRun: []string{"tar", "xzf", "foo.tar.gz"},
				}),
				"signatures": []any{},
			})
			mustRun(t, d.root, gobin, "sign", "-f", layout, "-k", filepath.Join(d.keys, "alice"), "-o", layout)
			alicePub := filepath.Join(d.keys, "alice.pub")

			t.Run("verified", func(t *testing.T) {
				wantExit(t, "in-toto-golang", verifyGolang(t, d, layout, alicePub), 0)
				wantExit(t, "intoto-ci", verifyIntotoCI(t, d, layout, alicePub), 0)
			})

			t.Run("re-signed link with another foo.py", func(t *testing.T) {
				link := onlyFile(t, filepath.Join(d.links, "write-code.*.link"))
				signed, _ := linkPayload(t, link)
				setProductHash(t, signed, "foo.py", sha256Hex([]byte("print('not what was reviewed')\n")))
				harness.WriteJSON(t, link, map[string]any{"signed": signed, "signatures": []any{}})
				mustRun(t, d.root, gobin, "sign", "-f", link, "-k", filepath.Join(d.keys, "carol"), "-o", link)
				wantExit(t, "in-toto-golang", verifyGolang(t, d, layout, alicePub), 1)
				wantRefused(t, verifyIntotoCI(t, d, layout, alicePub), "rules")
			})
		})
	}
}
