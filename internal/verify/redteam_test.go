package verify

// Red-team regression tests: each case builds an attack on verify (re-signed with keys or identities
// the layout trusts where that matters) and pins the verdict. Cases that once verified wrongly say so.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// rt is one attack: a layout (signed by owner unless layoutData is set), files for the links dir.
type rt struct {
	t      *testing.T
	c      *chain // for the fake keyless verifier and temp dirs
	layout *intoto.Layout
	links  map[string][]byte
	opts   func(*Options)
}

func newRT(t *testing.T) *rt {
	t.Helper()
	c := &chain{dir: t.TempDir(), fakes: newFakeKeyless()}
	return &rt{t: t, c: c, links: map[string][]byte{}, layout: &intoto.Layout{
		Type: intoto.TypeLayout, Expires: "2030-01-01T00:00:00Z", Keys: map[string]*intoto.Key{},
	}}
}

// step adds a step with the given functionaries (keys) and rules; identities may be set after.
func (r *rt) step(name string, threshold int, ks []*keys.Key, materials, products []intoto.Rule) *intoto.Step {
	s := &intoto.Step{Type: intoto.TypeStep, Name: name, Threshold: threshold,
		ExpectedMaterials: materials, ExpectedProducts: products, PubKeys: []string{}, ExpectedCommand: []string{}}
	for _, k := range ks {
		p := k.Record()
		r.layout.Keys[p.KeyID] = p
		s.PubKeys = append(s.PubKeys, p.KeyID)
	}
	r.layout.Steps = append(r.layout.Steps, s)
	return s
}

func rtRules(words ...string) []intoto.Rule {
	var out []intoto.Rule
	for _, w := range words {
		out = append(out, intoto.Rule(strings.Fields(w)))
	}
	return out
}

func (r *rt) signedLayout() []byte {
	r.t.Helper()
	body, err := json.Marshal(r.layout)
	if err != nil {
		r.t.Fatal(err)
	}
	out, err := envelope.SignLegacy(body, testKey(r.t, "owner"))
	if err != nil {
		r.t.Fatal(err)
	}
	return out
}

func (r *rt) verify() (*Result, error) {
	r.t.Helper()
	links := filepath.Join(r.c.dir, "links")
	work := filepath.Join(r.c.dir, "work")
	for _, d := range []string{links, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			r.t.Fatal(err)
		}
	}
	for name, data := range r.links {
		p := filepath.Join(links, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
	opts := Options{
		LayoutPath: "root.layout", Layout: r.signedLayout(), LinksDir: links, WorkDir: work,
		LayoutKeys: []*intoto.Key{testKey(r.t, "owner").Record()}, Keyless: r.c.fakes,
		Now: time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC),
	}
	if r.opts != nil {
		r.opts(&opts)
	}
	return Verify(context.Background(), opts)
}

