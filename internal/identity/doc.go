// Package identity finds the ambient OIDC identity token a CI job can present to Fulcio: an explicit
// token or token file, GitHub Actions' token request endpoint, a GitLab id_token variable, or a
// Kubernetes/Tekton projected service-account token file.
//
// Environment variables are read only through the Env lookup function the caller passes, never with
// os.Getenv, so detection is testable. Tokens are secrets: nothing in this package logs one or puts
// one in an error message. SensitiveEnv lists the variables a wrapped command must not inherit.
package identity
