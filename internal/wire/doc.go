// Package wire holds every wire format of intoto-ci in one place: the one JSON scanner and what
// reads through it (canonical JSON, the one-pass link decoders, the duplicate-member and depth
// checks), the link JSON and in-toto Statement encoders written straight from artifact sets, and the
// bytes of DSSE and legacy envelopes (parsing, the sealed layout, pretty printing, the DSSE PAE).
//
// Every fast path here answers only for the plain shape the peers write and says ok=false for
// anything else, which then takes the general path through encoding/json (the intoto types' own
// MarshalJSON and UnmarshalJSON, LinkToStatement): the tests and fuzz targets hold the fast paths
// to that oracle.
package wire
