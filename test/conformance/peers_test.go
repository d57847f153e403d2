package conformance_test

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/fixture"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// intotoChain is a demo chain made entirely by intoto-ci: ed25519 keys from `intoto-ci key generate`,
// links from `intoto-ci run`, layouts signed with `intoto-ci sign`, all in one envelope.
type intotoChain struct {
	d        chainDirs
	envelope string
	keys     map[string]keyObject // alice (layout owner), bob, carl, dave
	layout   string               // the honest layout
	// threshold is a layout that wants package signed by two of carl and dave: only carl ran.
	threshold string
}

func newIntotoChain(t *testing.T, envelope string) *intotoChain {
	t.Helper()
	ic := intotoCI(t)
	c := &intotoChain{d: newChainDirs(t), envelope: envelope, keys: map[string]keyObject{}}
	d := c.d
	for _, who := range []string{"alice", "bob", "carl", "dave"} {
		fixture.Key(t, ic, d.keys, who, "ed25519")
		k := ed25519KeyObject(t, filepath.Join(d.keys, who+".pub"))
		if got := strings.TrimSpace(mustRun(t, d.keys, ic, "key", "id", who+".pub").stdout); got != k.id() {
			t.Fatalf("intoto-ci key id %s = %s, want %s (sha256 of the canonical key object)", who, got, k.id())
		}
		// python 1.3.1 reads ed25519 public keys only as securesystemslib JSON.
		writeSSLibPub(t, k, filepath.Join(d.keys, who+".pub.json"))
		c.keys[who] = k
	}
	mustRun(t, d.work, ic, "run", "--step", "write-code", "--key", filepath.Join(d.keys, "bob"), "--envelope", envelope,
		"--links-dir", d.links, "--products", "foo.py", "--no-command")
	mustRun(t, d.work, ic, append([]string{"run", "--step", "package", "--key", filepath.Join(d.keys, "carl"),
		"--envelope", envelope, "--links-dir", d.links, "--materials", "foo.py", "--products", "foo.py",
		"--products", "foo.tar.gz", "--"}, packageCmd...)...)
	d.deliver(t)
	if _, isDSSE := linkPayload(t, onlyFile(t, filepath.Join(d.links, "package.*.link"))); isDSSE != (envelope == "dsse") {
		t.Fatalf("intoto-ci run --envelope %s wrote a DSSE link: %v", envelope, isDSSE)
	}

	bob, carl, dave := c.keys["bob"], c.keys["carl"], c.keys["dave"]
	spec := chainSpec{
		keys: []keyObject{bob, carl, dave}, writeCode: []keyObject{bob}, pkg: []keyObject{carl},
		packageCmd: packageCmd, inspectionRun: []string{"tar", "xzf", "foo.tar.gz"},
	}
	c.layout = c.signLayout(t, "root.layout", spec)
	spec.pkg, spec.pkgThreshold = []keyObject{carl, dave}, 2
	c.threshold = c.signLayout(t, "threshold.layout", spec)
	return c
}

func (c *intotoChain) signLayout(t *testing.T, name string, spec chainSpec) string {
	t.Helper()
	path := filepath.Join(c.d.root, name)
	harness.WriteJSON(t, path, demoLayout(spec))
	mustRun(t, c.d.root, intotoCI(t), "sign", "--file", path, "--key", filepath.Join(c.d.keys, "alice"),
		"--envelope", c.envelope)
	return path
}

// tamper rewrites write-code's link to claim another foo.py and re-signs it with bob, the authorized
// functionary, so only the artifact rules can catch it.
func (c *intotoChain) tamper(t *testing.T) {
	t.Helper()
	link := onlyFile(t, filepath.Join(c.d.links, "write-code.*.link"))
	payload, _ := linkPayload(t, link)
	setProductHash(t, payload, "foo.py", sha256Hex([]byte("print('not what was reviewed')\n")))
	unsigned := filepath.Join(c.d.root, "write-code.unsigned")
	harness.WriteJSON(t, unsigned, payload)
	mustRun(t, c.d.root, intotoCI(t), "sign", "--file", unsigned, "--key", filepath.Join(c.d.keys, "bob"),
		"--envelope", c.envelope, "--output", link)
}

// verdicts of the three implementations on one case: exit 0 verified, 1 refused.
type peerCase struct {
	name      string
	layout    func(c *intotoChain) string
	layoutKey string // whose public key the verifiers are given
	tamper    bool
	want      int
	stage     string // intoto-ci's refusal stage
	// python and golang are words of the peers' refusal messages that name the same cause.
	python, golang string
	golangDSSE     string // golang's words for a DSSE layout, when they differ
}

