package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/report"
	"github.com/intoto-ci/intoto-ci/internal/verify"
	"github.com/intoto-ci/intoto-ci/internal/vsa"
)

type verifyFlags struct {
	layout            string
	layoutKeys        stringList
	layoutIdentity    identityFlags
	linksDir          string
	params            stringList
	trustedRoot       string
	sameRun           bool
	commit            string
	requireTlog       bool
	json              bool
	reports           stringList
	reportFile        string
	inspectionTimeout time.Duration
	workDir           string
	quiet             bool
	vsa               vsaFlags
	image             imageFlags
	limits            verify.Limits
}

func verifyCommand() *command {
	c := &command{
		name:    "verify",
		summary: "verify links against a signed layout (exit 0 verified, 1 refused)",
		usage:   "--layout FILE (--layout-key FILE… | --layout-identity SAN --layout-issuer URL) [--links-dir DIR] [flags]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		var f verifyFlags
		f.declare(fs)
		f.image.declare(fs, false)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("unexpected argument %q", fs.Arg(0))
		}
		if f.image.ref != "" && flagGiven(fs, "links-dir") {
			return usagef("--image fetches the links from the image's referrers: drop --links-dir")
		}
		if f.image.ref == "" && f.image.step != "" {
			return usagef("--image-step needs --image")
		}
		if f.image.ref != "" && e.registry == nil {
			return runInHelper(ctx, e, append([]string{c.name}, args...))
		}
		if f.image.ref != "" {
			cleanup, err := fetchImageChain(ctx, e, &f)
			defer cleanup()
			if err != nil {
				return err
			}
		}
		_, err := runVerify(ctx, e, &f)
		return err
	}
	return c
}

// declare declares verify's flags (shared with attach) on fs.
func (f *verifyFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.layout, "layout", "", "signed layout `file` (required)")
	fs.Var(&f.layoutKeys, "layout-key", "public key `file` of a layout owner; each must have signed (repeatable)")
	f.layoutIdentity.declare(fs, "layout-", "keyless layout signer")
	fs.StringVar(&f.linksDir, "links-dir", ".", "`dir`ectory holding the links")
	fs.Var(&f.params, "param", "layout parameter `name=value` substituted for {name} (repeatable)")
	fs.StringVar(&f.trustedRoot, "trusted-root", "", "sigstore trusted_root.json `file` for keyless links (default: public-good via TUF)")
	fs.StringVar(&f.commit, "commit", "", "refuse links that do not show this commit `sha` (certificate claim, else recorded by run --commit)")
	fs.BoolVar(&f.requireTlog, "require-tlog", false, "refuse keyless signatures without a transparency log entry (private, timestamp-only bundles)")
	fs.BoolVar(&f.sameRun, "same-run", false, "refuse keyless links that come from different CI runs or commits")
	fs.BoolVar(&f.json, "json", false, "print the JSON report on stdout (same as --report json)")
	fs.Var(&f.reports, "report", "report `format` on stdout: text (default), json, markdown or junit (repeatable with --report-file)")
	fs.StringVar(&f.reportFile, "report-file", "", "write the last --report format to this `file` (only there when several --report are given; also on stdout when one is)")
	fs.DurationVar(&f.inspectionTimeout, "inspection-timeout", verify.DefaultInspectionTimeout, "time limit of each inspection")
	fs.StringVar(&f.workDir, "work-dir", ".", "`dir`ectory inspections run in and record")
	fs.Int64Var(&f.limits.MaxFileSize, "max-file-size", 0, "largest link or layout file read, in `bytes` (default 64 MiB)")
	fs.IntVar(&f.limits.MaxFiles, "max-link-files", 0, "most candidate link files (*.link, *.json) per links directory; more is an input error (default 10000)")
	fs.IntVar(&f.limits.MaxJSONDepth, "max-json-depth", 0, "deepest JSON nesting of a link or layout (default 64)")
	fs.IntVar(&f.limits.MaxArtifacts, "max-artifacts", 0, "most materials plus products per link (default 1000000)")
	fs.IntVar(&f.limits.MaxSignatures, "max-signatures", 0, "most signatures per envelope (default 64)")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress on stderr")
	f.vsa.declare(fs)
}

