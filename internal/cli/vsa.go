package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	keyfile "github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/vsa"
)

// vsaFlags are verify's flags for writing a VSA after a pass.
type vsaFlags struct {
	path        string
	resourceURI string
	levels      stringList
	subjects    stringList
	sign        signFlags
}

func (f *vsaFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.path, "vsa", "", "after a pass, write a signed SLSA verification summary to this `file` (signed like run: --key or --signing keyless)")
	fs.StringVar(&f.resourceURI, "vsa-resource-uri", "", "resourceUri of the VSA (default: the one subject's name; required with several subjects)")
	fs.Var(&f.levels, "vsa-level", "verifiedLevels entry of the VSA (repeatable; default "+vsa.DefaultLevel+")")
	fs.Var(&f.subjects, "vsa-subject", "artifact name `pattern` (as in layout rules) of the final products the VSA covers (repeatable; default: what the layout's last step created or changed)")
	f.sign.declare(fs)
}

// vsaErr maps the vsa package's error kinds to exit codes: subjects that cannot be chosen are a
// usage error, a refusal is a refusal, an unparsable file is unreadable input.
func vsaErr(err error) error {
	var se *vsa.SubjectError
	var re *vsa.Refusal
	var me *vsa.MalformedError
	switch {
	case errors.As(err, &se):
		return &exitError{code: ExitUsage, err: err}
	case errors.As(err, &re):
		return refused(re.Reason)
	case errors.As(err, &me):
		return inputErr(err)
	}
	return err
}

func verifyVSACommand() *command {
	c := &command{
		name:    "verify-vsa",
		summary: "verify a verification summary (VSA) written by verify --vsa, and that it covers given files",
		usage:   "--vsa FILE (--key PUB… | --identity SAN --issuer URL [--trusted-root FILE]) [--base-path DIR] [--subject FILE…] [--resource-uri URI]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		file := fs.String("vsa", "", "the VSA `file` (DSSE envelope or Sigstore bundle; required)")
		var keys, subjects stringList
		fs.Var(&keys, "key", "public key `file` that must have signed the VSA (repeatable)")
		var signer identityFlags
		signer.declare(fs, "", "keyless VSA signer")
		trustedRoot := fs.String("trusted-root", "", "sigstore trusted_root.json `file` (default: public-good via TUF)")
		fs.Var(&subjects, "subject", "artifact `file` the VSA must cover, by name (its path relative to --base-path) and digest (repeatable)")
		basePath := fs.String("base-path", ".", "`dir`ectory that --subject names are relative to, as run's --base-path")
		resourceURI := fs.String("resource-uri", "", "resourceUri the VSA must name")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if *file == "" {
			return usagef("--vsa is required")
		}
		id, err := signer.identity("vsa")
		if err != nil {
			return err
		}
		opts := vsa.CheckOptions{ResourceURI: *resourceURI, Identity: id}
		if len(keys) == 0 && opts.Identity == nil {
			return usagef("pin the VSA signer: give --key or --identity with --issuer")
		}
		data, err := os.ReadFile(*file)
		if err != nil {
			return inputErr(err)
		}
		for _, path := range keys {
			k, err := keyfile.Load(path)
			if err != nil {
				return inputErr(err)
			}
			opts.Keys = append(opts.Keys, k.Public())
		}
		kv := e.keyless.NewVerifier(keyless.VerifierConfig{TrustedRoot: *trustedRoot})
		defer kv.Close()
		opts.Bundles = kv
		checked, err := vsa.Check(ctx, *file, data, opts)
		if err != nil {
			return vsaErr(err)
		}
		stmt := &checked.Statement
		for _, path := range subjects {
			name, content, err := subjectFile(*basePath, path)
			if err != nil {
				return err
			}
			if err := stmt.Covers(*file, name, path, content); err != nil {
				return vsaErr(err)
			}
		}
		fmt.Fprintln(e.stdio.Out, checked.Summary())
		return nil
	}
	return c
}

// subjectFile names a --subject file as run names artifacts (its path relative to base) and reads it.
func subjectFile(base, path string) (string, []byte, error) {
	name, absBase, err := vsa.SubjectName(base, path)
	if err != nil {
		return "", nil, usagef("--subject %q is not inside --base-path %s: %w", path, absBase, err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		return "", nil, inputErr(err)
	}
	return name, content, nil
}

func pluralS(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
