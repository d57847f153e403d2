// Package intoto is the pure in-toto data model: layouts (v1.0), links (v0.9), in-toto Statements v1 with
// the link predicate v0.3, the layout's public key records, and canonical JSON. It performs no I/O beyond
// decoding bytes it is given, does no key cryptography (internal/keys reads, identifies and uses keys) and
// knows nothing of CI platforms or the network.
package intoto
