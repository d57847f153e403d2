// Package artifact records materials and products: it walks the given paths below a base directory,
// applies exclude patterns, names each regular file by its forward-slash path relative to the base and
// hashes it. Walking and hashing run on a bounded worker pool; the result does not depend on scheduling.
//
// Semantics follow in-toto-python 1.3.1 (in_toto/runlib.py record_artifacts_as_dict), the reference
// implementation, except where recording would leave the base directory; see Record.
package artifact
