// Package faults holds only tests: the intoto-ci binary facing failing signing services (OIDC token
// endpoint, Fulcio, TSA, Rekor: refused, 500, hanging, garbage), a full or read-only links directory,
// and the wrapped command's exit codes, signals, huge output and stdin. Service faults need the loopback
// Sigstore stack (`unshare -n`); filesystem faults need `unshare -m` (root).
package faults
