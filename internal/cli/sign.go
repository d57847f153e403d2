package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/linkfile"
	"github.com/intoto-ci/intoto-ci/internal/step"
)

func signCommand() *command {
	c := &command{
		name:    "sign",
		summary: "sign a layout or link, add a signature to a signed layout, or sign a link kept unsigned by run",
		usage:   "--file FILE (--key FILE… | --signing keyless) [--output FILE] [--envelope dsse|legacy]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		var f signFlags
		f.declare(fs)
		file := fs.String("file", "", "layout, link or envelope `file` to sign (required)")
		output := new(string)
		outputFlag(fs, output, "", "where to write (default: in place; keyless: FILE.sigstore.json)")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if err := f.check(); err != nil {
			return err
		}
		if *file == "" {
			return usagef("--file is required")
		}
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
		return runSign(ctx, e, &f, *file, *output)
	}
	return c
}

func runSign(ctx context.Context, e *env, f *signFlags, file, output string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		return inputErr(err)
	}
	// A link that run kept unsigned after a failed keyless signature.
	if u, err := linkfile.ReadUnsigned(file); err == nil {
		return signUnsigned(ctx, e, f, u)
	}
	signer, err := newLinkSigner(e, f)
	if err != nil {
		return err
	}
	if output == "" {
		output = file
	}

	if signer.mode == "keyless" && output == file {
		output = file + ".sigstore.json" // a bundle beside the document; what cannot be signed writes nothing
	}
	out, err := signer.links.SignDocument(ctx, file, data)
	if err != nil {
		return linkfileErr(err)
	}
	return writeSigned(e, output, out)
}

func writeSigned(e *env, path string, data []byte) error {
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	fmt.Fprintln(e.stdio.Out, path)
	return nil
}

// signUnsigned signs a link that run kept after its keyless signature failed — only in the job that
// recorded it.
func signUnsigned(ctx context.Context, e *env, f *signFlags, u *linkfile.Unsigned) error {
	if f.signing == "key" || len(f.keys) > 0 {
		return usagef("%s was recorded for keyless signing: sign it with --signing keyless", u.Path())
	}
	platform, err := ci.Detect(e.getenv, e.stdio.Out)
	if err != nil {
		return usagef("%w", err)
	}
	if err := linkfile.CheckUnsigned(u, platform.RunInfo().Key()); err != nil {
		return linkfileErr(err)
	}
	signer, err := newLinkSigner(e, f)
	if err != nil {
		return err
	}
	path, err := signer.links.SignUnsigned(ctx, u)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdio.Out, path)
	return nil
}

func matchProductsCommand() *command {
	c := &command{
		name:    "match-products",
		summary: "compare a link's products with local files (signatures are not checked)",
		usage:   "--link FILE [--paths P…] [--exclude G…] [--lstrip-paths P…]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		link := fs.String("link", "", "link `file` (any envelope)")
		var f artifactFlags
		var paths stringList
		fs.Var(&paths, "paths", "local `path` to compare (repeatable, default .)")
		f.declare(fs)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if *link == "" {
			return usagef("--link is required")
		}
		if err := f.check(); err != nil {
			return err
		}
		l, err := linkfile.ReadLink(*link)
		if err != nil {
			return inputErr(err)
		}
		if len(paths) == 0 {
			paths = stringList{"."}
		}
		local, err := step.NewRecorder(f.artifactOptions(), ".", e.stdio.Err, f.quiet).Record(ctx, paths)
		if err != nil {
			return inputErr(err)
		}
		m := artifact.Compare(l.Products, local)
		for _, line := range m.Lines() {
			fmt.Fprintln(e.stdio.Out, line)
		}
		if !m.None() {
			return refused(fmt.Sprintf("products of %s do not match: %s", *link, m.Summary()))
		}
		return nil
	}
	return c
}