func legacyLink(t *testing.T, body *linkBody, ks ...*keys.Key) []byte {
	t.Helper()
	out, err := envelope.SignLegacy(linkDoc(t, body), ks...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// refused asserts a refusal wrapping want (or any refusal when want is nil).
func refused(t *testing.T, res *Result, err error, want error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Verify error %v, want a refusal", err)
	}
	if res.Verified {
		t.Fatalf("FALSE ACCEPT: verified (warnings %q)", res.Warnings)
	}
	if want != nil && !errors.Is(res.Err(), want) {
		t.Fatalf("refused with %v, want %v", res.Err(), want)
	}
}

var buildBody = &linkBody{Name: "build", Materials: map[string]string{"src.c": "int main;"},
	Products: map[string]string{"app": "BINARY"}}

// TestRedTeamKeys: link authorization by keys.
func TestRedTeamKeys(t *testing.T) {
	t.Parallel()
	alice, bob := testKey(t, "alice"), testKey(t, "bob")
	strict := rtRules("ALLOW src.c", "DISALLOW *")
	strictP := rtRules("CREATE app", "DISALLOW *")

	t.Run("honest baseline verifies", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 2, []*keys.Key{alice, bob}, strict, strictP)
		r.links["build.a.link"] = legacyLink(t, buildBody, alice)
		r.links["build.b.link"] = legacyLink(t, buildBody, bob)
		res, err := r.verify()
		if err != nil || !res.Verified {
			t.Fatalf("baseline: %v %v", err, res.Err())
		}
	})

	t.Run("link for another step renamed to this step's file", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, nil, nil)
		r.step("test", 1, []*keys.Key{alice}, nil, nil)
		tb := *buildBody
		tb.Name = "test"
		// Only a "test" link exists, under build's file name: it must not count for build.
		r.links["build."+alice.ShortID()+".link"] = legacyLink(t, &tb, alice)
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
		if res.Failure.Step != "build" {
			t.Fatalf("refused at %q, want build", res.Failure.Step)
		}
	})

	t.Run("one key's sublayout and link count once", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 2, []*keys.Key{alice, bob}, nil, nil)
		sub := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2030-01-01T00:00:00Z", Keys: map[string]*intoto.Key{}}
		inner := r.step("compile", 1, []*keys.Key{alice}, nil, nil) // borrow the helper for keys
		r.layout.Steps = r.layout.Steps[:1]
		sub.Steps = []*intoto.Step{inner}
		sub.Keys[inner.PubKeys[0]] = r.layout.Keys[inner.PubKeys[0]]
		subBody, err := json.Marshal(sub)
		if err != nil {
			t.Fatal(err)
		}
		r.links["build."+alice.ShortID()+".link"], err = envelope.SignLegacy(subBody, alice)
		if err != nil {
			t.Fatal(err)
		}
		r.links["build."+alice.ShortID()+"/compile.x.link"] = legacyLink(t, &linkBody{Name: "compile"}, alice)
		r.links["build.other.link"] = legacyLink(t, &linkBody{Name: "build"}, alice)
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
		// Control: the link by bob, a second functionary, meets the threshold.
		r.c = &chain{dir: t.TempDir(), fakes: newFakeKeyless()}
		r.links["build.other.link"] = legacyLink(t, &linkBody{Name: "build"}, bob)
		if res, err := r.verify(); err != nil || !res.Verified {
			t.Fatalf("control with bob's link: %v %v", err, res.Err())
		}
	})

	// One private key listed under two keyids (keyid_hash_algorithms differ, or an ecdsa key under
	// two keytype/scheme spellings that verify alike): one signer must not meet a threshold of two.
	sameKey := map[string]func(t *testing.T) (*keys.Key, *keys.Key){
		"keyid hash algorithms": func(t *testing.T) (*keys.Key, *keys.Key) {
			a1 := *alice
			a1.KeyIDHashAlgorithms = []string{"sha256"}
			a1.KeyID = ""
			a2 := *alice
			a2.KeyIDHashAlgorithms = []string{"sha256", "sha512"}
			a2.KeyID = ""
			return &a1, &a2
		},
		"ecdsa scheme spelling": func(t *testing.T) (*keys.Key, *keys.Key) {
			k, err := keys.Generate(keys.KeyTypeECDSA)
			if err != nil {
				t.Fatal(err)
			}
			k2 := *k
			k2.Scheme = keys.SchemeECDSAP384 // same P-256 key, hashed by curve: verifies alike
			k2.KeyID = ""
			return k, &k2
		},
		"ecdsa keytype spelling": func(t *testing.T) (*keys.Key, *keys.Key) {
			k, err := keys.Generate(keys.KeyTypeECDSA)
			if err != nil {
				t.Fatal(err)
			}
			k2 := *k
			k2.KeyType = keys.SchemeECDSAP256
			k2.KeyID = ""
			return k, &k2
		},
	}
	for name, mk := range sameKey {
		for _, env := range []string{"legacy", "dsse two keyids", "dsse one unlabelled signature", "two files"} {
			t.Run("one key under two keyids: "+name+": "+env, func(t *testing.T) {
				t.Parallel()
				k1, k2 := mk(t)
				if k1.ID() == k2.ID() {
					t.Fatal("test setup: same keyid")
				}
				r := newRT(t)
				r.step("build", 2, []*keys.Key{k1, k2}, strict, strictP)
				var err error
				switch env {
				case "legacy":
					r.links["build.x.link"] = legacyLink(t, buildBody, k1, k2)
				case "dsse two keyids":
					r.links["build.x.link"], err = envelope.SignDSSE(intoto.PayloadType, linkDoc(t, buildBody), k1, k2)
				case "dsse one unlabelled signature":
					var d []byte
					d, err = envelope.SignDSSE(intoto.PayloadType, linkDoc(t, buildBody), k1)
					r.links["build.x.link"] = []byte(strings.Replace(string(d), k1.ID(), "", 1))
				case "two files":
					r.links["build.1.link"] = legacyLink(t, buildBody, k1)
					r.links["build.2.link"] = legacyLink(t, buildBody, k2)
				}
				if err != nil {
					t.Fatal(err)
				}
				res, err := r.verify()
				refused(t, res, err, ErrThreshold)
			})
		}
	}
}

