// Command intoto-ci-sigstore is intoto-ci with sigstore-go linked in. intoto-ci runs it (with the
// argument keyless.ServeArg) for every keyless signature and Sigstore bundle verification, and runs it
// with its own command line for attach and verify --image (the registry client lives here too), so that
// the key-signed path pays neither's start-up; it must sit beside intoto-ci. Run by hand it is a
// complete intoto-ci that does the keyless work in-process.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/cli"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/oci/ggcr"
	"github.com/intoto-ci/intoto-ci/internal/runner"
	"github.com/intoto-ci/intoto-ci/internal/sigstore"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	var code int
	if len(os.Args) == 2 && os.Args[1] == keyless.ServeArg {
		// Stdout is the protocol channel: anything else that would print there (a library's stray
		// output) goes to stderr instead of corrupting a response.
		proto := os.Stdout
		os.Stdout = os.Stderr
		// It holds the token and the signing key while the wrapped command may run: keep its
		// environment and memory out of the command's reach (see runner.ProtectSelf).
		_ = runner.ProtectSelf()
		if err := keyless.Serve(ctx, os.Stdin, proto, os.Stderr, sigstore.Backend{}); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", keyless.HelperName, err)
			code = cli.ExitFailure
		}
	} else {
		reg := ggcr.New(ggcr.Options{Keychain: ggcr.Keychain(ci.RegistryCredentials(os.Getenv)), UserAgent: "intoto-ci/" + cli.Version()})
		code = cli.MainWith(ctx, os.Args[1:], cli.Stdio{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}, sigstore.Backend{}, reg)
	}
	stop()
	os.Exit(code)
}
