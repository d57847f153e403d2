package ci

import "strings"

// Variables that carry registry credentials. intoto-ci consumes them (attach, verify --image): like the
// token variables, they belong out of any command intoto-ci runs.
const (
	GitHubTokenEnv      = "GITHUB_TOKEN"
	GitHubActorEnv      = "GITHUB_ACTOR"
	GitLabRegistryEnv   = "CI_REGISTRY"
	GitLabRegistryUser  = "CI_REGISTRY_USER"
	GitLabRegistryPass  = "CI_REGISTRY_PASSWORD"
	githubRegistry      = "ghcr.io"
	defaultGitHubPusher = "intoto-ci"
)

// RegistryCredential is a registry login the CI platform provides.
type RegistryCredential struct {
	// Registry is host[:port], as image references name it.
	Registry string
	Username string
	Password string
}

// RegistryCredentials returns the logins the environment provides, each for its own registry only:
// GITHUB_TOKEN for ghcr.io (user GITHUB_ACTOR), and GitLab's CI_REGISTRY_USER and CI_REGISTRY_PASSWORD
// for $CI_REGISTRY.
func RegistryCredentials(getenv func(string) string) []RegistryCredential {
	var out []RegistryCredential
	if tok := getenv(GitHubTokenEnv); tok != "" {
		user := getenv(GitHubActorEnv)
		if user == "" {
			user = defaultGitHubPusher
		}
		out = append(out, RegistryCredential{Registry: githubRegistry, Username: user, Password: tok})
	}
	reg, user, pass := getenv(GitLabRegistryEnv), getenv(GitLabRegistryUser), getenv(GitLabRegistryPass)
	if reg != "" && user != "" && pass != "" {
		out = append(out, RegistryCredential{Registry: strings.ToLower(reg), Username: user, Password: pass})
	}
	return out
}
