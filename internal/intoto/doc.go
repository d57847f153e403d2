// Package intoto is the in-toto data model: layouts (v1.0), links (v0.9) and their artifact sets,
// steps, inspections, the layout's public key records, keyless identities, names, validation and
// parameter substitution. Its types read and write themselves through encoding/json (the general
// path); the fast wire formats (the scanner, canonical JSON, link and Statement JSON, envelopes) are
// in package wire. It performs no I/O beyond decoding bytes it is given, does no key cryptography
// (internal/keys reads, identifies and uses keys) and knows nothing of CI platforms or the network.
package intoto
