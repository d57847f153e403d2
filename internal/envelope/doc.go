// Package envelope is the signed-file side of in-toto metadata: Signed (a parsed legacy envelope,
// DSSE envelope or, for detection only, Sigstore bundle), the checking of its signatures with keys,
// and the sealing of documents with keys. Signatures are always checked over the bytes as received,
// never over a re-encoded struct. The bytes themselves (parsing, the envelope layout, pretty
// printing, the DSSE PAE, canonical JSON) are package wire's.
package envelope
