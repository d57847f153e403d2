// Command intoto-ci wraps CI steps into signed in-toto links and verifies them against a layout.
//
// It does not link Sigstore: keyless signing and bundle verification run in intoto-ci-sigstore, which
// must sit beside it (see internal/keyless). Key-signed steps and key-only verification never start it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/intoto-ci/intoto-ci/internal/cli"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, keyless.Exec{})
	stop()
	os.Exit(code)
}
