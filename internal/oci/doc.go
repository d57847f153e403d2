// Package oci describes how a verified in-toto chain travels with a container image: every link, the
// signed layout and the VSA become OCI 1.1 referrers of the image's manifest digest (one artifact
// manifest each, subject = the image), with artifact types that say what each file is. Registries
// without the referrers API keep them in the referrers tag schema (a `sha256-<hex>` index).
//
// This package holds only the types and the Client interface, so that the lean intoto-ci binary does
// not link a registry client: package ggcr implements Client with go-containerregistry and is linked
// into intoto-ci-sigstore only (intoto-ci runs it for attach and verify --image).
//
// Nothing here decides trust: what a Client fetches is untrusted input for the verify pipeline, which
// checks it against a layout pinned by the user.
package oci
