// Package sigstore signs and verifies in-toto payloads keylessly with Sigstore (sigstore-go v1.3.0):
// Keyless turns an OIDC identity token into a Fulcio certificate, a DSSE signature, RFC 3161
// timestamps and Rekor entries, packed in a Sigstore bundle v0.3; KeylessVerifier checks such a
// bundle against a trusted root and returns the payload and the signer's identity. Backend serves
// keyless.Backend with them, and with sigstore-go's reading of signing configs (Resolve) and an
// unverified reading of a bundle's certificate identity (BundleSigner). It is linked into
// intoto-ci-sigstore only.
//
// Identity policy is not applied here: the verify engine matches the returned
// *intoto.SignerIdentity against the layout's intoto.Identity.
package sigstore
