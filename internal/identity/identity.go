package identity

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/backoff"
)

// Environment variables read by Detect.
const (
	// EnvGitHubRequestURL and EnvGitHubRequestToken are set by GitHub Actions for jobs with
	// `permissions: id-token: write`.
	EnvGitHubRequestURL   = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// EnvSigstoreIDToken is the conventional GitLab variable:
	// `id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}`.
	EnvSigstoreIDToken = "SIGSTORE_ID_TOKEN"
)

// DefaultKubernetesTokenPath is where a Kubernetes/Tekton pod conventionally mounts a projected
// service-account token with audience "sigstore".
const DefaultKubernetesTokenPath = "/var/run/sigstore/cosign/oidc-token"

// DefaultAudience is the audience Fulcio expects.
const DefaultAudience = "sigstore"

// ErrNoToken means no token source was given and none was found in the environment.
var ErrNoToken = errors.New("no oidc identity token available")

// Source yields an OIDC identity token. Token may be called more than once (a token expires); each
// call returns a token valid at that moment.
type Source interface {
	Token(ctx context.Context) (string, error)
	// Name says where tokens come from ("explicit", "token-file", "env:VAR", "github-actions",
	// "gitlab", "kubernetes"), for logs; it never contains the token.
	Name() string
}

// Env looks up an environment variable, like os.LookupEnv.
type Env func(key string) (string, bool)

// MapEnv is an Env over a map, for tests and for callers that scrubbed the environment.
func MapEnv(m map[string]string) Env {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// Options override detection. The first that is set wins, in this order: Token, TokenFile, TokenEnv;
// otherwise the environment is probed: GitHub Actions, GitLab (SIGSTORE_ID_TOKEN), Kubernetes token file.
type Options struct {
	// Token is an explicit token (--identity-token).
	Token string
	// TokenFile is read on every Token call (--identity-token-file); projected tokens rotate.
	TokenFile string
	// TokenEnv names the variable holding the token (--identity-token-env), e.g. a GitLab id_tokens
	// entry not called SIGSTORE_ID_TOKEN.
	TokenEnv string
	// Audience requested from GitHub (--oidc-audience); empty means "sigstore".
	Audience string
	// KubernetesTokenPath overrides DefaultKubernetesTokenPath (tests).
	KubernetesTokenPath string
	// HTTPClient for the GitHub request; nil means a client without overall timeout (each attempt is
	// bounded by Retry.Timeout).
	HTTPClient *http.Client
	// Retry bounds the GitHub request; zero fields take the defaults (4 attempts of
	// at most 20s each, backoff from 0.5s doubling up to 8s).
	Retry Retry
	// Logger receives debug messages (never tokens); nil discards.
	Logger *slog.Logger
}

// Retry bounds the GitHub token request: Attempts tries in all, each limited to Timeout, separated by a
// backoff that starts at Backoff and doubles up to MaxBackoff. Zero fields take retryDefaults.
type Retry = backoff.Policy

// retryDefaults fill the fields of Options.Retry left zero.
func retryDefaults() backoff.Policy {
	return backoff.Policy{Attempts: 4, Timeout: 20 * time.Second, Backoff: 500 * time.Millisecond, MaxBackoff: 8 * time.Second}
}

// Detect chooses the token source: an explicit option if one is set, else the first platform whose
// variables (or token file) are present. It does not fetch a token: call Source.Token when signing.
// ErrNoToken means nothing was found.
func Detect(env Env, opts Options) (Source, error) {
	if env == nil {
		env = MapEnv(nil)
	}
	switch {
	case opts.Token != "":
		return staticSource{name: "explicit", token: opts.Token}, nil
	case opts.TokenFile != "":
		return fileSource{name: "token-file", path: opts.TokenFile}, nil
	case opts.TokenEnv != "":
		v, ok := env(opts.TokenEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%w: variable %s is not set", ErrNoToken, opts.TokenEnv)
		}
		return staticSource{name: "env:" + opts.TokenEnv, token: strings.TrimSpace(v)}, nil
	}
	reqURL, okURL := env(EnvGitHubRequestURL)
	reqTok, okTok := env(EnvGitHubRequestToken)
	if okURL && okTok && reqURL != "" && reqTok != "" {
		return newGitHub(reqURL, reqTok, opts)
	}
	if v, ok := env(EnvSigstoreIDToken); ok && strings.TrimSpace(v) != "" {
		return staticSource{name: "gitlab", token: strings.TrimSpace(v)}, nil
	}
	path := opts.KubernetesTokenPath
	if path == "" {
		path = DefaultKubernetesTokenPath
	}
	if st, err := os.Stat(path); err == nil && st.Mode().IsRegular() {
		return fileSource{name: "kubernetes", path: path}, nil
	}
	if okURL != okTok || (okURL && (reqURL == "" || reqTok == "")) {
		return nil, fmt.Errorf("%w: only part of the github actions token request variables is set "+
			"(does the job have `permissions: id-token: write`?)", ErrNoToken)
	}
	return nil, fmt.Errorf("%w: pass --identity-token or --identity-token-file, or run in github actions "+
		"(id-token: write), gitlab (id_tokens: SIGSTORE_ID_TOKEN) or with a projected token at %s", ErrNoToken, path)
}

type staticSource struct {
	name, token string
}

func (s staticSource) Token(context.Context) (string, error) { return s.token, nil }
func (s staticSource) Name() string                          { return s.name }

// String keeps the token out of %v formatting.
func (s staticSource) String() string { return "identity source " + s.name }

type fileSource struct {
	name, path string
}

func (s fileSource) Name() string { return s.name }

func (s fileSource) Token(context.Context) (string, error) {
	b, err := os.ReadFile(s.path)
	if err != nil {
		return "", fmt.Errorf("read identity token file: %w", err)
	}
	tok := strings.TrimSpace(string(b))
	if tok == "" {
		return "", fmt.Errorf("%w: identity token file %q is empty", ErrNoToken, s.path)
	}
	return tok, nil
}
