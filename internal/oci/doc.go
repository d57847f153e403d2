// Package oci attaches a verified in-toto chain to a container image in an OCI registry and reads it
// back: every link, the signed layout and the VSA become OCI 1.1 referrers of the image's manifest
// digest (one artifact manifest each, subject = the image), through go-containerregistry. Registries
// without the referrers API get the referrers tag schema (`sha256-<hex>` index) from the same library.
//
// Nothing here decides trust: what Fetch returns is untrusted input for the verify pipeline, which
// checks it against a layout pinned by the user.
package oci
