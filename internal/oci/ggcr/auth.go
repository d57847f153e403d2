package ggcr

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
)

// Environment variables Keychain reads (besides DOCKER_CONFIG, read by the docker config keychain).
// None of them is ever printed: they only become credentials sent to the registry they belong to.
const (
	EnvGitHubToken      = "GITHUB_TOKEN"
	EnvGitHubActor      = "GITHUB_ACTOR"
	EnvGitLabRegistry   = "CI_REGISTRY"
	EnvGitLabRegUser    = "CI_REGISTRY_USER"
	EnvGitLabRegPass    = "CI_REGISTRY_PASSWORD"
	githubRegistry      = "ghcr.io"
	defaultGitHubPusher = "intoto-ci"
)

// Keychain resolves registry credentials the way the ecosystem does: the docker config (docker login,
// credential helpers) first, then the CI's own: GITHUB_TOKEN for ghcr.io, and GitLab's
// CI_REGISTRY_USER/CI_REGISTRY_PASSWORD for $CI_REGISTRY only. getenv reads the environment.
func Keychain(getenv func(string) string) authn.Keychain {
	return authn.NewMultiKeychain(authn.DefaultKeychain, ciKeychain{getenv: getenv})
}

type ciKeychain struct{ getenv func(string) string }

func (k ciKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	reg := r.RegistryStr()
	if reg == githubRegistry {
		if tok := k.getenv(EnvGitHubToken); tok != "" {
			user := k.getenv(EnvGitHubActor)
			if user == "" {
				user = defaultGitHubPusher
			}
			return &authn.Basic{Username: user, Password: tok}, nil
		}
	}
	if ci := k.getenv(EnvGitLabRegistry); ci != "" {
		want, err := name.NewRegistry(ci)
		user, pass := k.getenv(EnvGitLabRegUser), k.getenv(EnvGitLabRegPass)
		if err == nil && want.RegistryStr() == reg && user != "" && pass != "" {
			return &authn.Basic{Username: user, Password: pass}, nil
		}
	}
	return authn.Anonymous, nil
}
