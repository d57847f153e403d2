package attack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/schema"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// The keyless attacks drive the binary against the loopback Sigstore stack (run under
// `unshare -n sh -c 'ip link set lo up; go test ./test/attack/'`; skipped elsewhere, failed under CI).

type keyless struct {
	*chain
	s *sigstack.Stack
}

func newKeyless(t *testing.T) *keyless {
	t.Helper()
	s := sigstack.Shared(t)
	return &keyless{chain: newChain(t), s: s}
}

func (k *keyless) gh() *intoto.Identity {
	return &intoto.Identity{
		Issuer:        k.s.GitHub.URL,
		SubjectRegexp: `https://github\.com/octo-org/app/\.github/workflows/build\.yml@refs/heads/.*`,
		Claims: map[string]intoto.ClaimMatch{
			"source_repository_uri":              {Exact: "https://github.com/octo-org/app"},
			"source_repository_identifier":       {Exact: "123456"},
			"source_repository_owner_identifier": {Exact: "7890"},
			"runner_environment":                 {Exact: "github-hosted"},
			"source_repository_ref":              {Exact: "refs/heads/main"},
		},
	}
}

func (k *keyless) gl() *intoto.Identity {
	return &intoto.Identity{
		Issuer:  k.s.GitLab.URL,
		Subject: "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main",
		Claims:  map[string]intoto.ClaimMatch{"source_repository_uri": {Exact: "https://gitlab.com/grp/app"}},
	}
}

