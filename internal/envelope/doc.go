// Package envelope reads and writes the signature wrappers of in-toto metadata: the legacy
// {"signed", "signatures"} envelope (hex signatures over canonical JSON), DSSE (base64 signatures over
// the pre-authentication encoding) and, for detection only, Sigstore bundles. Signatures are always
// checked over the bytes as received, never over a re-encoded struct.
package envelope
