package vsa

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

func digest(s string) intoto.Digests { return intoto.Digests{"sha256": strings.Repeat(s, 64)} }

// passed is a verified result of steps in order, each with its materials and products.
func passed(steps ...struct {
	name       string
	materials  map[string]intoto.Digests
	products   map[string]intoto.Digests
	linkDigest string
}) *verify.Result {
	res := &verify.Result{Verified: true, Evidence: map[string]*verify.Evidence{}}
	for _, s := range steps {
		res.Steps = append(res.Steps, verify.StepResult{Name: s.name, Kind: verify.KindStep,
			Links: []verify.LinkInfo{{File: s.name + ".link", Digest: digest(s.linkDigest)}}})
		res.Evidence[s.name] = &verify.Evidence{Materials: intoto.NewArtifactSet(s.materials), Products: intoto.NewArtifactSet(s.products)}
	}
	res.Steps = append(res.Steps, verify.StepResult{Name: "untar", Kind: verify.KindInspection})
	return res
}

type step = struct {
	name       string
	materials  map[string]intoto.Digests
	products   map[string]intoto.Digests
	linkDigest string
}

// A chain: fetch makes src.c; build turns src.c into app and passes README through; package makes app.tgz.
func chain() *verify.Result {
	return passed(
		step{"fetch", nil, map[string]intoto.Digests{"src.c": digest("1"), "README": digest("2")}, "a"},
		step{"build", map[string]intoto.Digests{"src.c": digest("1"), "README": digest("2")},
			map[string]intoto.Digests{"app": digest("3"), "README": digest("2"), "build.log": digest("4")}, "b"},
		step{"package", map[string]intoto.Digests{"app": digest("3")}, map[string]intoto.Digests{"app.tgz": digest("5")}, "c"},
	)
}

func names(s []Subject) string {
	var out []string
	for _, x := range s {
		out = append(out, x.Name)
	}
	return strings.Join(out, ",")
}

func TestSubjects(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		patterns []string
		want     string
		err      string
	}{
		// Default: the final products of the last step only.
		{nil, "app.tgz", ""},
		// Intermediate files (src.c, app) and pass-throughs (README) are never final products.
		{[]string{"*"}, "app.tgz,build.log", ""},
		{[]string{"build.log"}, "build.log", ""},
		{[]string{"app"}, "", `--vsa-subject "app" matches no final product`},
		{[]string{"*.tgz", "src.c"}, "", `--vsa-subject "src.c" matches no final product`},
	} {
		got, err := Subjects(chain(), tc.patterns)
		var se *SubjectError
		if tc.err != "" {
			if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Subjects(%q) = %v, want a SubjectError with %q", tc.patterns, err, tc.err)
			}
			continue
		}
		if err != nil || names(got) != tc.want {
			t.Errorf("Subjects(%q) = %s, %v; want %s", tc.patterns, names(got), err, tc.want)
		}
	}
}

// A name that two steps produce with different digests is two artifacts: it cannot be one subject.
func TestSubjectsRefusesTwoDigestsForOneName(t *testing.T) {
	t.Parallel()
	res := passed(
		step{"a", nil, map[string]intoto.Digests{"out": digest("1")}, "a"},
		step{"b", nil, map[string]intoto.Digests{"out": digest("2")}, "b"},
	)
	_, err := Subjects(res, []string{"out"})
	var se *SubjectError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "two digests") {
		t.Fatalf("Subjects = %v, want a SubjectError about two digests", err)
	}
	// The last step's own product alone is one artifact.
	if got, err := Subjects(res, nil); err != nil || names(got) != "out" || got[0].Digest["sha256"] != digest("2")["sha256"] {
		t.Errorf("default subjects = %+v, %v", got, err)
	}
}

