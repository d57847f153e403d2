package verify

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ErrRunBinding is the sentinel of a refusal because keyless links come from different CI runs.
var ErrRunBinding = errors.New("links come from different runs")

// githubRun matches a GitHub run invocation URI (Fulcio extension 1.21) and captures it without its
// /attempts/N suffix: re-running failed jobs makes a new attempt of the same run.
var githubRun = regexp.MustCompile(`^(https://[^/]+/[^/]+/[^/]+/actions/runs/[0-9]+)(?:/attempts/[0-9]+)?$`)

// runKey is what the certificate of a keyless link says about the run it came from.
//
//   - GitHub: the run invocation URI without /attempts/N (1.21) and the commit (1.13): all jobs of one
//     workflow run, whatever the attempt.
//   - GitLab and others: the URI is per job, so the commit (1.13) and the CI config digest (1.19).
//   - A certificate without a commit claim (e.g. Kubernetes service accounts) cannot be bound: the
//     link is refused when binding is asked for. Tekton pipelines bind by a commit parameter instead.
func runKey(claims map[string]string) (string, error) {
	commit := claims["source_repository_digest"]
	if commit == "" {
		return "", errors.New("certificate has no source_repository_digest claim")
	}
	if m := githubRun.FindStringSubmatch(claims["run_invocation_uri"]); m != nil {
		return fmt.Sprintf("run %s at commit %s", m[1], commit), nil
	}
	cfg := claims["build_config_digest"]
	if cfg == "" {
		return "", errors.New("certificate has neither a GitHub run_invocation_uri nor a build_config_digest claim")
	}
	return fmt.Sprintf("commit %s with CI config %s", commit, cfg), nil
}

// runBindingRequested reads the layout's run_binding field: any value but "", "none", "off" or "false"
// asks for run binding.
func runBindingRequested(v string) bool {
	switch strings.ToLower(v) {
	case "", "none", "off", "false":
		return false
	}
	return true
}

// boundLink is a keyless link as run binding sees it: where it is and what its certificate says.
type boundLink struct {
	step, file, signer string
	claims             map[string]string
}

// keylessLinks lists the keyless links this layout kept, then those its verified sublayouts kept
// (recursively, for their delegated step): run binding covers a whole delegation, or a step replayed
// from another run could hide inside a sublayout signed in this one. Key-signed links are counted.
func (v *verification) keylessLinks() (out []boundLink, keyed int) {
	for _, s := range v.layout.Steps {
		for _, k := range v.kept[s.Name] {
			if k.keyless == nil {
				keyed++
			} else {
				var claims map[string]string
				if k.keyless.Signer != nil {
					claims = k.keyless.Signer.Claims
				}
				out = append(out, boundLink{step: s.Name, file: k.file, signer: k.signer, claims: claims})
			}
			for _, b := range k.subBound {
				b.step = s.Name
				out = append(out, b)
			}
			keyed += k.subKeyed
		}
	}
	return out, keyed
}

// checkRunBinding refuses when the keyless links of this layout's steps, sublayouts included, do not
// all come from one run (Options.SameRun or the layout's run_binding). Key-signed links carry no run
// claims and are not bound (a warning says so when there are any).
func (v *verification) checkRunBinding() *Failure {
	files := map[string][]string{} // run key → files
	var keys []string
	links, keyed := v.keylessLinks()
	for _, l := range links {
		key, err := runKey(l.claims)
		if err != nil {
			f := newFailure(ErrRunBinding, StageRunBinding, l.step, fmt.Sprintf("%s: cannot bind to a run: %v", l.file, err), err)
			f.Signer = l.signer
			return f
		}
		if _, ok := files[key]; !ok {
			keys = append(keys, key)
		}
		files[key] = append(files[key], l.file)
	}
	if keyed > 0 {
		v.warn("run binding: %d key-signed link(s) carry no run claims and are not bound", keyed)
	}
	if len(keys) <= 1 {
		if len(keys) == 0 {
			v.warn("run binding: no keyless links to bind")
		}
		return nil
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %s", k, strings.Join(files[k], ", "))
	}
	return newFailure(ErrRunBinding, StageRunBinding, "", "keyless links come from different runs: "+strings.Join(parts, "; "))
}
