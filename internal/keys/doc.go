// Package keys reads, generates, identifies and uses the keys of key-signed in-toto work: PEM (PKCS#8,
// PKIX, PKCS#1, SEC1, certificates; encrypted PKCS#8 PBES1/PBES2 and legacy OpenSSL PEM) and
// securesystemslib JSON key files, keyids as both peers compute them, signing and verifying with the
// peers' schemes (ed25519, ecdsa-sha2-nistp*, rsassa-pss-sha256), and PreparedKey for verifying many
// signatures with one key. A layout lists keys as intoto.Key records; Key adds to such a record what
// signing needs, and the functions taking an *intoto.Key work on records read from a layout.
package keys