// TestRedTeamLayout: the layout itself.
func TestRedTeamLayout(t *testing.T) {
	t.Parallel()
	alice, mallory := testKey(t, "alice"), testKey(t, "mallory")

	t.Run("layout key entry listed under another keyid", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		s := r.step("build", 1, []*keys.Key{alice}, nil, nil)
		// The owner signs a layout whose alice keyid maps to mallory's key: invalid, never "alice".
		m := mallory.Public()
		m.KeyID = ""
		m.KeyIDHashAlgorithms = append([]string(nil), keys.DefaultKeyIDHashAlgorithms...)
		r.layout.Keys[s.PubKeys[0]] = &m.Key
		r.links["build.x.link"] = legacyLink(t, buildBody, mallory)
		res, err := r.verify()
		if !errors.Is(err, ErrLayoutInvalid) || (res != nil && res.Verified) {
			t.Fatalf("got %v / %v, want ErrLayoutInvalid", res, err)
		}
	})

	for _, exp := range []string{"2030-01-01T00:00:00+00:00", "2030-01-01T00:00:00.5Z", "2030-01-01 00:00:00Z", "2030-01-01T00:00:00z"} {
		t.Run("expiry spelled "+exp, func(t *testing.T) {
			t.Parallel()
			r := newRT(t)
			r.layout.Expires = exp
			r.step("build", 1, []*keys.Key{alice}, nil, nil)
			r.links["build.x.link"] = legacyLink(t, buildBody, alice)
			res, err := r.verify()
			if !errors.Is(err, ErrLayoutInvalid) || (res != nil && res.Verified) {
				t.Fatalf("got %v / %v, want ErrLayoutInvalid", res, err)
			}
		})
	}

	t.Run("expired layout whose expiry carries a far offset", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.layout.Expires = "2026-05-31T23:00:00-23:59"
		r.step("build", 1, []*keys.Key{alice}, nil, nil)
		r.links["build.x.link"] = legacyLink(t, buildBody, alice)
		res, err := r.verify()
		if err == nil && res.Verified {
			t.Fatal("FALSE ACCEPT")
		}
	})

	t.Run("dsse layout with a foreign payload type", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, nil, nil)
		r.links["build.x.link"] = legacyLink(t, buildBody, alice)
		body, err := json.Marshal(r.layout)
		if err != nil {
			t.Fatal(err)
		}
		// The owner key signed these bytes for another protocol (payload type): not a layout.
		foreign, err := envelope.SignDSSE("application/vnd.example.config+json", body, testKey(t, "owner"))
		if err != nil {
			t.Fatal(err)
		}
		r.opts = func(o *Options) { o.Layout = foreign }
		res, err := r.verify()
		if err == nil && res.Verified {
			t.Fatal("FALSE ACCEPT: a DSSE envelope of another payload type verified as the layout")
		}
	})

	t.Run("key-signed layout plus a pinned identity", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, nil, nil)
		r.links["build.x.link"] = legacyLink(t, buildBody, alice)
		r.opts = func(o *Options) {
			o.LayoutIdentities = []*intoto.Identity{{Issuer: "https://issuer", Subject: "owner@example.com"}}
		}
		res, err := r.verify()
		refused(t, res, err, ErrLayoutSignature)
	})

	t.Run("keyless layout by a wrong identity plus a pinned key", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, nil, nil)
		r.links["build.x.link"] = legacyLink(t, buildBody, alice)
		body, err := json.Marshal(r.layout)
		if err != nil {
			t.Fatal(err)
		}
		bundle := r.c.fakes.bundle(t, body, &intoto.SignerIdentity{Issuer: "https://issuer", Subject: "mallory@example.com"})
		r.opts = func(o *Options) {
			o.Layout = bundle
			o.LayoutIdentities = []*intoto.Identity{{Issuer: "https://issuer", Subject: "owner@example.com"}}
		}
		res, err := r.verify()
		refused(t, res, err, ErrLayoutSignature)
	})
}

