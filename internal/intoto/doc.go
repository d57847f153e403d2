// Package intoto is the pure in-toto data model: layouts (v1.0), links (v0.9), in-toto Statements v1 with
// the link predicate v0.3, keys and keyids, and canonical JSON. It performs no I/O beyond decoding bytes
// it is given and knows nothing of CI platforms or the network.
package intoto