// writeLayout writes a two-step keyless layout (build, then package) signed with alice's key.
func (k *keyless) writeLayout(t *testing.T, build, pack *intoto.Identity) {
	t.Helper()
	l := &intoto.Layout{Type: intoto.TypeLayout, Expires: time.Now().Add(time.Hour).UTC().Format(intoto.ExpiresFormat),
		Keys: map[string]*intoto.Key{}, Identities: map[string]*intoto.Identity{"b": build, "p": pack},
		Steps: []*intoto.Step{{
			Type: intoto.TypeStep, Name: "build", Threshold: 1, Identities: []string{"b"}, PubKeys: []string{},
			ExpectedMaterials: []intoto.Rule{{"DISALLOW", "*"}},
			ExpectedProducts:  []intoto.Rule{{"CREATE", "out.txt"}, {"DISALLOW", "*"}},
			ExpectedCommand:   []string{},
		}, {
			Type: intoto.TypeStep, Name: "package", Threshold: 1, Identities: []string{"p"}, PubKeys: []string{},
			ExpectedMaterials: []intoto.Rule{{"MATCH", "out.txt", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			ExpectedProducts:  []intoto.Rule{{"CREATE", "app.tar"}, {"ALLOW", "out.txt"}, {"DISALLOW", "*"}},
			ExpectedCommand:   []string{},
		}},
		Inspections: []*intoto.Inspection{},
	}
	k.chain.writeLayout(t, l)
}

// ghEnv is the environment of a GitHub Actions job that may request an ID token with these claims.
func (k *keyless) ghEnv(o oidc.GitHubOptions) map[string]string {
	reqURL, reqTok := k.s.GitHub.TokenRequest(oidc.GitHubClaims(o))
	run := o.RunID
	if run == "" {
		run = "4242"
	}
	return map[string]string{"GITHUB_ACTIONS": "true", "ACTIONS_ID_TOKEN_REQUEST_URL": reqURL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": reqTok, "GITHUB_RUN_ID": run, "GITHUB_JOB": "build"}
}

// glEnv is the environment of a GitLab CI job whose id_token is in SIGSTORE_ID_TOKEN.
func (k *keyless) glEnv(o oidc.GitLabOptions) map[string]string {
	return map[string]string{"GITLAB_CI": "true", "SIGSTORE_ID_TOKEN": k.s.GitLab.Mint(oidc.GitLabClaims(o)),
		"CI_PIPELINE_ID": "1001", "CI_JOB_ID": "2002"}
}

// runKeyless wraps script as step in the work dir, signing keyless with the token the environment gives.
func (k *keyless) runKeyless(t *testing.T, env map[string]string, step string, materials, products []string, script string) harness.Result {
	t.Helper()
	args := []string{"run", "--step", step, "--signing", "keyless", "--fulcio-url", k.s.FulcioURL,
		"--rekor-url", k.s.RekorURL, "--rekor-version", "2", "--tsa-url", k.s.TSAURL,
		"--base-path", k.work, "--links-dir", k.links}
	for _, m := range materials {
		args = append(args, "--materials", filepath.Join(k.work, m))
	}
	for _, p := range products {
		args = append(args, "--products", filepath.Join(k.work, p))
	}
	args = append(args, "--", "sh", "-c", script)
	return harness.Run(t, harness.Cmd{Args: args, Env: env, Dir: k.work})
}

func (k *keyless) mustRunKeyless(t *testing.T, env map[string]string, step string, materials, products []string, script string) harness.Result {
	t.Helper()
	r := k.runKeyless(t, env, step, materials, products, script)
	if r.Code != 0 {
		t.Fatalf("keyless run %s: %s", step, r)
	}
	return r
}

func (k *keyless) build(t *testing.T, env map[string]string) harness.Result {
	t.Helper()
	return k.mustRunKeyless(t, env, "build", nil, []string{"out.txt"}, "echo built > out.txt")
}

func (k *keyless) pack(t *testing.T, env map[string]string) harness.Result {
	t.Helper()
	return k.mustRunKeyless(t, env, "package", []string{"out.txt"}, []string{"out.txt", "app.tar"}, "tar cf app.tar out.txt")
}

func TestKeylessIdentityWithOneWrongClaim(t *testing.T) {
	cases := []struct {
		name  string
		gh    oidc.GitHubOptions
		claim string
	}{
		{"honest", oidc.GitHubOptions{}, ""},
		{"ref", oidc.GitHubOptions{Ref: "refs/heads/evil"}, "source_repository_ref"},
		{"repository id (same name, recreated repository)", oidc.GitHubOptions{RepositoryID: "666"}, "source_repository_identifier"},
		{"owner id", oidc.GitHubOptions{OwnerID: "1"}, "source_repository_owner_identifier"},
		{"runner environment", oidc.GitHubOptions{RunnerEnvironment: "self-hosted"}, "runner_environment"},
		{"workflow", oidc.GitHubOptions{WorkflowPath: ".github/workflows/other.yml"}, "subject"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			k := newKeyless(t)
			k.writeLayout(t, k.gh(), k.gl())
			k.build(t, k.ghEnv(tc.gh))
			k.pack(t, k.glEnv(oidc.GitLabOptions{}))
			extra := []string{"--trusted-root", k.s.TrustedRootPath}
			if tc.claim == "" {
				k.mustVerify(t, extra...)
				return
			}
			rep := k.refused(t, "threshold", "build", nil, extra...)
			if !strings.Contains(rep.Rejections()+rawMismatches(t, k, extra), tc.claim) {
				t.Errorf("refusal does not name %s: %s", tc.claim, rep.Rejections())
			}
		})
	}
}

// rawMismatches returns the verify --json report as text, for the per-identity mismatch lists.
func rawMismatches(t *testing.T, k *keyless, extra []string) string {
	t.Helper()
	r, _ := k.verify(t, extra...)
	return r.Out
}

// A package link from another run of the same workflow (validly signed by the pinned identity) is
// replayed next to this run's build link: --same-run refuses it.
func TestKeylessLinkReplayedFromAnotherRun(t *testing.T) {
	k := newKeyless(t)
	gh := k.gh()
	k.writeLayout(t, gh, gh)
	extra := []string{"--trusted-root", k.s.TrustedRootPath}
	k.build(t, k.ghEnv(oidc.GitHubOptions{RunID: "100"}))
	k.pack(t, k.ghEnv(oidc.GitHubOptions{RunID: "100", RunAttempt: "2"}))
	k.mustVerify(t, append(extra, "--same-run")...)
	for _, f := range harness.Glob(t, filepath.Join(k.links, "package.*")) {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	k.pack(t, k.ghEnv(oidc.GitHubOptions{RunID: "99"}))
	k.mustVerify(t, extra...) // without run binding, a replay is indistinguishable by the rules
	k.refused(t, "runbinding", "", nil, append(extra, "--same-run")...)
}

// The ID token and the variables that give it never reach the wrapped command, the links, the logs of
// intoto-ci or the verification reports — on GitHub (request URL + bearer token) and GitLab
// (SIGSTORE_ID_TOKEN) alike. The only place the token may appear is GitHub's own ::add-mask:: command.
func TestTokenHygiene(t *testing.T) {
	k := newKeyless(t)
	k.writeLayout(t, k.gh(), k.gl())
	ghEnv := k.ghEnv(oidc.GitHubOptions{})
	glEnv := k.glEnv(oidc.GitLabOptions{})
	secrets := map[string]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL":   ghEnv["ACTIONS_ID_TOKEN_REQUEST_URL"],
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": ghEnv["ACTIONS_ID_TOKEN_REQUEST_TOKEN"],
		"SIGSTORE_ID_TOKEN":              glEnv["SIGSTORE_ID_TOKEN"],
		"a JWT":                          "eyJhbGciOi", // base64 of `{"alg":`, the start of every ID token
	}
	// Each wrapped command prints its whole environment and checks its own view.
	probe := `env; for v in ACTIONS_ID_TOKEN_REQUEST_URL ACTIONS_ID_TOKEN_REQUEST_TOKEN SIGSTORE_ID_TOKEN; do
  if env | grep -q "^$v="; then echo "LEAK $v" >&2; exit 42; fi; done; `
	rb := k.mustRunKeyless(t, ghEnv, "build", nil, []string{"out.txt"}, probe+"echo built > out.txt")
	rp := k.mustRunKeyless(t, glEnv, "package", []string{"out.txt"}, []string{"out.txt", "app.tar"}, probe+"tar cf app.tar out.txt")

	var places = map[string]string{}
	for name, r := range map[string]harness.Result{"build": rb, "package": rp} {
		var kept []string
		for _, line := range strings.Split(r.Out, "\n") {
			if !strings.HasPrefix(line, "::add-mask::") {
				kept = append(kept, line)
			}
		}
		places[name+" stdout"] = strings.Join(kept, "\n")
		places[name+" stderr"] = r.Err
	}
	for _, f := range harness.Glob(t, filepath.Join(k.links, "*")) {
		places[filepath.Base(f)] = string(harness.ReadFile(t, f))
		places[filepath.Base(f)+" payload"] = string(harness.Payload(t, f))
	}
	for _, format := range []string{"text", "json", "markdown", "junit"} {
		rf := filepath.Join(k.dir, "report."+format)
		r := harness.IC(t, "verify", "--layout", k.layout, "--layout-key", k.keyPath("alice.pub"), "--links-dir", k.links,
			"--trusted-root", k.s.TrustedRootPath, "--report", format, "--report-file", rf, "--work-dir", k.work)
		if r.Code != 0 {
			t.Fatalf("verify --report %s: %s", format, r)
		}
		places["report "+format] = r.Out + r.Err + string(harness.ReadFile(t, rf))
		if format == "junit" {
			schema.JUnit(t, rf, harness.ReadFile(t, rf))
		}
	}
	if !strings.Contains(places["build stdout"], "GITHUB_RUN_ID=4242") {
		t.Fatalf("the probe did not run: %q", places["build stdout"])
	}
	for where, text := range places {
		for what, secret := range secrets {
			if secret != "" && strings.Contains(text, secret) {
				t.Errorf("%s appears in %s", what, where)
			}
			if strings.Contains(text, what+"=") {
				t.Errorf("variable %s appears in %s", what, where)
			}
		}
	}
}
