package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

func trustedRootCommand() *command {
	c := &command{
		name:    "trusted-root",
		summary: "write a Sigstore trusted_root.json: from service certificate chains and keys, or fetched through TUF",
		usage: "create [--fulcio url=U,certificate-chain=F]… [--tsa url=U,certificate-chain=F]… " +
			"[--rekor url=U,public-key=F,start-time=T[,origin=HOST]]… [--ctfe url=U,public-key=F,start-time=T]… -o FILE |\n" +
			"       fetch [--tuf-url URL --tuf-root root.json] [--cache-dir DIR] -o FILE",
	}
	return withSubcommands(c,
		subcommand{"create", func(ctx context.Context, e *env, args []string) error { return trustedRootCreate(ctx, e, c, args) }},
		subcommand{"fetch", func(ctx context.Context, e *env, args []string) error { return trustedRootFetch(ctx, e, c, args) }})
}

func trustedRootCreate(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlagSet(e, c)
	var fulcio, tsa, rekor, ctfe stringList
	fs.Var(&fulcio, "fulcio", "a Fulcio `url=URL,certificate-chain=FILE` (PEM, root last; repeatable)")
	fs.Var(&tsa, "tsa", "a timestamp authority `url=URL,certificate-chain=FILE` (PEM: signing leaf first, root last; repeatable)")
	fs.Var(&rekor, "rekor", "a Rekor log `url=URL,public-key=FILE,start-time=RFC3339[,origin=HOST]`: origin (the log's "+
		"--hostname, which must be URL's host) makes it a Rekor v2 log (repeatable)")
	fs.Var(&ctfe, "ctfe", "a certificate transparency log `url=URL,public-key=FILE,start-time=RFC3339` (repeatable)")
	out := new(string)
	outputFlag(fs, out, "", "output `file` (- for stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return usagef("trusted-root create needs -o FILE and no arguments")
	}
	spec, err := keyless.ParseTrustedRootSpec(keyless.ServiceSpecs{Fulcio: fulcio, TSAs: tsa, Rekors: rekor, CTLogs: ctfe})
	if err != nil {
		return serviceSpecErr(err)
	}
	data, err := e.keyless.TrustedRoot(ctx, keyless.TrustedRootRequest{Create: spec})
	if errors.Is(err, keyless.ErrUnavailable) {
		return fmt.Errorf("create trusted root: %w", err) // no helper: operational, not the input's fault
	} else if err != nil {
		return inputErr(fmt.Errorf("create trusted root: %w", err))
	}
	return writeTrustedRoot(e, *out, data)
}

func trustedRootFetch(ctx context.Context, e *env, c *command, args []string) error {
	fs := newFlagSet(e, c)
	tufURL := fs.String("tuf-url", "", "TUF repository `URL` (default: the public-good Sigstore repository)")
	tufRoot := fs.String("tuf-root", "", "the repository's initial root.json `file` (required with --tuf-url)")
	cacheDir := fs.String("cache-dir", "", "TUF metadata cache `directory` (default $HOME/.sigstore/root)")
	out := new(string)
	outputFlag(fs, out, "", "output `file` (- for stdout)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() > 0 {
		return usagef("trusted-root fetch needs -o FILE and no arguments")
	}
	if (*tufURL == "") != (*tufRoot == "") {
		return usagef("--tuf-url and --tuf-root go together")
	}
	spec := &keyless.TUFSpec{URL: *tufURL, CacheDir: *cacheDir}
	if *tufRoot != "" {
		b, err := os.ReadFile(*tufRoot)
		if err != nil {
			return inputErr(fmt.Errorf("--tuf-root: %w", err))
		}
		spec.RootJSON = b
	}
	data, err := e.keyless.TrustedRoot(ctx, keyless.TrustedRootRequest{Fetch: spec})
	if err != nil {
		return fmt.Errorf("fetch trusted root: %w", err) // the network or the repository: operational
	}
	return writeTrustedRoot(e, *out, data)
}

func writeTrustedRoot(e *env, out string, data []byte) error {
	if out == "-" {
		_, err := e.stdio.Out.Write(data)
		return err
	}
	if err := writeFileAtomic(out, data); err != nil {
		return err
	}
	fmt.Fprintf(e.stdio.Err, "wrote %s\n", out)
	return nil
}

// serviceSpecErr gives a spec's errors their exit code: written wrongly, a usage error; a file it names
// unreadable, unreadable input.
func serviceSpecErr(err error) error {
	var se *keyless.SpecError
	if errors.As(err, &se) {
		return &exitError{code: ExitUsage, err: err}
	}
	return inputErr(err)
}