// TestRedTeamKeyless: keyless links against pinned identities.
func TestRedTeamKeyless(t *testing.T) {
	t.Parallel()
	const iss = "https://token.actions.githubusercontent.com"
	const subj = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	keylessStep := func(r *rt, threshold int, ids map[string]*intoto.Identity) {
		s := r.step("build", threshold, nil, rtRules("ALLOW src.c", "DISALLOW *"), rtRules("CREATE app", "DISALLOW *"))
		r.layout.Identities = ids
		for n := range ids {
			s.Identities = append(s.Identities, n)
		}
	}
	bundleLink := func(r *rt, body *linkBody, signer *intoto.SignerIdentity) []byte {
		return r.c.fakes.bundle(r.t, statementDoc(r.t, body), signer)
	}

	t.Run("claim regexp .* does not match a certificate without that claim", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		keylessStep(r, 1, map[string]*intoto.Identity{"ci": {Issuer: iss, Subject: subj, Claims: map[string]intoto.ClaimMatch{
			"deployment_environment": {Regexp: ".*"}}}})
		r.links["build.x.link.sigstore.json"] = bundleLink(r, buildBody, &intoto.SignerIdentity{Issuer: iss, Subject: subj})
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})

	t.Run("claim regexp matches a present empty claim", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		keylessStep(r, 1, map[string]*intoto.Identity{"ci": {Issuer: iss, Subject: subj, Claims: map[string]intoto.ClaimMatch{
			"deployment_environment": {Regexp: ".*"}}}})
		r.links["build.x.link.sigstore.json"] = bundleLink(r, buildBody, &intoto.SignerIdentity{Issuer: iss, Subject: subj,
			Claims: map[string]string{"deployment_environment": "prod"}})
		res, err := r.verify()
		if err != nil || !res.Verified {
			t.Fatalf("present claim: %v %v", err, res.Err())
		}
	})

	t.Run("one workflow under two identities counts once", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		keylessStep(r, 2, map[string]*intoto.Identity{
			"ci1": {Issuer: iss, SubjectRegexp: `https://github\.com/acme/app/.*`},
			"ci2": {Issuer: iss, Subject: subj}})
		// Two runs of one workflow: two certificates, one signer.
		r.links["build.1.link.sigstore.json"] = bundleLink(r, buildBody, &intoto.SignerIdentity{Issuer: iss, Subject: subj,
			Claims: map[string]string{"run_invocation_uri": "https://github.com/acme/app/actions/runs/1/attempts/1"}})
		r.links["build.2.link.sigstore.json"] = bundleLink(r, buildBody, &intoto.SignerIdentity{Issuer: iss, Subject: subj,
			Claims: map[string]string{"run_invocation_uri": "https://github.com/acme/app/actions/runs/2/attempts/1"}})
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})

	t.Run("issuer is exact, not a prefix", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		keylessStep(r, 1, map[string]*intoto.Identity{"ci": {Issuer: iss, Subject: subj}})
		r.links["build.x.link.sigstore.json"] = bundleLink(r, buildBody, &intoto.SignerIdentity{Issuer: iss + ".evil.example", Subject: subj})
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})

	t.Run("bundle whose verified payload differs from the parsed one", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		keylessStep(r, 1, map[string]*intoto.Identity{"ci": {Issuer: iss, Subject: subj}})
		signer := &intoto.SignerIdentity{Issuer: iss, Subject: subj}
		good := bundleLink(r, buildBody, signer)
		// A verifier that verifies the honest bundle but the file's dsseEnvelope carries other bytes.
		evil := *buildBody
		evil.Products = map[string]string{"app": "EVIL"}
		evilFile := bundleLink(r, &evil, &intoto.SignerIdentity{Issuer: "x", Subject: "y"})
		r.links["build.x.link.sigstore.json"] = evilFile
		r.opts = func(o *Options) {
			o.Keyless = BundleVerifierFunc(func(ctx context.Context, b []byte) (*Verified, error) {
				return r.c.fakes.VerifyBundle(ctx, good)
			})
		}
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})

	t.Run("statement with one subject twice, different digests", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		keylessStep(r, 1, map[string]*intoto.Identity{"ci": {Issuer: iss, Subject: subj}})
		st := statementDoc(t, buildBody)
		var doc map[string]any
		if err := json.Unmarshal(st, &doc); err != nil {
			t.Fatal(err)
		}
		doc["subject"] = append(doc["subject"].([]any), map[string]any{"name": "app", "digest": digest("EVIL")})
		st, _ = json.Marshal(doc)
		r.links["build.x.link.sigstore.json"] = r.c.fakes.bundle(t, st, &intoto.SignerIdentity{Issuer: iss, Subject: subj})
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})
}

