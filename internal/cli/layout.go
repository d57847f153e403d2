package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/layout"
)

// layoutCommand groups the authoring subcommands: build, sign, init, lint.
func layoutCommand() *command {
	c := &command{
		name:    "layout",
		summary: "write layouts: build YAML into root.layout, sign it, propose one from a run (init), lint it",
		usage: "build FILE.yaml [-o root.layout] | sign --file FILE (--key F… | --signing keyless) [--output F] |\n" +
			"       init --links-dir DIR [--key PUB…] [-o layout.yaml] | lint FILE [--json]",
	}
	return withSubcommands(c,
		subcommand{"build", func(_ context.Context, e *env, args []string) error { return layoutBuild(e, args) }},
		subcommand{"sign", layoutSign},
		subcommand{"init", func(_ context.Context, e *env, args []string) error { return layoutInit(e, args) }},
		subcommand{"lint", func(_ context.Context, e *env, args []string) error { return layoutLint(e, args) }})
}

func subFlagSet(e *env, name, usage, summary string) *flag.FlagSet {
	return newFlagSet(e, &command{name: "layout " + name, usage: usage, summary: summary})
}

// parseInterspersed parses flags that may come after the positional argument ("build x.yaml -o y").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

func layoutBuild(e *env, args []string) error {
	fs := subFlagSet(e, "build", "FILE.yaml [-o root.layout]", "compile a YAML layout to in-toto v1.0 JSON (unsigned; then: layout sign)")
	var out string
	outputFlag(fs, &out, "root.layout", "output `file` (- for stdout)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("layout build takes one YAML file")
	}
	data, findings, err := layout.Build(pos[0])
	if err != nil {
		return layoutErr(err)
	}
	for _, f := range findings {
		fmt.Fprintf(e.stdio.Err, "%s: warning: %s\n", pos[0], f)
	}
	return writeOutput(e, out, data)
}

// layoutSign signs a compiled layout (or compiles a YAML one first) with keys or keyless: the same
// flags and output as `intoto-ci sign`.
func layoutSign(ctx context.Context, e *env, args []string) error {
	fs := subFlagSet(e, "sign", "--file FILE (--key FILE… | --signing keyless) [--output FILE]",
		"sign a layout (a YAML one is built first): keys add DSSE signatures, keyless writes a Sigstore bundle")
	var f signFlags
	f.declare(fs)
	file := fs.String("file", "", "layout `file`: root.layout, or layout.yaml to build and sign (required)")
	output := new(string)
	outputFlag(fs, output, "", "where to write (default: in place; for YAML root.layout; keyless: FILE.sigstore.json)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if *file == "" && len(pos) == 1 {
		*file = pos[0]
	} else if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *file == "" {
		return usagef("--file is required")
	}
	if err := f.check(); err != nil {
		return err
	}
	if layout.IsYAML(*file) {
		data, _, err := layout.Build(*file)
		if err != nil {
			return layoutErr(err)
		}
		target := *output
		if target == "" {
			target = layout.BuiltPath(*file)
		}
		if err := writeFileAtomic(target, data); err != nil {
			return err
		}
		*file, *output = target, ""
		if mode, _ := f.mode(); mode == "keyless" {
			*output = target + ".sigstore.json"
		}
	}
	return runSign(ctx, e, &f, *file, *output)
}

func layoutLint(e *env, args []string) error {
	fs := subFlagSet(e, "lint", "FILE [--json]", "warn about layout mistakes (YAML, or a compiled/signed layout); exit 1 when there are findings")
	asJSON := fs.Bool("json", false, "print the findings as JSON")
	soon := fs.Duration("expires-within", layout.DefaultSoon, "warn when the layout expires within this `duration`")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("layout lint takes one layout file")
	}
	path := pos[0]
	doc, err := layout.ReadDocument(path)
	if err != nil {
		return inputErr(err)
	}
	findings := layout.Lint(doc, layout.LintOptions{Soon: *soon})
	if err := layout.WriteFindings(e.stdio.Out, path, findings, *asJSON); err != nil {
		return err
	}
	if len(findings) > 0 {
		return refused(fmt.Sprintf("%d finding%s", len(findings), pluralS(len(findings))))
	}
	return nil
}

func layoutInit(e *env, args []string) error {
	fs := subFlagSet(e, "init", "--links-dir DIR [--key PUB…] [-o layout.yaml]",
		"propose a YAML layout from the links of a real run (it verifies that run; review it before signing)")
	linksDir := fs.String("links-dir", ".", "`dir`ectory holding the run's links")
	var keys stringList
	fs.Var(&keys, "key", "public key `file` of a functionary, named after the file (repeatable)")
	var out string
	outputFlag(fs, &out, "-", "output `file` (- for stdout)")
	validity := fs.Duration("valid-for", 365*24*time.Hour, "expiry of the proposal from now")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	// A bundle's identity is read by the helper; without one, init stops (operational) rather than
	// listing every keyless link as skipped.
	var unavailable error
	p, err := layout.Init(layout.InitOptions{LinksDir: *linksDir, KeyPaths: keys, Out: out, Validity: *validity,
		Signer: func(data []byte) (*intoto.SignerIdentity, error) {
			id, err := e.keyless.BundleSigner(context.Background(), data)
			if errors.Is(err, keyless.ErrUnavailable) && unavailable == nil {
				unavailable = err
			}
			return id, err
		}})
	if unavailable != nil {
		return unavailable
	} else if err != nil {
		return layoutErr(err)
	}
	for _, s := range p.Skipped {
		fmt.Fprintf(e.stdio.Err, "layout init: skipped %s\n", s)
	}
	for _, name := range slices.Sorted(maps.Keys(p.Unfilled)) {
		fmt.Fprintf(e.stdio.Err, "layout init: functionary %s: no --key given for it; fill in %s\n", name, p.Unfilled[name])
	}
	return writeOutput(e, out, p.YAML)
}

// writeOutput writes data to stdout for "-", else atomically to the file out and prints its name.
func writeOutput(e *env, out string, data []byte) error {
	if out == "-" {
		_, err := e.stdio.Out.Write(data)
		return err
	}
	if err := writeFileAtomic(out, data); err != nil {
		return err
	}
	fmt.Fprintln(e.stdio.Out, out)
	return nil
}

// layoutErr gives layout's input errors exit 2; anything else stays operational.
func layoutErr(err error) error {
	var ie *layout.InputError
	if errors.As(err, &ie) {
		return inputErr(err)
	}
	return err
}
