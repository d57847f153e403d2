package verify

import (
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// ErrLimit is wrapped by the errors of files that exceed one of the Limits.
var ErrLimit = errors.New("limit exceeded")

// checkJSONDepth refuses JSON nested deeper than max (wire.CheckDepth), as a limit.
func checkJSONDepth(data []byte, max int) error {
	if err := wire.CheckDepth(data, max); err != nil {
		return fmt.Errorf("%w: %w", ErrLimit, err)
	}
	return nil
}

// checkCandidate refuses a decoded file with too many signatures or artifacts.
func (l Limits) checkCandidate(c *candidate) error {
	if n := len(c.signed.Signatures); n > l.MaxSignatures {
		return fmt.Errorf("%w: %d signatures, more than %d", ErrLimit, n, l.MaxSignatures)
	}
	if c.link != nil {
		if n := c.link.Materials.Len() + c.link.Products.Len(); n > l.MaxArtifacts {
			return fmt.Errorf("%w: %d artifacts, more than %d", ErrLimit, n, l.MaxArtifacts)
		}
	}
	return nil
}
