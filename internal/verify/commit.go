package verify

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCommitBinding is the sentinel of a refusal because a link does not show the expected commit.
var ErrCommitBinding = errors.New("link not bound to the expected commit")

// CommitEnvironmentKey is the link environment entry where `run --commit` records the commit a step
// worked on. It is what binds links whose certificates carry no commit claim (Kubernetes service
// accounts, keys) to a commit the verifier names.
const CommitEnvironmentKey = "commit"

// linkCommit is the commit a kept link vouches for: its certificate's source_repository_digest when the
// certificate has one (the CI platform asserts it), else the commit the signer recorded in the link.
// The second is only as strong as the signer: it tells which commit a step says it worked on, and a
// signer that can run any build can say any commit.
func linkCommit(k *keptLink) (commit, source string) {
	if k.keyless != nil && k.keyless.Signer != nil {
		if c := k.keyless.Signer.Claims["source_repository_digest"]; c != "" {
			return c, "certificate"
		}
	}
	if k.link != nil {
		if c, ok := k.link.Environment[CommitEnvironmentKey].(string); ok && c != "" {
			return c, "link environment"
		}
	}
	return "", ""
}

// checkCommit refuses when any kept link of a step does not show Options.Commit.
func (v *verification) checkCommit(want string) *Failure {
	for _, s := range v.layout.Steps {
		for _, k := range v.kept[s.Name] {
			if k.sublayout != nil {
				continue // a sublayout's own links are checked when it is verified with the same commit
			}
			got, source := linkCommit(k)
			if got == "" {
				f := newFailure(ErrCommitBinding, StageRunBinding, s.Name, fmt.Sprintf(
					"%s: shows no commit (neither a certificate claim nor a recorded %q): record steps with "+
						"run --commit", k.file, CommitEnvironmentKey))
				f.Signer = k.signer
				return f
			}
			if !strings.EqualFold(got, want) {
				f := newFailure(ErrCommitBinding, StageRunBinding, s.Name, fmt.Sprintf(
					"%s: commit %s (from the %s), want %s", k.file, got, source, want))
				f.Signer = k.signer
				return f
			}
		}
	}
	return nil
}
