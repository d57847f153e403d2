package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/linkfile"
	"github.com/intoto-ci/intoto-ci/internal/wire"
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

	signed, perr := envelope.Parse(data)
	switch {
	case perr == nil && signed.Kind == envelope.Bundle:
		return inputErr(fmt.Errorf("%s: a sigstore bundle carries exactly one signature and cannot take another", file))
	case perr == nil && signer.mode == "key":
		out := signed.Raw
		for _, k := range signer.keys {
			if out, err = envelope.AppendSignature(out, k); err != nil {
				return inputErr(fmt.Errorf("%s: %w", file, err))
			}
		}
		return writeSigned(e, output, out)
	case perr == nil:
		return inputErr(fmt.Errorf("%s is already signed with keys: keyless signing takes the bare document", file))
	}

	// A bare layout or link document.
	var doc struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return inputErr(fmt.Errorf("%s: %w", file, err))
	}
	switch doc.Type {
	case intoto.TypeLayout:
		l, err := intoto.DecodeLayout(data)
		if err != nil {
			return inputErr(fmt.Errorf("%s: %w", file, err))
		}
		if err := keys.ValidateLayout(l); err != nil {
			return inputErr(fmt.Errorf("%s: %w", file, err))
		}
	case intoto.TypeLink:
		if _, err := wire.DecodeLink(data); err != nil {
			return inputErr(fmt.Errorf("%s: %w", file, err))
		}
	default:
		return inputErr(fmt.Errorf("%s: _type %q is neither layout nor link", file, doc.Type))
	}
	if signer.mode == "keyless" {
		if output == file {
			output = file + ".sigstore.json"
		}
		out, err := signer.keyless.Sign(ctx, intoto.PayloadType, data)
		if err != nil {
			return fmt.Errorf("sign %s: %w", file, err)
		}
		return writeSigned(e, output, out)
	}
	var out []byte
	if f.envelope == "legacy" {
		out, err = envelope.SignLegacy(data, signer.keys...)
	} else {
		out, err = envelope.SignDSSE(intoto.PayloadType, data, signer.keys...)
	}
	if err != nil {
		return fmt.Errorf("sign %s: %w", file, err)
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

// linkFromFile reads any link file — legacy, DSSE or bundle, v0.9 link or Statement — without checking
// signatures (callers that trust the content must verify first).
func linkFromFile(path string) (*intoto.Link, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	s, err := envelope.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	l, err := wire.DecodeLinkPayload(s.Payload)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return l, nil
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
		var f recordFlags
		fs.Var(&f.products, "paths", "local `path` to compare (repeatable, default .)")
		fs.Var(&f.excludes, "exclude", "gitignore-style `pattern` to leave out (repeatable)")
		fs.Var(&f.lstrip, "lstrip-paths", "`prefix` stripped from local names (repeatable)")
		fs.StringVar(&f.basePath, "base-path", ".", "`dir`ectory local names are relative to")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if *link == "" {
			return usagef("--link is required")
		}
		l, err := linkFromFile(*link)
		if err != nil {
			return inputErr(err)
		}
		if len(f.products) == 0 {
			f.products = stringList{"."}
		}
		f.linksDir = "."
		local, err := f.recorder(e).record(ctx, f.products)
		if err != nil {
			return inputErr(err)
		}
		var onlyLink, onlyLocal, differ []string
		for name, d := range l.Products.All() {
			ld, ok := local.Lookup(name)
			switch {
			case !ok:
				onlyLink = append(onlyLink, name)
			case !d.Agree(ld):
				differ = append(differ, name)
			}
		}
		for _, name := range local.Names() {
			if _, ok := l.Products.Index(name); !ok {
				onlyLocal = append(onlyLocal, name)
			}
		}
		report := func(label string, names []string) {
			sort.Strings(names)
			for _, n := range names {
				fmt.Fprintf(e.stdio.Out, "%s %s\n", label, n)
			}
		}
		report("only-in-link", onlyLink)
		report("only-local", onlyLocal)
		report("differ", differ)
		if len(onlyLink)+len(onlyLocal)+len(differ) > 0 {
			return &refusedError{reason: fmt.Sprintf("products of %s do not match: %s", *link,
				strings.Join([]string{plural(len(onlyLink), "only in link"), plural(len(onlyLocal), "only local"), plural(len(differ), "differ")}, ", "))}
		}
		return nil
	}
	return c
}

func plural(n int, what string) string { return fmt.Sprintf("%d %s", n, what) }
