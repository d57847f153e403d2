// Package conformance holds only tests: they drive the intoto-ci binary against the real in-toto
// peers (in-toto-python 1.3.1 and in-toto-golang v0.11.0) and the interop vectors in
// testdata/interop. See scripts/interop-vectors.sh.
package conformance
