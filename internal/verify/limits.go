package verify

import (
	"errors"
	"fmt"
)

// ErrLimit is wrapped by the errors of files that exceed one of the Limits.
var ErrLimit = errors.New("limit exceeded")

// checkJSONDepth refuses JSON nested deeper than max, before any decoder recurses into it. It scans
// brackets outside strings; malformed JSON is left to the decoder.
func checkJSONDepth(data []byte, max int) error {
	depth, inString, escaped := 0, false, false
	for _, b := range data {
		switch {
		case inString && escaped:
			escaped = false
		case inString && b == '\\':
			escaped = true
		case inString && b == '"':
			inString = false
		case inString:
		case b == '"':
			inString = true
		case b == '{' || b == '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: JSON nested deeper than %d levels", ErrLimit, max)
			}
		case b == '}' || b == ']':
			depth--
		}
	}
	return nil
}

// checkCandidate refuses a decoded file with too many signatures or artifacts.
func (l Limits) checkCandidate(c *candidate) error {
	if n := len(c.signed.Signatures); n > l.MaxSignatures {
		return fmt.Errorf("%w: %d signatures, more than %d", ErrLimit, n, l.MaxSignatures)
	}
	if c.link != nil {
		if n := len(c.link.Materials) + len(c.link.Products); n > l.MaxArtifacts {
			return fmt.Errorf("%w: %d artifacts, more than %d", ErrLimit, n, l.MaxArtifacts)
		}
	}
	return nil
}
