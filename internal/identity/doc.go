// Package identity finds the ambient OIDC identity token a CI job can present to Fulcio: an explicit
// token or token file, GitHub Actions' token request endpoint, a GitLab id_token variable, or a
// Kubernetes/Tekton projected service-account token file.
//
// Environment variables are read only through the Env lookup function the caller passes, never with
// os.Getenv, so detection is testable. Tokens are secrets: nothing in this package logs one or puts
// one in an error message. internal/ci.HiddenEnv lists the variables a wrapped command must not
// inherit (these among them).
//
// Environment variables read (through Env):
//
//	ACTIONS_ID_TOKEN_REQUEST_URL    GitHub Actions token endpoint (with permissions: id-token: write)
//	ACTIONS_ID_TOKEN_REQUEST_TOKEN  bearer token for that endpoint
//	SIGSTORE_ID_TOKEN               GitLab id_tokens: {SIGSTORE_ID_TOKEN: {aud: sigstore}}
//	<Options.TokenEnv>              a variable named by --identity-token-env
//
// Files read: Options.TokenFile (--identity-token-file), else /var/run/sigstore/cosign/oidc-token
// (Kubernetes/Tekton projected service-account token, audience sigstore) when it exists.
//
// Precedence: --identity-token, --identity-token-file, --identity-token-env, then GitHub Actions,
// GitLab, Kubernetes. GitHub requests are retried (network errors, 5xx, 429) with backoff, each
// attempt bounded by a timeout; 4xx answers are final.
package identity