// runVerify verifies as f says, prints the reports and returns the result of a pass.
func runVerify(ctx context.Context, e *env, f *verifyFlags) (*verify.Result, error) {
	opts, formats, err := f.options()
	if err != nil {
		return nil, err
	}
	opts.Logger = e.logger
	if _, err := os.Stat(f.layout); err != nil {
		return nil, inputErr(fmt.Errorf("layout %s: %w", f.layout, errors.Unwrap(err)))
	}
	if st, err := os.Stat(f.linksDir); err != nil || !st.IsDir() {
		return nil, inputErr(fmt.Errorf("links dir %s: not a readable directory", f.linksDir))
	}
	kv := e.keyless.NewVerifier(keyless.VerifierConfig{TrustedRoot: f.trustedRoot, RequireTransparencyLog: f.requireTlog})
	defer kv.Close()
	opts.Keyless = kv

	// With --vsa: prepare the signer before verifying (a missing key fails fast) and verify the very
	// layout bytes whose digest the summary names.
	var vsaSigner *linkSigner
	if f.vsa.path != "" {
		if err := f.vsa.sign.check(); err != nil {
			return nil, err
		}
		if opts.Layout, err = os.ReadFile(f.layout); err != nil {
			return nil, inputErr(err)
		}
		if vsaSigner, err = newLinkSigner(e, &f.vsa.sign); err != nil {
			return nil, err
		}
	}
	progress := report.NewProgress(e.stdio.Err, report.ProgressOptions{Mode: report.ProgressModeFor(e.stdio.Err, f.quiet)})
	opts.Progress = func(p verify.Progress) { progress.Update(p.Stage, p.Done, p.Total, p.Files, p.Bytes) }
	if e.tuneGC {
		verify.TuneGC(e.getenv, f.linksDir)
	}
	res, err := verify.Verify(ctx, opts)
	progress.Done()
	if err != nil {
		if verify.IsInputError(err) {
			return nil, inputErr(err) // a layout error names the layout (verify.LayoutError), a link error its file
		}
		return nil, err
	}
	if f.image.img != nil {
		if err := checkImageProduct(e, f, res); err != nil {
			return nil, err
		}
	}
	if err := writeReports(e, f.reportFile, formats, res); err != nil {
		return nil, err
	}
	if !res.Verified {
		return nil, refused(report.Refusal(res))
	}
	if vsaSigner != nil {
		if err := writeVSA(ctx, e, f, vsaSigner, opts.Layout, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// options turns verify's flags into verify.Options (without the keyless verifier and progress) and
// the report formats to print.
func (f *verifyFlags) options() (verify.Options, []string, error) {
	opts := verify.Options{
		LayoutPath:        f.layout,
		LinksDir:          f.linksDir,
		WorkDir:           f.workDir,
		InspectionTimeout: f.inspectionTimeout,
		SameRun:           f.sameRun,
		Commit:            f.commit,
		Limits:            f.limits,
	}
	if f.layout == "" {
		return opts, nil, usagef("--layout is required")
	}
	params, bad := verify.ParseParams(f.params)
	if bad != "" {
		return opts, nil, usagef("--param %q: want name=value", bad)
	}
	opts.Params = params
	formats, bad := report.Choose(f.reports, f.json)
	if bad != "" {
		return opts, nil, usagef("--report must be text, json, markdown or junit, not %q", bad)
	}
	for _, path := range f.layoutKeys {
		k, err := keys.Load(path)
		if err != nil {
			return opts, nil, inputErr(err)
		}
		opts.LayoutKeys = append(opts.LayoutKeys, k.Record())
	}
	if id, err := f.layoutIdentity.identity("layout"); err != nil {
		return opts, nil, err
	} else if id != nil {
		opts.LayoutIdentities = append(opts.LayoutIdentities, id)
	}
	if len(opts.LayoutKeys) == 0 && len(opts.LayoutIdentities) == 0 {
		return opts, nil, usagef("pin the layout owner: give --layout-key or --layout-identity with --layout-issuer " +
			"(an unpinned layout proves nothing)")
	}
	return opts, formats, nil
}

// writeReports prints the reports, the last to --report-file when one is given (report.WriteAll).
func writeReports(e *env, reportFile string, formats []string, res *verify.Result) error {
	data, err := report.WriteAll(e.stdio.Out, formats, reportFile != "", res)
	if err != nil || reportFile == "" {
		return err
	}
	return writeFileAtomic(reportFile, data)
}

// writeVSA writes the signed verification summary of a pass over the layout bytes verified.
func writeVSA(ctx context.Context, e *env, f *verifyFlags, signer *linkSigner, layout []byte, res *verify.Result) error {
	stmt, err := vsa.Build(vsa.Input{Result: res, LayoutPath: f.layout, Layout: layout, ResourceURI: f.vsa.resourceURI,
		Levels: f.vsa.levels, Subjects: f.vsa.subjects, Version: Version(), Now: time.Now()})
	if err != nil {
		return vsaErr(err)
	}
	signed, err := signer.links.SignStatement(ctx, stmt)
	if err != nil {
		return fmt.Errorf("sign vsa: %w", err)
	}
	if err := writeFileAtomic(f.vsa.path, signed); err != nil {
		return err
	}
	fmt.Fprintf(e.stdio.Err, "wrote verification summary %s\n", f.vsa.path)
	return nil
}