// TestRedTeamLinksDir: what the links directory holds.
func TestRedTeamLinksDir(t *testing.T) {
	t.Parallel()
	alice, mallory := testKey(t, "alice"), testKey(t, "mallory")

	t.Run("flooded links dir cannot hide an honest link that disagrees", func(t *testing.T) {
		t.Parallel()
		// build: alice or mallory may sign (threshold 1). mallory is compromised and reports an
		// evil product; alice's honest link disagrees, which refuses (consistency) — unless enough junk
		// files sorting before alice's push it past the file limit.
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice, mallory}, rtRules("ALLOW src.c", "DISALLOW *"), rtRules("CREATE app", "DISALLOW *"))
		evil := *buildBody
		evil.Products = map[string]string{"app": "EVIL"}
		r.links["a-build.link"] = legacyLink(t, &evil, mallory)
		for i := 0; i < 20; i++ {
			r.links[fmt.Sprintf("b-junk-%03d.link", i)] = []byte("{}")
		}
		r.links["z-build.link"] = legacyLink(t, buildBody, alice)
		r.opts = func(o *Options) { o.Limits.MaxFiles = 10 }
		res, err := r.verify()
		if err == nil && res.Verified {
			t.Fatalf("FALSE ACCEPT: honest disagreeing link ignored past the file limit (warnings %q)", res.Warnings)
		}
		if !errors.Is(err, ErrLimit) {
			t.Fatalf("got %v, want an error wrapping ErrLimit", err)
		}
	})

	t.Run("symlinked link is not read", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, nil, nil)
		outside := filepath.Join(t.TempDir(), "elsewhere.link")
		if err := os.WriteFile(outside, legacyLink(t, buildBody, alice), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(r.c.dir, "links"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(outside, filepath.Join(r.c.dir, "links", "build.x.link")); err != nil {
			t.Fatal(err)
		}
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})

	t.Run("artifact name spelled ./name does not satisfy MATCH", func(t *testing.T) {
		t.Parallel()
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, rtRules("ALLOW src.c", "DISALLOW *"), rtRules("CREATE app", "DISALLOW *"))
		r.step("package", 1, []*keys.Key{alice}, rtRules("MATCH app WITH PRODUCTS FROM build", "DISALLOW *"), nil)
		r.links["build.x.link"] = legacyLink(t, buildBody, alice)
		// Unclean spellings are refused by the name check, before any rule; a look-alike is a
		// clean name of another file, which MATCH app does not consume.
		for name, want := range map[string]error{"./app": ErrArtifactName, "app/": ErrArtifactName, "ａｐｐ": ErrRules} {
			r.links["package.x.link"] = legacyLink(t, &linkBody{Name: "package", Materials: map[string]string{name: "EVIL"}}, alice)
			res, err := r.verify()
			refused(t, res, err, want)
		}
	})

	// Names that are not clean relative slash paths, in a link signed by the step's functionary, are
	// refused at that step even where a rule would allow them ("src/../dist/app" passes "ALLOW src/*").
	t.Run("unclean artifact names refused at their step", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{"src/../dist/app", "./src/x", "src//x", "/src/x", `src\..\x`, "src/x\x00", "src/x\r", "src/x\n", "src/."} {
			r := newRT(t)
			r.step("build", 1, []*keys.Key{alice}, rtRules("ALLOW src/*", "DISALLOW *"), rtRules("ALLOW src/*", "CREATE app", "DISALLOW *"))
			products := map[string]string{"app": "APP", name: "EVIL"}
			r.links["build.x.link"] = legacyLink(t, &linkBody{Name: "build", Materials: map[string]string{"src/a.c": "A"}, Products: products}, alice)
			res, err := r.verify()
			refused(t, res, err, ErrArtifactName)
			if res.Failure.Step != "build" || res.Failure.Stage != StageArtifactNames || len(res.Failure.Artifacts) != 1 ||
				res.Failure.Artifacts[0] != name || !strings.Contains(res.Failure.Reason, strconv.Quote(name)) {
				t.Errorf("%q: got %+v, want a names refusal at build naming it", name, res.Failure)
			}
			// The benign control: the same link without the unclean name verifies.
			delete(products, name)
			r.links["build.x.link"] = legacyLink(t, &linkBody{Name: "build", Materials: map[string]string{"src/a.c": "A"}, Products: products}, alice)
			if res, err := r.verify(); err != nil || !res.Verified {
				t.Fatalf("benign control: got %+v, %v, want verified", res.Failure, err)
			}
		}
	})
}

