package ci

import "slices"

// Variable is one environment variable intoto-ci reads (or, for Hidden ones, knows to be a secret of
// the job it runs in).
type Variable struct {
	Name string
	// Hidden variables never reach a command intoto-ci runs (run's wrapped command; inspections get
	// an empty environment anyway): they are a key password, an ID token, or the means to get one.
	Hidden bool
	// Use says what intoto-ci does with it (docs/formats.md lists the same).
	Use string
}

// Variables is the one list of the environment variables intoto-ci reads, and of the secrets it hides
// from the commands it runs. docs/formats.md ("Environment variables") holds the same table
// (TestVariablesDocumented). Visible variables are what any step of the job sees anyway (run ids,
// platform markers, output files): hiding them would break builds and protect nothing.
func Variables() []Variable {
	return []Variable{
		{KeyPasswordEnv, true, "password of an encrypted private key (instead of --key-password)"},
		{"ACTIONS_ID_TOKEN_REQUEST_URL", true, "GitHub OIDC token request"},
		{"ACTIONS_ID_TOKEN_REQUEST_TOKEN", true, "GitHub OIDC token request"},
		{"ACTIONS_RUNTIME_TOKEN", true, "not read: GitHub's runtime token, hidden with the token request pair"},
		{"SIGSTORE_ID_TOKEN", true, "GitLab id_tokens token"},
		{"CI_JOB_TOKEN", false, "not read: GitLab job token (builds fetch and push with it; it cannot sign links)"},
		{"CI_JOB_JWT", true, "not read: GitLab's deprecated job ID token"},
		{"CI_JOB_JWT_V2", true, "not read: GitLab's deprecated job ID token"},
		{GitLabRegistryEnv, false, "attach, verify --image: GitLab's registry, the only one its login goes to"},
		{GitLabRegistryUser, false, "attach, verify --image: GitLab registry login"},
		{GitLabRegistryPass, false, "attach, verify --image: GitLab registry login (builds push with it too; it cannot sign links)"},
		{GitHubTokenEnv, false, "attach, verify --image: login to ghcr.io only (builds use it too; it cannot sign links)"},
		{GitHubActorEnv, false, "attach, verify --image: user of the ghcr.io login"},
		{"DOCKER_CONFIG", false, "attach, verify --image: docker logins and credential helpers (read by go-containerregistry), tried first"},
		{PlatformEnv, false, "force the platform: local, github, gitlab, tekton"},
		{"GITHUB_ACTIONS", false, "GitHub detection"},
		{"GITHUB_RUN_ID", false, "job identity (binds unsigned and unfinished links)"},
		{"GITHUB_RUN_ATTEMPT", false, "job identity"},
		{"GITHUB_JOB", false, "job identity"},
		{"GITHUB_REPOSITORY", false, "job identity"},
		{"GITHUB_SHA", false, "job identity"},
		{"GITHUB_REF", false, "job identity"},
		{"GITHUB_WORKFLOW", false, "job identity"},
		{"GITHUB_SERVER_URL", false, "job identity"},
		{"GITHUB_OUTPUT", false, "step outputs (random heredoc delimiter)"},
		{"GITHUB_ENV", false, "step environment (random heredoc delimiter)"},
		{"GITHUB_STEP_SUMMARY", false, "job summary"},
		{"GITLAB_CI", false, "GitLab detection"},
		{"CI_PIPELINE_ID", false, "job identity (binds unsigned and unfinished links)"},
		{"CI_JOB_ID", false, "job identity"},
		{"CI_JOB_NAME", false, "job identity"},
		{"CI_PROJECT_PATH", false, "job identity"},
		{"CI_COMMIT_SHA", false, "job identity"},
		{"CI_COMMIT_REF_NAME", false, "job identity"},
		{"CI_SERVER_URL", false, "job identity"},
		{"GOGC", false, "verify leaves the Go runtime's tuning alone when set"},
		{"GOMEMLIMIT", false, "verify leaves the Go runtime's tuning alone when set"},
	}
}

// HiddenEnv returns the names of the Hidden variables plus extra (the variable named by
// --identity-token-env), to remove from the environment of a command intoto-ci runs.
func HiddenEnv(extra ...string) []string {
	var out []string
	for _, v := range Variables() {
		if v.Hidden {
			out = append(out, v.Name)
		}
	}
	for _, e := range extra {
		if e != "" && !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out
}
