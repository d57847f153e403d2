package vsa

import (
	"path/filepath"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// TestSubjectName: verify-vsa --subject files are named as run names artifacts (moved from cli).
func TestSubjectName(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	name, abs, err := SubjectName(base, filepath.Join(base, "dist", "app.tgz"))
	if err != nil || name != "dist/app.tgz" || abs != base {
		t.Errorf("inside: %q %q %v", name, abs, err)
	}
	for _, outside := range []string{filepath.Dir(base), filepath.Join(base, "..", "x"), base} {
		if name, _, err := SubjectName(base, outside); err == nil {
			t.Errorf("%s: named %q, want an error", outside, name)
		}
	}
}

// TestSummary: the line verify-vsa prints names verdict, verifier, signer, policy, subjects and levels.
func TestSummary(t *testing.T) {
	t.Parallel()
	c := &Checked{Signer: "abc", Statement: Statement{Subject: []Subject{{Name: "a", Digest: intoto.Digests{"sha256": "00"}}}}}
	c.Statement.Predicate.VerificationResult = "PASSED"
	c.Statement.Predicate.Verifier.ID = "https://v"
	c.Statement.Predicate.Policy.URI = "root.layout"
	c.Statement.Predicate.Policy.Digest = map[string]string{"sha256": "ff"}
	c.Statement.Predicate.VerifiedLevels = []string{"L1", "L2"}
	want := "VSA verified: PASSED by https://v (signer abc), policy root.layout sha256:ff, 1 subject, levels L1,L2"
	if got := c.Summary(); got != want {
		t.Errorf("summary\n%s\nwant\n%s", got, want)
	}
	c.Statement.Subject = append(c.Statement.Subject, Subject{Name: "b"})
	if got := c.Summary(); got != "VSA verified: PASSED by https://v (signer abc), policy root.layout sha256:ff, 2 subjects, levels L1,L2" {
		t.Errorf("two subjects: %s", got)
	}
}
