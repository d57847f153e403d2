package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/report"
	"github.com/intoto-ci/intoto-ci/internal/runner"
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

// runStep is the whole of `run`: prepare the signer, record materials, run, record products, sign, write.
// The wrapped command's exit code is what the caller gets, unless the command succeeded and the link could
// not be signed or written (exit 3: a green job without its link would be unverifiable).
func runStep(ctx context.Context, e *env, f *recordFlags, argv []string) error {
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	// Catch paths that can never be recorded before the command spends time (and before a failure
	// could only be reported as exit 3).
	if err := f.checkPaths(); err != nil {
		return err
	}
	rec := f.recorder(e, f.linksDir)
	materials, err := rec.record(ctx, f.materials)
	if err != nil {
		return inputErr(fmt.Errorf("record materials: %w", err))
	}

	link := &intoto.Link{
		Type:        intoto.TypeLink,
		Name:        f.step,
		Command:     argv,
		Materials:   materials,
		ByProducts:  map[string]any{},
		Environment: f.environment(),
	}
	if link.Command == nil {
		link.Command = []string{}
	}
	code := 0
	if len(argv) > 0 {
		res, runErr := runner.Run(ctx, runner.Options{
			Argv:       argv,
			Env:        runner.ScrubEnv(e.environ(), signer.sensitiveEnv()),
			Stdin:      e.stdio.In,
			Stdout:     e.stdio.Out,
			Stderr:     e.stdio.Err,
			MaxCapture: f.maxCapture,
		})
		if runErr != nil {
			// The command never started (not found, not executable): there is no step to vouch for,
			// so no link is written; the exit code is the shell's (127 or 126).
			code := ExitFailure
			if res != nil {
				code = res.ExitCode
			}
			return &exitError{code: code, err: runErr}
		}
		code = res.ExitCode
		link.ByProducts = res.ByProducts()
	}

	products, err := rec.record(ctx, f.products)
	if err != nil {
		return withCommandCode(code, fmt.Errorf("record products: %w", err))
	}

	link.Products = products
	path, err := signer.links.Write(ctx, f.linksDir, link)
	if err != nil {
		return withCommandCode(code, err)
	}
	fmt.Fprintln(e.stdio.Out, path)
	if code != 0 {
		return &exitError{code: code}
	}
	return nil
}

// withCommandCode keeps the wrapped command's failure code when something after it failed too; a
// successful command whose link is lost turns into exit 3.
func withCommandCode(code int, err error) error {
	if code != 0 {
		return &exitError{code: code, err: err}
	}
	return &exitError{code: ExitFailure, err: err}
}

// recorder turns the recording flags into artifact.Options once.
type recorder struct {
	opts     artifact.Options
	progress *report.Progress
}

// recorder records as f says, leaving out linksDir (where links are written).
func (f *artifactFlags) recorder(e *env, linksDir string) *recorder {
	if abs, err := filepath.Abs(linksDir); err == nil {
		linksDir = abs
	}
	progress := report.NewProgress(e.stdio.Err, report.ProgressOptions{Mode: report.ProgressModeFor(e.stdio.Err, f.quiet)})
	return &recorder{progress: progress, opts: artifact.Options{
		BasePath:             f.basePath,
		Excludes:             f.excludes,
		DefaultExcludes:      !f.noDefaultEx,
		ExcludeDirs:          []string{linksDir},
		LStripPaths:          f.lstrip,
		FollowSymlinks:       f.followSymlinks,
		NormalizeLineEndings: f.normalizeEOL,
		Algorithms:           f.algorithms(),
	}}
}

// record records the artifacts at paths (none for no paths), showing progress.
func (r *recorder) record(ctx context.Context, paths []string) (intoto.ArtifactSet, error) {
	if len(paths) == 0 {
		return intoto.ArtifactSet{}, nil
	}
	opts := r.opts
	opts.Progress = r.progress.Hashing("hashing " + strings.Join(paths, " "))
	defer r.progress.Done()
	return artifact.Record(ctx, paths, opts)
}

// checkPaths refuses material and product paths that lie outside the base path, lexically. Paths that
// escape through symlinks are caught, and refused, when recorded.
func (f *recordFlags) checkPaths() error {
	for _, list := range []struct {
		flag  string
		paths []string
	}{{"--materials", f.materials}, {"--products", f.products}} {
		p, base, err := artifact.Outside(f.basePath, list.paths)
		if err != nil {
			return usagef("--base-path %q: %w", f.basePath, err)
		}
		if p != "" {
			return usagef("%s %q is outside the base path %s: artifacts are named relative to it (set --base-path)", list.flag, p, base)
		}
	}
	return nil
}