// TestRedTeamEnvelope: format confusion between what is verified and what is used.
func TestRedTeamEnvelope(t *testing.T) {
	t.Parallel()
	alice := testKey(t, "alice")
	newR := func(t *testing.T) *rt {
		r := newRT(t)
		r.step("build", 1, []*keys.Key{alice}, rtRules("ALLOW src.c", "DISALLOW *"), rtRules("CREATE app", "DISALLOW *"))
		return r
	}
	evil := *buildBody
	evil.Products = map[string]string{"app": "EVIL"}

	t.Run("legacy and dsse members in one file", func(t *testing.T) {
		t.Parallel()
		r := newR(t)
		honest := legacyLink(t, buildBody, alice)
		var doc map[string]any
		if err := json.Unmarshal(honest, &doc); err != nil {
			t.Fatal(err)
		}
		doc["payloadType"] = intoto.PayloadType
		doc["payload"] = base64.StdEncoding.EncodeToString(linkDoc(t, &evil))
		r.links["build.x.link"], _ = json.Marshal(doc)
		res, err := r.verify()
		refused(t, res, err, ErrThreshold)
	})

	// usedHonest: refused, or verified on the honest link's products.
	usedHonest := func(t *testing.T, res *Result, err error) {
		t.Helper()
		if err != nil || !res.Verified {
			t.Logf("refused: %v %v", err, res.Err())
			return
		}
		t.Logf("verified on the honest payload")
		if got := res.Evidence["build"].Products.Map()["app"]["sha256"]; got != digest("BINARY")["sha256"] {
			t.Fatalf("FALSE ACCEPT: verified on products %v that no signature covers", res.Evidence["build"].Products.Map())
		}
	}

	t.Run("dsse payload member repeated with another case", func(t *testing.T) {
		t.Parallel()
		honest, err := envelope.SignDSSE(intoto.PayloadType, linkDoc(t, buildBody), alice)
		if err != nil {
			t.Fatal(err)
		}
		evilB64 := base64.StdEncoding.EncodeToString(linkDoc(t, &evil))
		for _, doc := range []string{
			strings.Replace(string(honest), "{", `{"Payload":"`+evilB64+`",`, 1),   // before
			strings.Replace(string(honest), "{", `{"PAYLOAD":"`+evilB64+`",`, 1),   // before
			strings.Replace(string(honest), "\n}", `,"Payload":"`+evilB64+`"}`, 1), // after
			strings.Replace(string(honest), "\n}", `,"payload":"`+evilB64+`"}`, 1), // exact, after
			strings.Replace(string(honest), "{", `{"payload":"`+evilB64+`",`, 1),   // exact, before
		} {
			r := newR(t)
			r.links["build.x.link"] = []byte(doc)
			res, err := r.verify()
			usedHonest(t, res, err)
		}
	})

	t.Run("legacy signed member duplicated", func(t *testing.T) {
		t.Parallel()
		honest := string(legacyLink(t, buildBody, alice))
		for _, doc := range []string{
			strings.Replace(honest, "{", `{"signed":`+string(linkDoc(t, &evil))+`,`, 1),
			strings.Replace(honest, "{", `{"Signed":`+string(linkDoc(t, &evil))+`,`, 1),
			strings.Replace(honest, "\n}", `,"Signed":`+string(linkDoc(t, &evil))+`}`, 1),
		} {
			r := newR(t)
			r.links["build.x.link"] = []byte(doc)
			res, err := r.verify()
			usedHonest(t, res, err)
		}
	})

	t.Run("link member duplicated inside the signed document", func(t *testing.T) {
		t.Parallel()
		// The functionary's signature is over the canonical form, which (like every decoder here)
		// keeps the last of duplicate members: an evil "products" slipped in before the honest one
		// is outside the signature and never used; after it, the signature breaks.
		evilProducts, _ := json.Marshal(artifacts(evil.Products))
		honestSigned := legacyLink(t, buildBody, alice)
		var env map[string]json.RawMessage
		if err := json.Unmarshal(honestSigned, &env); err != nil {
			t.Fatal(err)
		}
		signed := string(env["signed"])
		for _, variant := range []string{
			strings.Replace(signed, `"products":`, `"products":`+string(evilProducts)+`,"products":`, 1),
			strings.Replace(signed, `"products":`, `"Products":`+string(evilProducts)+`,"products":`, 1),
			strings.Replace(signed, `"name":`, `"name":"test","name":`, 1),
			strings.Replace(signed, `"_type":"link"`, `"_type":"link","products":`+string(evilProducts), 1),
		} {
			r := newR(t)
			env["signed"] = json.RawMessage(variant)
			r.links["build.x.link"], _ = json.Marshal(env)
			res, err := r.verify()
			usedHonest(t, res, err)
		}
	})
}

