package step

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/linkfile"
	"github.com/intoto-ci/intoto-ci/internal/report"
	"github.com/intoto-ci/intoto-ci/internal/runner"
)

// Exit codes a step chooses besides the wrapped command's own.
const (
	ExitUsage   = 2 // bad paths, unreadable artifacts
	ExitFailure = 3 // operational: the link of a successful command could not be written
)

// Error carries the exit code a step chose; Err, when not nil, is the message.
type Error struct {
	Code int
	Err  error
}

func (e *Error) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit status %d", e.Code)
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Options describe one step. The names of the flags that set them appear in messages (--materials,
// --products, --base-path), so a user reads back what they typed.
type Options struct {
	Step        string
	LinksDir    string // where the link is written; never recorded
	Materials   []string
	Products    []string
	Argv        []string       // the command; empty: record without one (run --no-command)
	Environment map[string]any // the link's environment field
	// Artifacts says how files are named and hashed; LinksDir is added to its ExcludeDirs.
	Artifacts artifact.Options
	// Quiet turns off hashing progress (shown on Stderr otherwise).
	Quiet bool
	// Links signs and writes the link.
	Links *linkfile.Signer
	// Environ is the caller's environment; Sensitive names variables the command must not see.
	Environ   []string
	Sensitive []string
	Stdin     io.Reader
	Stdout    io.Writer
	Stderr    io.Writer
	// MaxCapture is how much of stdout and of stderr the link records.
	MaxCapture int64
}

// Run is the whole of `run`: check paths, record materials, run the command with a scrubbed
// environment, record products, sign and write the link, and print its path on Stdout.
func Run(ctx context.Context, o Options) error {
	// Catch paths that can never be recorded before the command spends time (and before a failure
	// could only be reported as exit 3).
	if err := CheckPaths(o.Artifacts.BasePath, o.Materials, o.Products); err != nil {
		return err
	}
	rec := NewRecorder(o.Artifacts, o.LinksDir, o.Stderr, o.Quiet)
	materials, err := rec.Record(ctx, o.Materials)
	if err != nil {
		return &Error{Code: ExitUsage, Err: fmt.Errorf("record materials: %w", err)}
	}
	link := o.link(materials)
	code := 0
	if len(o.Argv) > 0 {
		res, runErr := runner.Run(ctx, runner.Options{
			Argv:       o.Argv,
			Env:        runner.ScrubEnv(o.Environ, o.Sensitive),
			Stdin:      o.Stdin,
			Stdout:     o.Stdout,
			Stderr:     o.Stderr,
			MaxCapture: o.MaxCapture,
		})
		if runErr != nil {
			// The command never started (not found, not executable): there is no step to vouch for,
			// so no link is written; the exit code is the shell's (127 or 126).
			code := ExitFailure
			if res != nil {
				code = res.ExitCode
			}
			return &Error{Code: code, Err: runErr}
		}
		code = res.ExitCode
		link.ByProducts = res.ByProducts()
	}

	products, err := rec.Record(ctx, o.Products)
	if err != nil {
		return withCommandCode(code, fmt.Errorf("record products: %w", err))
	}
	link.Products = products
	path, err := o.Links.Write(ctx, o.LinksDir, link)
	if err != nil {
		return withCommandCode(code, err)
	}
	fmt.Fprintln(o.Stdout, path)
	if code != 0 {
		return &Error{Code: code}
	}
	return nil
}

// link is the step's link before the command runs.
func (o *Options) link(materials intoto.ArtifactSet) *intoto.Link {
	link := &intoto.Link{
		Type:        intoto.TypeLink,
		Name:        o.Step,
		Command:     o.Argv,
		Materials:   materials,
		ByProducts:  map[string]any{},
		Environment: o.Environment,
	}
	if link.Command == nil {
		link.Command = []string{}
	}
	if link.Environment == nil {
		link.Environment = map[string]any{}
	}
	return link
}

// withCommandCode keeps the wrapped command's failure code when something after it failed too; a
// successful command whose link is lost turns into exit 3.
func withCommandCode(code int, err error) error {
	if code != 0 {
		return &Error{Code: code, Err: err}
	}
	return &Error{Code: ExitFailure, Err: err}
}

// Start is `record start`: record the materials and write the unfinished link (signed, so that
// Stop can check it came from the same signer).
func Start(ctx context.Context, o Options) error {
	materials, err := NewRecorder(o.Artifacts, o.LinksDir, o.Stderr, o.Quiet).Record(ctx, o.Materials)
	if err != nil {
		return &Error{Code: ExitUsage, Err: fmt.Errorf("record materials: %w", err)}
	}
	o.Argv = nil
	path, err := o.Links.Start(ctx, o.LinksDir, o.link(materials))
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Stdout, path)
	return nil
}

// Stop is `record stop`: check the unfinished link u against this signer (trustedRoot: keyless
// only), record the products and write the finished link. linkfile's errors come back as they are.
func Stop(ctx context.Context, o Options, u *linkfile.Unfinished, trustedRoot string) error {
	if err := o.Links.Check(ctx, u, o.Step, trustedRoot); err != nil {
		return err
	}
	products, err := NewRecorder(o.Artifacts, o.LinksDir, o.Stderr, o.Quiet).Record(ctx, o.Products)
	if err != nil {
		return &Error{Code: ExitUsage, Err: fmt.Errorf("record products: %w", err)}
	}
	out, err := o.Links.Finish(ctx, o.LinksDir, u, products)
	if err != nil {
		return err
	}
	fmt.Fprintln(o.Stdout, out)
	return nil
}

// Recorder records artifacts with one set of options, showing progress.
type Recorder struct {
	opts     artifact.Options
	progress *report.Progress
}

// NewRecorder records as opts says, leaving out linksDir (where links are written); progress goes
// to stderr unless quiet.
func NewRecorder(opts artifact.Options, linksDir string, stderr io.Writer, quiet bool) *Recorder {
	progress := report.NewProgress(stderr, report.ProgressOptions{Mode: report.ProgressModeFor(stderr, quiet)})
	if abs, err := filepath.Abs(linksDir); err == nil {
		linksDir = abs
	}
	opts.ExcludeDirs = append(append([]string(nil), opts.ExcludeDirs...), linksDir)
	return &Recorder{opts: opts, progress: progress}
}

// Record records the artifacts at paths (none for no paths).
func (r *Recorder) Record(ctx context.Context, paths []string) (intoto.ArtifactSet, error) {
	if len(paths) == 0 {
		return intoto.ArtifactSet{}, nil
	}
	opts := r.opts
	opts.Progress = r.progress.Hashing("hashing " + strings.Join(paths, " "))
	defer r.progress.Done()
	return artifact.Record(ctx, paths, opts)
}

// CheckPaths refuses material and product paths that lie outside the base path, lexically (exit 2).
// Paths that escape through symlinks are caught, and refused, when recorded.
func CheckPaths(basePath string, materials, products []string) error {
	for _, list := range []struct {
		flag  string
		paths []string
	}{{"--materials", materials}, {"--products", products}} {
		p, base, err := artifact.Outside(basePath, list.paths)
		if err != nil {
			return &Error{Code: ExitUsage, Err: fmt.Errorf("--base-path %q: %w", basePath, err)}
		}
		if p != "" {
			return &Error{Code: ExitUsage, Err: fmt.Errorf("%s %q is outside the base path %s: artifacts are named relative to it (set --base-path)", list.flag, p, base)}
		}
	}
	return nil
}
