package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/sigstore"
	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// TestKeylessRoundTrips checks that one keyless `run` talks to each Sigstore service exactly once:
// one certificate request to Fulcio, one timestamp request to the TSA, one upload to Rekor, and
// nothing else (no discovery, configuration or trust-bundle fetches). Each service is reached through
// a passing proxy that records the requests. The token comes from the environment (GitLab), so no
// request goes to the OIDC issuer either. It runs with the keyless work in this process and in
// intoto-ci-sigstore, as intoto-ci does it: the helper process must not add a request.
func TestKeylessRoundTrips(t *testing.T) {
	helper := filepath.Join(filepath.Dir(buildtest.IntotoCI(t)), keyless.HelperName)
	for name, kb := range map[string]keyless.Backend{"in-process": sigstore.Backend{}, "helper": keyless.Exec{Path: helper}} {
		t.Run(name, func(t *testing.T) { keylessRoundTrips(t, kb) })
	}
}

func keylessRoundTrips(t *testing.T, kb keyless.Backend) {
	s := sigstack.Shared(t)
	c, _ := newChain(t)
	fulcio := sigstack.StartProxy(t, s.FulcioURL, sigstack.Pass)
	rekor := sigstack.StartProxy(t, s.RekorURL, sigstack.Pass)
	tsa := sigstack.StartProxy(t, s.TSAURL, sigstack.Pass)
	env := map[string]string{"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": s.GitLab.Mint(oidc.GitLabClaims(oidc.GitLabOptions{})),
		"CI_PIPELINE_ID": "1001", "CI_JOB_ID": "2002"}
	r := invokeWith(t, kb, env, "run", "--step", "package", "--signing", "keyless",
		"--fulcio-url", fulcio.URL(s.FulcioURL), "--rekor-url", rekor.URL(s.RekorURL), "--rekor-version", "2",
		"--tsa-url", tsa.URL(s.TSAURL), "--base-path", c.work, "--links-dir", c.links,
		"--materials", c.work, "--", "true")
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.err)
	}
	// Only the method and the last path element are asserted: the paths are each server's API.
	got := map[string][]string{}
	for name, p := range map[string]*sigstack.Proxy{"fulcio": fulcio, "rekor": rekor, "tsa": tsa} {
		for _, req := range p.Requests() {
			method, path, _ := strings.Cut(req, " ")
			got[name] = append(got[name], method+" "+path[strings.LastIndexByte(path, '/')+1:])
		}
		slices.Sort(got[name])
	}
	want := map[string][]string{
		"fulcio": {"POST signingCert"},
		"rekor":  {"POST entries"},
		"tsa":    {"POST timestamp"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests per service (-want +got):\n%s", diff)
	}
}
