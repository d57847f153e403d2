package cli

import (
	"context"
	"errors"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/step"
)

func runCommand() *command {
	c := &command{
		name:    "run",
		summary: "run a command, record its materials and products, and write a signed link",
		usage:   "--step NAME [--key FILE | --signing keyless] [--materials P]… [--products P]… [flags] -- CMD [ARG…]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		var f recordFlags
		f.declare(fs)
		noCommand := fs.Bool("no-command", false, "record materials and products without running a command")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if err := f.check(); err != nil {
			return err
		}
		argv := fs.Args()
		if *noCommand && len(argv) > 0 {
			return usagef("--no-command takes no command after --")
		}
		if !*noCommand && len(argv) == 0 {
			return usagef("no command to run: put it after -- (or pass --no-command)")
		}
		return runStep(ctx, e, &f, argv)
	}
	return c
}

// runStep hands run's flags to step.Run. The wrapped command's exit code is what the caller gets,
// unless the command succeeded and the link could not be signed or written (exit 3).
func runStep(ctx context.Context, e *env, f *recordFlags, argv []string) error {
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	o := f.stepOptions(e, signer)
	o.Argv = argv
	o.Environ = e.environ()
	o.Sensitive = signer.sensitiveEnv()
	o.Stdin = e.stdio.In
	o.MaxCapture = f.maxCapture
	return stepErr(step.Run(ctx, o))
}

// stepOptions are the options run and record share.
func (f *recordFlags) stepOptions(e *env, signer *linkSigner) step.Options {
	return step.Options{
		Step:        f.step,
		LinksDir:    f.linksDir,
		Materials:   f.materials,
		Products:    f.products,
		Environment: f.environment(),
		Artifacts:   f.artifactOptions(),
		Quiet:       f.quiet,
		Links:       signer.links,
		Stdout:      e.stdio.Out,
		Stderr:      e.stdio.Err,
	}
}

// stepErr gives step's exit codes to the CLI's error; other errors pass as they are.
func stepErr(err error) error {
	var se *step.Error
	if errors.As(err, &se) {
		return &exitError{code: se.Code, err: se.Err}
	}
	return err
}

// artifactOptions are the artifact flags as artifact.Options.
func (f *artifactFlags) artifactOptions() artifact.Options {
	return artifact.Options{
		BasePath:             f.basePath,
		Excludes:             f.excludes,
		DefaultExcludes:      !f.noDefaultEx,
		LStripPaths:          f.lstrip,
		FollowSymlinks:       f.followSymlinks,
		NormalizeLineEndings: f.normalizeEOL,
		Algorithms:           f.algorithms(),
	}
}
