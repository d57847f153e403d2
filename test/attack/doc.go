// Package attack holds only tests: each drives the intoto-ci binary through one attack on a supply
// chain — an honest chain verifies, the tampered copy (its evidence re-signed with a key or identity
// the layout trusts, so signatures alone cannot catch it) is refused at the right stage and step.
// Keyless attacks need the loopback Sigstore stack (run under `unshare -n`); see keyless_test.go.
package attack
