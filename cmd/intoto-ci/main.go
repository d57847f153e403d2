// Command intoto-ci wraps CI steps into signed in-toto links and verifies them against a layout.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/intoto-ci/intoto-ci/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
