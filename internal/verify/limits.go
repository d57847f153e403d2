package verify

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrLimit is wrapped by the errors of files that exceed one of the Limits.
var ErrLimit = errors.New("limit exceeded")

// checkJSONDepth refuses JSON nested deeper than max, before any decoder recurses into it. It scans
// brackets outside strings (skipped with IndexByte: they are most of a link); malformed JSON is left
// to the decoder.
func checkJSONDepth(data []byte, max int) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			for { // to the closing quote: one preceded by an even number of backslashes
				j := bytes.IndexByte(data[i+1:], '"')
				if j < 0 {
					return nil // unterminated string
				}
				i += 1 + j
				n := 0
				for data[i-1-n] == '\\' { // stops at the opening quote at the latest
					n++
				}
				if n%2 == 0 {
					break
				}
			}
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: JSON nested deeper than %d levels", ErrLimit, max)
			}
		case '}', ']':
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
		if n := c.link.Materials.Len() + c.link.Products.Len(); n > l.MaxArtifacts {
			return fmt.Errorf("%w: %d artifacts, more than %d", ErrLimit, n, l.MaxArtifacts)
		}
	}
	return nil
}