// TestRedTeamRunBindingSublayout: run binding covers the keyless links inside a keyless sublayout, so
// a step replayed from another run cannot hide behind a delegation signed in this run.
func TestRedTeamRunBindingSublayout(t *testing.T) {
	t.Parallel()
	const iss = "https://token.actions.githubusercontent.com"
	const subj = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main"
	run := func(n int) *intoto.SignerIdentity {
		return &intoto.SignerIdentity{Issuer: iss, Subject: subj, Claims: map[string]string{
			"source_repository_digest": fmt.Sprintf("%040d", n),
			"run_invocation_uri":       fmt.Sprintf("https://github.com/acme/app/actions/runs/%d/attempts/1", n),
		}}
	}
	ci := &intoto.Identity{Issuer: iss, Subject: subj}
	for _, tc := range []struct {
		name                   string
		layoutField, optSame   bool
		subRun, innerRun       int
		sublayoutOwnRunBinding bool
		want                   bool
	}{
		{name: "all from one run, layout asks", layoutField: true, subRun: 1, innerRun: 1, want: true},
		{name: "inner link from another run, layout asks", layoutField: true, subRun: 1, innerRun: 0},
		{name: "inner link from another run, --same-run", optSame: true, subRun: 1, innerRun: 0},
		{name: "inner link from another run, sublayout asks too", layoutField: true, sublayoutOwnRunBinding: true, subRun: 1, innerRun: 0},
		{name: "inner link from another run, no binding asked", subRun: 1, innerRun: 0, want: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRT(t)
			if tc.layoutField {
				r.layout.RunBinding = "same-run"
			}
			r.layout.Identities = map[string]*intoto.Identity{"ci": ci}
			r.step("build", 1, nil, nil, nil).Identities = []string{"ci"}
			r.step("test", 1, nil, nil, nil).Identities = []string{"ci"}
			r.links["test.x.link.sigstore.json"] = r.c.fakes.bundle(t, statementDoc(t, &linkBody{Name: "test"}), run(1))

			sub := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2030-01-01T00:00:00Z", Keys: map[string]*intoto.Key{},
				Identities: map[string]*intoto.Identity{"ci": ci},
				Steps: []*intoto.Step{{Type: intoto.TypeStep, Name: "compile", Threshold: 1, Identities: []string{"ci"},
					PubKeys: []string{}, ExpectedCommand: []string{}}}}
			if tc.sublayoutOwnRunBinding {
				sub.RunBinding = "same-run"
			}
			subBody, err := json.Marshal(sub)
			if err != nil {
				t.Fatal(err)
			}
			r.links["build.abcd1234.link.sigstore.json"] = r.c.fakes.bundle(t, subBody, run(tc.subRun))
			r.links["build.abcd1234/compile.x.link.sigstore.json"] = r.c.fakes.bundle(t,
				statementDoc(t, &linkBody{Name: "compile", Products: map[string]string{"app": "BINARY"}}), run(tc.innerRun))
			r.opts = func(o *Options) { o.SameRun = tc.optSame }
			res, err := r.verify()
			if err != nil {
				t.Fatal(err)
			}
			if res.Verified != tc.want {
				t.Fatalf("verified %v, want %v (%v)", res.Verified, tc.want, res.Err())
			}
			if !tc.want && !errors.Is(res.Err(), ErrRunBinding) {
				t.Fatalf("refused with %v, want ErrRunBinding", res.Err())
			}
		})
	}
}