func TestBuild(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	in := Input{Result: chain(), LayoutPath: "root.layout", Layout: []byte("{}"), Version: "v1", Now: now}
	data, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	var stmt Statement
	if err := json.Unmarshal(data, &stmt); err != nil {
		t.Fatal(err)
	}
	p := stmt.Predicate
	if stmt.Type != intoto.StatementTypeV1 || stmt.PredicateType != PredicateType || p.VerificationResult != "PASSED" ||
		p.ResourceURI != "app.tgz" || p.TimeVerified != "2026-01-02T03:04:05Z" || p.Verifier.Version["intoto-ci"] != "v1" ||
		strings.Join(p.VerifiedLevels, ",") != DefaultLevel || p.Policy.URI != "root.layout" ||
		p.Policy.Digest["sha256"] != "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a" {
		t.Errorf("statement: %s", data)
	}
	if len(p.InputAttestations) != 3 || p.InputAttestations[2].URI != "package.link" {
		t.Errorf("input attestations %+v, want the three links", p.InputAttestations)
	}

	// Several subjects need a resource URI; a refused result gets no VSA.
	in.Subjects = []string{"*"}
	var se *SubjectError
	if _, err := Build(in); !errors.As(err, &se) || !strings.Contains(err.Error(), "give --vsa-resource-uri") {
		t.Errorf("two subjects without a resource URI: %v", err)
	}
	in.ResourceURI = "pkg:generic/app@1"
	if _, err := Build(in); err != nil {
		t.Errorf("two subjects with a resource URI: %v", err)
	}
	in.Result.Verified = false
	if _, err := Build(in); err == nil {
		t.Error("a VSA was built for a refused result")
	}
}

// Check accepts a VSA every pinned key signed, and refuses another key, a tampered payload, a verdict
// other than PASSED and another resource URI, each re-signed by the pinned key where it is a payload change.
func TestCheckWithKeys(t *testing.T) {
	t.Parallel()
	alice, err := keys.Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := keys.Generate("ed25519")
	if err != nil {
		t.Fatal(err)
	}
	stmt, err := Build(Input{Result: chain(), LayoutPath: "root.layout", Layout: []byte("{}"), Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	sign := func(payload []byte, k *keys.Key) []byte {
		t.Helper()
		env, err := envelope.SignDSSE(intoto.PayloadType, payload, k)
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	pinned := CheckOptions{Keys: []*keys.Key{alice.Public()}}
	got, err := Check(context.Background(), "vsa.json", sign(stmt, alice), pinned)
	if err != nil || got.Signer != alice.ID() || got.Statement.Predicate.ResourceURI != "app.tgz" {
		t.Fatalf("honest VSA: %+v, %v", got, err)
	}
	// Covers: by name and digest, both.
	if err := got.Statement.Covers("vsa.json", "app.tgz", "dist/app.tgz", []byte("x")); err == nil {
		t.Error("Covers accepted content of another digest")
	}

	failed := strings.Replace(string(stmt), `"PASSED"`, `"FAILED"`, 1)
	for _, tc := range []struct {
		what string
		data []byte
		opts CheckOptions
		want string
	}{
		{"another key", sign(stmt, mallory), pinned, "vsa signature by key"},
		{"not PASSED", sign([]byte(failed), alice), pinned, `verificationResult "FAILED"`},
		{"another resource", sign(stmt, alice), CheckOptions{Keys: pinned.Keys, ResourceURI: "pkg:other"}, `resourceUri "app.tgz", want "pkg:other"`},
		{"keys given, identity pinned", sign(stmt, alice), CheckOptions{Identity: &intoto.Identity{Subject: "x", Issuer: "y"}}, "signed with keys, not keyless"},
		{"not a statement", sign([]byte(`{"_type": 1}`), alice), pinned, "payload is not a statement"},
	} {
		_, err := Check(context.Background(), "vsa.json", tc.data, tc.opts)
		var re *Refusal
		if !errors.As(err, &re) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want a refusal with %q", tc.what, err, tc.want)
		}
	}
	var me *MalformedError
	if _, err := Check(context.Background(), "vsa.json", []byte("not json"), pinned); !errors.As(err, &me) {
		t.Errorf("a file that is no envelope: %v, want a MalformedError", err)
	}
}

func TestCovers(t *testing.T) {
	t.Parallel()
	content := []byte("the product\n")
	s := Statement{Subject: []Subject{{Name: "dist/app", Digest: intoto.Digests{"sha256": "389c53b4befe3e273a89ff0b17204c62509e0e067063c0155730e296850cc5df"}}}}
	if err := s.Covers("vsa.json", "dist/app", "out/dist/app", content); err != nil {
		t.Errorf("the subject itself: %v", err)
	}
	var re *Refusal
	// Same content under another name says nothing about it.
	if err := s.Covers("vsa.json", "src/evil", "src/evil", content); !errors.As(err, &re) || !strings.Contains(err.Error(), "is not a subject") {
		t.Errorf("same content, another name: %v", err)
	}
	if err := s.Covers("vsa.json", "dist/app", "dist/app", []byte("changed\n")); !errors.As(err, &re) || !strings.Contains(err.Error(), `subject "dist/app" has sha256:389c53b4`) {
		t.Errorf("same name, other content: %v", err)
	}
}
