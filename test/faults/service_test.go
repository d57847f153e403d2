package faults

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

func TestMain(m *testing.M) { os.Exit(harness.Main(m)) }

// A signing service that fails in any way leaves: the wrapped command's output and exit code (or exit
// 3 when the command succeeded: a green job without its link is unverifiable), one error line naming
// the failing service, the link kept unsigned for a later `sign`, and no other file in the links
// directory. Once the service is back, `sign --signing keyless --file .<step>.link-unsigned.json`
// signs the kept link.
func TestSigningServiceFaults(t *testing.T) {
	s := sigstack.Shared(t)
	services := []struct {
		name  string
		names []string // words the error must contain (any of them)
	}{
		{"oidc", []string{"token", "oidc", "OIDC"}},
		{"fulcio", []string{"fulcio", "Fulcio"}},
		{"tsa", []string{"timestamp", "TSA", "tsa"}},
		{"rekor", []string{"rekor", "Rekor"}},
	}
	modes := []sigstack.FaultMode{sigstack.Refuse, sigstack.Status500, sigstack.Hang, sigstack.Garbage}
	for i, svc := range services {
		for j, mode := range modes {
			code := []int{0, 5}[(i+j)%2]
			t.Run(svc.name+"/"+mode.String(), func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				links, work := filepath.Join(dir, "links"), filepath.Join(dir, "work")
				for _, d := range []string{links, work} {
					if err := os.MkdirAll(d, 0o755); err != nil {
						t.Fatal(err)
					}
				}
				reqURL, reqTok := s.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{}))
				env := map[string]string{"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": reqURL,
					"ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqTok, "GITHUB_RUN_ID": "4242", "GITHUB_JOB": "build",
					"GITHUB_RUN_ATTEMPT": "1"}
				urls := map[string]string{"fulcio": s.FulcioURL, "tsa": s.TSAURL, "rekor": s.RekorURL}
				badEnv := map[string]string{}
				for k, v := range env {
					badEnv[k] = v
				}
				if svc.name == "oidc" {
					badEnv["ACTIONS_ID_TOKEN_REQUEST_URL"] = sigstack.FaultProxy(t, reqURL, mode)
				} else {
					urls[svc.name] = sigstack.FaultProxy(t, urls[svc.name], mode)
				}
				service := func(u map[string]string) []string {
					return []string{"--signing", "keyless", "--fulcio-url", u["fulcio"], "--rekor-url", u["rekor"],
						"--rekor-version", "2", "--tsa-url", u["tsa"], "--service-timeout", "2s"}
				}
				args := append([]string{"run", "--step", "build", "--base-path", work, "--links-dir", links,
					"--products", work}, service(urls)...)
				args = append(args, "--", "sh", "-c", "echo out-marker; echo err-marker >&2; echo built > out.txt; exit "+string(rune('0'+code)))
				r := harness.Run(t, harness.Cmd{Args: args, Env: badEnv, Dir: work})

				want := code
				if code == 0 {
					want = 3
				}
				if r.Code != want {
					t.Fatalf("got exit %d, want %d: %s", r.Code, want, r)
				}
				if !strings.Contains(r.Out, "out-marker") || !strings.Contains(r.Err, "err-marker") {
					t.Errorf("the command's output was not passed through: %s", r)
				}
				var errLines []string
				for _, l := range strings.Split(r.Err, "\n") {
					if strings.HasPrefix(l, "intoto-ci ") {
						errLines = append(errLines, l)
					}
				}
				if len(errLines) != 1 {
					t.Errorf("got %d error lines, want one: %q", len(errLines), errLines)
				} else if !containsAny(errLines[0], svc.names) {
					t.Errorf("error %q does not name %s", errLines[0], svc.name)
				}
				files := harness.Glob(t, filepath.Join(links, "*")) // for the message; ReadDir sees dot files too
				entries, err := os.ReadDir(links)
				if err != nil {
					t.Fatal(err)
				}
				if len(entries) != 1 || entries[0].Name() != ".build.link-unsigned.json" {
					var names []string
					for _, e := range entries {
						names = append(names, e.Name())
					}
					t.Fatalf("links dir holds %q (%v), want only .build.link-unsigned.json", names, files)
				}

				// The service is back: the kept link is signed in the same job.
				signArgs := append([]string{"sign", "--file", filepath.Join(links, ".build.link-unsigned.json")}, service(map[string]string{
					"fulcio": s.FulcioURL, "tsa": s.TSAURL, "rekor": s.RekorURL})...)
				env["ACTIONS_ID_TOKEN_REQUEST_URL"], env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = s.GitHub.TokenRequest(oidc.GitHubClaims(oidc.GitHubOptions{}))
				if r := harness.Run(t, harness.Cmd{Args: signArgs, Env: env, Dir: work}); r.Code != 0 {
					t.Fatalf("sign the kept link: %s", r)
				}
				if got := harness.Glob(t, filepath.Join(links, "build.*.link.sigstore.json")); len(got) != 1 {
					t.Fatalf("got bundles %v, want one", got)
				}
				if _, err := os.Stat(filepath.Join(links, ".build.link-unsigned.json")); !os.IsNotExist(err) {
					t.Errorf("the unsigned link is still there after signing (%v)", err)
				}
			})
		}
	}
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
