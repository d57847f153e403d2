package cli

import (
	"context"
	"errors"

	"github.com/intoto-ci/intoto-ci/internal/linkfile"
	"github.com/intoto-ci/intoto-ci/internal/step"
)

func recordCommand() *command {
	c := &command{
		name:    "record",
		summary: "record a step that is not one command: 'record start' before it, 'record stop' after it",
		usage:   "start|stop --step NAME [--materials P…|--products P…] [flags]",
	}
	record := func(start bool) func(ctx context.Context, e *env, args []string) error {
		return func(ctx context.Context, e *env, args []string) error {
			fs := newFlagSet(e, c)
			var f recordFlags
			f.declare(fs)
			trustedRoot := fs.String("trusted-root", "", "keyless: sigstore trusted_root.json `file` that record stop checks the signature of record start against (default: public-good via TUF)")
			if err := parseFlags(fs, args); err != nil {
				return err
			}
			if err := f.check(); err != nil {
				return err
			}
			if fs.NArg() > 0 {
				return usagef("record takes no command; use run to wrap one")
			}
			if start {
				return recordStart(ctx, e, &f)
			}
			return recordStop(ctx, e, &f, *trustedRoot)
		}
	}
	return withSubcommands(c, subcommand{"start", record(true)}, subcommand{"stop", record(false)})
}

func recordStart(ctx context.Context, e *env, f *recordFlags) error {
	if len(f.products) > 0 {
		return usagef("record start records materials; give --products to record stop")
	}
	// Fail now, not after the step, if signing cannot work.
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	return stepErr(step.Start(ctx, f.stepOptions(e, signer)))
}

func recordStop(ctx context.Context, e *env, f *recordFlags, trustedRoot string) error {
	if len(f.materials) > 0 {
		return usagef("record stop records products; give --materials to record start")
	}
	u, err := linkfile.ReadUnfinished(f.linksDir, f.step)
	if err != nil {
		return linkfileErr(err)
	}
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	return linkfileErr(stepErr(step.Stop(ctx, f.stepOptions(e, signer), u, trustedRoot)))
}

// linkfileErr gives linkfile's verdicts their exit codes: a refusal 1, an unreadable file or another
// job's 2; anything else stays operational (3).
func linkfileErr(err error) error {
	var no *linkfile.Refused
	var input *linkfile.InputError
	var job *linkfile.JobError
	switch {
	case errors.As(err, &no):
		return refused(no.Reason)
	case errors.As(err, &input):
		return inputErr(err)
	case errors.As(err, &job):
		return usagef("%w", err)
	}
	return err
}
