// Package oidc is a tiny OpenID Connect issuer for tests: discovery, JWKS, RS256 tokens with arbitrary
// claims, and a GitHub Actions style token request endpoint. GitHubClaims and GitLabClaims shape tokens
// like the real CI providers' so that Fulcio's ci-provider templates find every claim they read.
//
// Imported only by tests.
package oidc