var peerCases = []peerCase{
	{name: "verified", layout: func(c *intotoChain) string { return c.layout }, layoutKey: "alice", want: 0},
	{name: "re-signed link with another foo.py", layout: func(c *intotoChain) string { return c.layout },
		layoutKey: "alice", tamper: true, want: 1, stage: "rules",
		python: "RuleVerificationError: 'DISALLOW *' matched the following artifacts: ['foo.py']",
		golang: "materials [foo.py] disallowed by rule [DISALLOW *]"},
	{name: "threshold not met", layout: func(c *intotoChain) string { return c.threshold },
		layoutKey: "alice", want: 1, stage: "threshold",
		python: "LinkNotFoundError: Step 'package' requires '2' link metadata file(s), found '1'",
		golang: "step 'package' requires '2' link metadata file(s), found '1'"},
	{name: "wrong layout key", layout: func(c *intotoChain) string { return c.layout },
		layoutKey: "dave", want: 1, stage: "signature",
		python: "SignatureVerificationError: No signature found for key", golang: "no signature found for key",
		golangDSSE: "accepted signatures do not match threshold, Found: 0, Expected 1"},
}

func (pc peerCase) check(t *testing.T, c *intotoChain, got result) {
	t.Helper()
	if pc.want == 0 {
		wantExit(t, "intoto-ci", got, 0)
		return
	}
	wantRefused(t, got, pc.stage)
}

// wantCause asserts that a peer's output names the cause of its refusal (empty: nothing to check).
func wantCause(t *testing.T, who string, got result, cause string) {
	t.Helper()
	if cause != "" && !strings.Contains(got.stdout+got.stderr, cause) {
		t.Errorf("%s: refused for another reason, want %q in its output\n%s", who, cause, got)
	}
}

// TestIntotoChainLegacyVerifiesWithPeers: links and layout in the legacy envelope, verified by
// in-toto-python 1.3.1 (which has no DSSE), in-toto-golang and intoto-ci; each verdict asserted apart.
func TestIntotoChainLegacyVerifiesWithPeers(t *testing.T) {
	t.Parallel()
	for _, pc := range peerCases {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			c := newIntotoChain(t, "legacy")
			if pc.tamper {
				c.tamper(t)
			}
			layout, key := pc.layout(c), filepath.Join(c.d.keys, pc.layoutKey)
			t.Run("intoto-ci", func(t *testing.T) {
				pc.check(t, c, verifyIntotoCI(t, c.d, layout, key+".pub"))
			})
			t.Run("in-toto-python", func(t *testing.T) {
				got := verifyPython(t, c.d, layout, []string{key + ".pub.json"}, []string{"ed25519"})
				wantExit(t, "in-toto-verify", got, pc.want)
				wantCause(t, "in-toto-verify", got, pc.python)
			})
			t.Run("in-toto-golang", func(t *testing.T) {
				got := verifyGolang(t, c.d, layout, key+".pub")
				wantExit(t, "in-toto-golang verify", got, pc.want)
				wantCause(t, "in-toto-golang verify", got, pc.golang)
			})
		})
	}
}

// TestIntotoChainDSSEVerifiesWithPeers: links and layout in DSSE envelopes, verified by in-toto-golang
// and intoto-ci.
func TestIntotoChainDSSEVerifiesWithPeers(t *testing.T) {
	t.Parallel()
	for _, pc := range peerCases {
		t.Run(pc.name, func(t *testing.T) {
			t.Parallel()
			c := newIntotoChain(t, "dsse")
			if pc.tamper {
				c.tamper(t)
			}
			layout, key := pc.layout(c), filepath.Join(c.d.keys, pc.layoutKey)
			t.Run("intoto-ci", func(t *testing.T) {
				pc.check(t, c, verifyIntotoCI(t, c.d, layout, key+".pub"))
			})
			t.Run("in-toto-golang", func(t *testing.T) {
				got := verifyGolang(t, c.d, layout, key+".pub")
				wantExit(t, "in-toto-golang verify", got, pc.want)
				cause := pc.golang
				if pc.golangDSSE != "" {
					cause = pc.golangDSSE
				}
				wantCause(t, "in-toto-golang verify", got, cause)
			})
		})
	}
}
