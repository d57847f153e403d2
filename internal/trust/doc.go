// Package trust loads Sigstore trusted roots (a trusted_root.json file, or the public-good instance
// through TUF), builds them (CreateTrustedRoot: trusted-root create, and the loopback test stack), and
// reads the signer's identity out of a verified Fulcio certificate. It is linked into
// intoto-ci-sigstore only (TestLeanBinary).
//
// It does not decide whether an identity is acceptable: that is intoto.Identity.Match, applied by the
// verify engine to the *intoto.SignerIdentity this package produces.
package trust
