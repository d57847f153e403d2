package conformance_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// fixtureCase verifies one chain of testdata/interop with the intoto-ci binary (and, where the peer can
// read it, with the peer that made it).
type fixtureCase struct {
	name string
	// layout returns the layout file to verify (in root), built from the fixtures.
	layout    func(t *testing.T, root string) string
	layoutKey string            // public key of the layout owner
	links     map[string]string // fixture file -> its path under the links directory
	delivered string            // file delivered as foo.tar.gz into the verification directory
	// tamper, when set, changes the chain in root/links before verification.
	tamper func(t *testing.T, root, links string)
	want   int
	stage  string   // intoto-ci's refusal stage
	peers  []string // peers that must give the same verdict: "golang", "python"
}

// payloadOf returns the JSON document inside a fixture (a legacy envelope, a DSSE envelope or an
// unsigned layout template).
func payloadOf(t testing.TB, path string) map[string]any {
	t.Helper()
	m, _ := linkPayload(t, path)
	return m
}

// resign writes the payload of fixture src, edited, to root/name and signs it with key into the
// given envelope using intoto-ci sign.
func resign(t testing.TB, src, root, name, key, envelope string, edit func(map[string]any)) string {
	t.Helper()
	doc := payloadOf(t, src)
	if edit != nil {
		edit(doc)
	}
	path := filepath.Join(root, name)
	harness.WriteJSON(t, path, doc)
	mustRun(t, root, intotoCI(t), "sign", "--file", path, "--key", key, "--envelope", envelope)
	return path
}

// pythonDemoEdit makes in-toto-python's demo template verifiable: an expiry, and an inspection that
// runs tar instead of the script the tests do not ship.
func pythonDemoEdit(l map[string]any) {
	l["expires"] = time.Now().UTC().Add(365 * 24 * time.Hour).Format("2006-01-02T15:04:05Z")
	l["inspect"].([]any)[0].(map[string]any)["run"] = []any{"tar", "xzf", "foo.tar.gz"}
}

// resignedLink rewrites the foo.py product of a link to another digest and re-signs it with key.
func resignedLink(t *testing.T, link, key, envelope string) {
	t.Helper()
	payload := payloadOf(t, link)
	setProductHash(t, payload, "foo.py", sha256Hex([]byte("print('not what was reviewed')\n")))
	unsigned := link + ".unsigned"
	harness.WriteJSON(t, unsigned, payload)
	mustRun(t, filepath.Dir(link), intotoCI(t), "sign", "--file", unsigned, "--key", key, "--envelope", envelope,
		"--output", link)
	if err := os.Remove(unsigned); err != nil {
		t.Fatal(err)
	}
}

