package keys

import "github.com/intoto-ci/intoto-ci/internal/intoto"

// Key is a key read from a file or generated: the record a layout lists (intoto.Key, whose JSON fields
// it shares, keyval.private included when it has one) and how it signs.
type Key struct {
	intoto.Key

	// hashByScheme makes Sign hash an ECDSA signature by the scheme label (in-toto-python's way)
	// rather than by the curve size (in-toto-golang's); set for securesystemslib JSON private keys.
	hashByScheme bool
}
