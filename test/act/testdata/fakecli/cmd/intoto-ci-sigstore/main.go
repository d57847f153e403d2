// Command intoto-ci-sigstore stands in for the keyless helper the action installs beside intoto-ci. The
// plumbing test never signs keyless, so running it is an error.
package main

import (
	"fmt"
	"os"
)

func main() {
	fmt.Fprintln(os.Stderr, "fake intoto-ci-sigstore: the plumbing test does no keyless work")
	os.Exit(3)
}
