package ggcr

import (
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/intoto-ci/intoto-ci/internal/ci"
)

// Keychain resolves registry credentials the way the ecosystem does: the docker config (docker login,
// credential helpers; DOCKER_CONFIG) first, then the logins the CI platform provides (ci.RegistryCredentials),
// each sent only to its own registry. Credentials are never printed: they only become authorization
// headers for that registry.
func Keychain(creds []ci.RegistryCredential) authn.Keychain {
	return authn.NewMultiKeychain(authn.DefaultKeychain, ciKeychain(creds))
}

type ciKeychain []ci.RegistryCredential

func (k ciKeychain) Resolve(r authn.Resource) (authn.Authenticator, error) {
	for _, c := range k {
		reg, err := name.NewRegistry(c.Registry)
		if err == nil && reg.RegistryStr() == r.RegistryStr() {
			return &authn.Basic{Username: c.Username, Password: c.Password}, nil
		}
	}
	return authn.Anonymous, nil
}