func TestInteropFixtures(t *testing.T) {
	t.Parallel()
	golang := func(f string) string { return filepath.Join(golangDir, f) }
	python := func(f string) string { return filepath.Join(pythonDir, "demo_files", f) }
	pythonDSSE := func(f string) string { return filepath.Join(pythonDir, "demo_dsse_files", f) }
	golangDemoLinks := map[string]string{
		golang("write-code.b7d643de.link"): "write-code.b7d643de.link",
		golang("package.d3ffd108.link"):    "package.d3ffd108.link",
	}
	fixture := func(f string) func(*testing.T, string) string {
		return func(t *testing.T, root string) string {
			copyFile(t, f, filepath.Join(root, filepath.Base(f)))
			return filepath.Join(root, filepath.Base(f))
		}
	}
	pythonLegacy := func(t *testing.T, root string) string {
		return resign(t, python("demo.layout.template"), root, "demo.layout", python("alice"), "legacy", pythonDemoEdit)
	}
	pythonLinks := map[string]string{
		python("write-code.776a00e2.link"): "write-code.776a00e2.link",
		python("package.2f89b927.link"):    "package.2f89b927.link",
	}
	// The peers compute a layout's signed bytes from their own model, which leaves empty X.509 fields
	// out (golang: omitempty; python 1.3.1 drops them): a copy re-signed with `"rootcas": {}` still in
	// it verifies with intoto-ci, which checks the document as received, and with neither peer.
	// in-toto-golang's own sign drops them, and so does this re-signed copy.
	superEdit := func(dropEmptyX509 bool) func(map[string]any) {
		return func(l map[string]any) {
			l["expires"] = time.Now().UTC().Add(365 * 24 * time.Hour).Format("2006-01-02T15:04:05Z")
			if dropEmptyX509 {
				delete(l, "rootcas")
				delete(l, "intermediatecas")
				for _, s := range l["steps"].([]any) {
					delete(s.(map[string]any), "cert_constraints")
				}
			}
		}
	}
	superLayout := func(t *testing.T, root string) string {
		return resign(t, golang("super.layout"), root, "super.layout", golang("alice"), "legacy", superEdit(true))
	}
	superLayoutEmptyX509 := func(t *testing.T, root string) string {
		return resign(t, golang("super.layout"), root, "super.layout", golang("alice"), "legacy", superEdit(false))
	}
	superLinks := map[string]string{
		golang("sub_layout.70ca5750.link"): "sub_layout.70ca5750.link",
		golang("write-code.b7d643de.link"): "sub_layout.70ca5750/write-code.b7d643de.link",
		golang("package.d3ffd108.link"):    "sub_layout.70ca5750/package.d3ffd108.link",
	}
	tests := []fixtureCase{
		{name: "golang demo.layout", layout: fixture(golang("demo.layout")), layoutKey: golang("alice.pub"),
			links: golangDemoLinks, delivered: golang("foo.tar.gz"), peers: []string{"golang"}},
		{name: "golang demo.layout swapped tarball", layout: fixture(golang("demo.layout")), layoutKey: golang("alice.pub"),
			links: golangDemoLinks, delivered: python("bob.pub"), want: 1, stage: "inspection", peers: []string{"golang"}},
		{name: "golang demo.layout wrong layout key", layout: fixture(golang("demo.layout")), layoutKey: golang("carol.pub"),
			links: golangDemoLinks, delivered: golang("foo.tar.gz"), want: 1, stage: "signature", peers: []string{"golang"}},
		{name: "golang demo.dsse.layout", layout: fixture(golang("demo.dsse.layout")), layoutKey: golang("alice.pub"),
			links: golangDemoLinks, delivered: golang("foo.tar.gz"), peers: []string{"golang"}},
		{name: "python demo legacy", layout: pythonLegacy, layoutKey: python("alice.pub"),
			links: pythonLinks, delivered: python("foo.tar.gz"), peers: []string{"python"}},
		// The template's rules all end in the implicit ALLOW *: a write-code link re-signed by bob with
		// another foo.py leaves foo.py unmatched but allowed, in the reference as in intoto-ci.
		{name: "python demo legacy re-signed link passes the permissive rules", layout: pythonLegacy,
			layoutKey: python("alice.pub"), links: pythonLinks, delivered: python("foo.tar.gz"), peers: []string{"python"},
			tamper: func(t *testing.T, root, links string) {
				resignedLink(t, filepath.Join(links, "write-code.776a00e2.link"), python("bob"), "legacy")
			}},
		{name: "python demo legacy link signed by the wrong functionary", layout: pythonLegacy,
			layoutKey: python("alice.pub"), links: pythonLinks, delivered: python("foo.tar.gz"), peers: []string{"python"},
			tamper: func(t *testing.T, root, links string) {
				resignedLink(t, filepath.Join(links, "write-code.776a00e2.link"), python("carl"), "legacy")
			}, want: 1, stage: "threshold"},
		{name: "python demo dsse", layoutKey: python("alice.pub"),
			layout: func(t *testing.T, root string) string {
				return resign(t, pythonDSSE("demo.layout.template"), root, "demo.layout", python("alice"), "dsse", pythonDemoEdit)
			},
			links: map[string]string{
				pythonDSSE("write-code.776a00e2.link"): "write-code.776a00e2.link",
				pythonDSSE("package.2f89b927.link"):    "package.2f89b927.link",
			}, delivered: python("foo.tar.gz")},
		{name: "golang super.layout re-signed", layout: superLayout, layoutKey: golang("alice.pub"),
			links: superLinks, delivered: golang("foo.tar.gz"), peers: []string{"golang"}},
		{name: "golang super.layout sublayout refuses", layout: superLayout, layoutKey: golang("alice.pub"),
			links: superLinks, delivered: python("bob.pub"), want: 1, stage: "sublayout", peers: []string{"golang"}},
		{name: "golang super.layout re-signed with empty X.509 fields", layout: superLayoutEmptyX509,
			layoutKey: golang("alice.pub"), links: superLinks, delivered: golang("foo.tar.gz")},
		// super.layout is shipped unsigned (and expired in 2021).
		{name: "golang super.layout as shipped", layout: fixture(golang("super.layout")),
			layoutKey: golang("alice.pub"), links: superLinks, delivered: golang("foo.tar.gz"), want: 1, stage: "signature",
			peers: []string{"golang"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			root := t.TempDir()
			d := chainDirs{root: root, links: filepath.Join(root, "links"), final: filepath.Join(root, "final")}
			mkdirs(t, d.links, d.final)
			for src, dst := range tt.links {
				copyFile(t, src, filepath.Join(d.links, dst))
			}
			copyFile(t, tt.delivered, filepath.Join(d.final, "foo.tar.gz"))
			layout := tt.layout(t, root)
			if tt.tamper != nil {
				tt.tamper(t, root, d.links)
			}
			t.Run("intoto-ci", func(t *testing.T) {
				got := verifyIntotoCI(t, d, layout, tt.layoutKey)
				if tt.want == 0 {
					wantExit(t, "intoto-ci", got, 0)
				} else {
					wantRefused(t, got, tt.stage)
				}
			})
			for _, p := range tt.peers {
				t.Run("in-toto-"+p, func(t *testing.T) {
					switch p {
					case "golang":
						wantExit(t, "in-toto-golang verify", verifyGolang(t, d, layout, tt.layoutKey), tt.want)
					case "python":
						wantExit(t, "in-toto-verify", verifyPython(t, d, layout, []string{tt.layoutKey}, []string{"rsa"}), tt.want)
					}
				})
			}
		})
	}
}
