//go:build !unix

package verify

import "os"

// openRead is os.Open.
func openRead(path string) (*os.File, error) { return os.Open(path) }
