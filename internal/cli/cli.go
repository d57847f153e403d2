package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/oci"
	"github.com/intoto-ci/intoto-ci/internal/runner"
)

// Exit codes, defined once. verify: 0 verified, 1 refused, 2 usage or unreadable input, 3 operational
// failure. run returns the wrapped command's code, or ExitFailure when the command succeeded but its link
// could not be signed or written.
const (
	ExitOK      = 0
	ExitRefused = 1
	ExitUsage   = 2
	ExitFailure = 3
)

// Stdio carries the process streams so every command can run in-process in tests.
type Stdio struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// env is where commands read the process environment from; tests inject their own.
type env struct {
	stdio   Stdio
	getenv  func(string) string
	environ func() []string
	logger  *slog.Logger
	// keyless signs and verifies Sigstore bundles: in intoto-ci it runs intoto-ci-sigstore, in
	// intoto-ci-sigstore (and the tests) it is sigstore-go in-process.
	keyless keyless.Backend
	// registry talks to OCI registries (attach, verify --image). nil in intoto-ci, which then runs
	// those commands in intoto-ci-sigstore so that its start-up never pays for a registry client.
	registry oci.Client
	// tuneGC lets a command set the process's GC for its workload (verify); off in-process in tests.
	tuneGC bool
}

// command is one subcommand: its flags are declared by setup on a fresh FlagSet for every invocation.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, e *env, args []string) error
	// subs are the subcommands of a command that has them (key, layout, record, trusted-root); run
	// then dispatches to them (see withSubcommands).
	subs []subcommand
}

// subcommand is one verb of a command with subcommands; args are those after the verb.
type subcommand struct {
	name string
	run  func(ctx context.Context, e *env, args []string) error
}

// withSubcommands makes c dispatch to subs, the one dispatcher of every command that has
// subcommands: no verb is a usage error, -h, --help and help print the command's usage (exit 0).
func withSubcommands(c *command, subs ...subcommand) *command {
	c.subs = subs
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	want := names[0]
	if len(names) > 1 {
		want = strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 {
			return usagef("%s needs a subcommand: %s", c.name, want)
		}
		for _, s := range subs {
			if s.name == args[0] {
				return s.run(ctx, e, args[1:])
			}
		}
		switch args[0] {
		case "-h", "--help", "help":
			fmt.Fprintf(e.stdio.Err, "Usage: intoto-ci %s %s\n\n%s\n", c.name, c.usage, c.summary)
			return nil
		}
		return usagef("unknown %s subcommand %q (want %s)", c.name, args[0], want)
	}
	return c
}

// exitError carries the exit code a command chose: ExitUsage for bad flags, arguments or unreadable
// input, ExitRefused for a verification that said no (its report already printed), the wrapped
// command's own code. err, when there is one, is printed; any other error is ExitFailure.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// inputErr marks input that could not be read or parsed (exit 2).
func inputErr(err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: ExitUsage, err: err}
}

// refused is a verification that completed and said no (exit 1).
func refused(reason string) error { return &exitError{code: ExitRefused, err: errors.New(reason)} }

func commands() []*command {
	return []*command{
		runCommand(),
		recordCommand(),
		verifyCommand(),
		attachCommand(),
		layoutCommand(),
		verifyVSACommand(),
		signCommand(),
		keyCommand(),
		trustedRootCommand(),
		matchProductsCommand(),
		demoCommand(),
		versionCommand(),
	}
}

// Main runs intoto-ci with args (without the program name) and returns the process exit code. kb does
// the keyless work (see package keyless).
func Main(ctx context.Context, args []string, stdio Stdio, kb keyless.Backend) int {
	return MainWith(ctx, args, stdio, kb, nil)
}

// MainWith is Main with reg doing the registry work of attach and verify --image (nil: run those
// commands in intoto-ci-sigstore, see runInHelper).
func MainWith(ctx context.Context, args []string, stdio Stdio, kb keyless.Backend, reg oci.Client) int {
	// Before anything is read: the commands run and verify run must not read this process's
	// environment or memory through /proc. Failing to is not fatal (no such protection elsewhere).
	_ = runner.ProtectSelf()
	return mainEnv(ctx, args, &env{stdio: stdio, getenv: osGetenv, environ: osEnviron, keyless: kb, registry: reg, tuneGC: true})
}

func mainEnv(ctx context.Context, args []string, e *env) int {
	if e.keyless == nil {
		e.keyless = keyless.Exec{Stderr: e.stdio.Err}
	}
	if e.logger == nil {
		e.logger = slog.New(slog.NewTextHandler(e.stdio.Err, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(e.stdio.Err, cmds)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	var cmd *command
	for _, c := range cmds {
		if c.name == args[0] {
			cmd = c
		}
	}
	if cmd == nil {
		fmt.Fprintf(e.stdio.Err, "intoto-ci: unknown command %q (run 'intoto-ci help')\n", args[0])
		return ExitUsage
	}
	err := cmd.run(ctx, e, args[1:])
	return exitCode(e.stdio.Err, cmd.name, err)
}

func exitCode(stderr io.Writer, name string, err error) int {
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil { // the whole message: a usage or input error may be wrapped with context
			fmt.Fprintf(stderr, "intoto-ci %s: %s\n", name, oneLine(err.Error()))
		}
		return ee.code
	}
	fmt.Fprintf(stderr, "intoto-ci %s: %s\n", name, oneLine(err.Error()))
	return ExitFailure
}

// oneLine keeps an error message on one line, as CI logs and annotations need.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

func printUsage(w io.Writer, cmds []*command) {
	fmt.Fprintln(w, "intoto-ci: in-toto for CI — record, sign and verify supply-chain steps")
	fmt.Fprintln(w, "\nUsage: intoto-ci <command> [flags] [-- command…]\n\nCommands:")
	sorted := append([]*command(nil), cmds...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		fmt.Fprintf(w, "  %-15s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nExit codes: 0 ok/verified, 1 refused, 2 usage or unreadable input, 3 operational failure.")
	fmt.Fprintln(w, "Run 'intoto-ci <command> -h' for a command's flags.")
}

// newFlagSet returns a FlagSet that reports errors instead of exiting and prints usage to stderr.
func newFlagSet(e *env, c *command) *flag.FlagSet {
	fs := flag.NewFlagSet("intoto-ci "+c.name, flag.ContinueOnError)
	fs.SetOutput(e.stdio.Err)
	fs.Usage = func() {
		fmt.Fprintf(e.stdio.Err, "Usage: intoto-ci %s %s\n\n%s\n\nFlags:\n", c.name, c.usage, c.summary)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args, mapping flag errors to usage errors.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &exitError{code: ExitUsage}
	}
	return nil
}

// outputFlag declares where a command writes: --output, and -o as its short spelling. Every command
// that writes a file takes both, with one meaning.
func outputFlag(fs *flag.FlagSet, p *string, value, usage string) {
	fs.StringVar(p, "output", value, usage)
	fs.StringVar(p, "o", value, "short for --output")
}

// stringList is a repeatable flag taking one value per occurrence.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
