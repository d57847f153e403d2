package vsa

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// SubjectName names the file at path as run names artifacts recorded under base: its slash-separated
// path relative to base (absBase, returned too). A file outside base has no such name: the error says
// why.
func SubjectName(base, path string) (name, absBase string, err error) {
	if absBase, err = filepath.Abs(base); err != nil {
		return "", base, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", absBase, err
	}
	rel, err := filepath.Rel(absBase, abs)
	if err != nil {
		return "", absBase, err
	}
	name = filepath.ToSlash(rel)
	if err := intoto.CheckArtifactName(name); err != nil {
		return "", absBase, err
	}
	return name, absBase, nil
}

// Summary is the one line verify-vsa prints for a checked VSA: verdict, verifier, signer, policy,
// subjects and levels.
func (c *Checked) Summary() string {
	p := &c.Statement.Predicate
	plural := "s"
	if len(c.Statement.Subject) == 1 {
		plural = ""
	}
	return fmt.Sprintf("VSA verified: %s by %s (signer %s), policy %s sha256:%s, %d subject%s, levels %s",
		p.VerificationResult, p.Verifier.ID, c.Signer, p.Policy.URI, p.Policy.Digest["sha256"],
		len(c.Statement.Subject), plural, strings.Join(p.VerifiedLevels, ","))
}
