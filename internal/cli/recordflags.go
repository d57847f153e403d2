package cli

import (
	"flag"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/runner"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// recordFlags are the flags shared by run and record: what to hash and how to sign.
type recordFlags struct {
	step       string
	linksDir   string
	materials  stringList
	products   stringList
	maxCapture int64
	commit     string
	artifactFlags
	sign signFlags
}

// artifactFlags say how files are named and hashed (run, record and match-products).
type artifactFlags struct {
	excludes       stringList
	lstrip         stringList
	basePath       string
	followSymlinks bool
	normalizeEOL   bool
	hashAlgs       stringList
	noDefaultEx    bool
	quiet          bool
}

// signFlags select and configure the signer.
type signFlags struct {
	signing        string
	keys           stringList
	keyEnv         string
	keyPassword    string
	envelope       string
	format         string
	fulcioURL      string
	rekorURL       string
	rekorVersion   int
	tsaURLs        stringList
	signingConfig  string
	identityToken  string
	identityFile   string
	identityEnv    string
	oidcAudience   string
	private        bool
	serviceTimeout time.Duration
}

func (f *recordFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.step, "step", "", "step `name` (required)")
	fs.StringVar(&f.linksDir, "links-dir", ".", "`dir`ectory the link is written to")
	fs.Var(&f.materials, "materials", "material `path` to record (repeatable)")
	fs.Var(&f.products, "products", "product `path` to record (repeatable)")
	f.artifactFlags.declare(fs)
	fs.StringVar(&f.commit, "commit", "", "`sha` of the commit this step works on, recorded in the link (binds links whose certificates carry no commit, e.g. Tekton's; see verify --commit)")
	fs.Int64Var(&f.maxCapture, "max-capture", runner.DefaultMaxCapture, "`bytes` of stdout and of stderr recorded in the link (the console gets all; -1 records none)")
	f.sign.declare(fs)
}

func (f *artifactFlags) declare(fs *flag.FlagSet) {
	fs.Var(&f.excludes, "exclude", "gitignore-style `pattern` to leave out (repeatable)")
	fs.BoolVar(&f.noDefaultEx, "no-default-excludes", false, "do not leave out *.link*, .git, *.pyc and *~ by default")
	fs.Var(&f.lstrip, "lstrip-paths", "`prefix` stripped from recorded names (repeatable)")
	fs.StringVar(&f.basePath, "base-path", ".", "`dir`ectory artifact names are relative to")
	fs.BoolVar(&f.followSymlinks, "follow-symlinks", false, "follow symlinked directories (never outside the base path)")
	fs.BoolVar(&f.normalizeEOL, "normalize-line-endings", false, "hash files with CRLF and CR turned into LF")
	fs.BoolVar(&f.quiet, "quiet", false, "no progress output while hashing")
	fs.Var(&f.hashAlgs, "hash", "hash `algorithm`: sha256 (default) or sha512 (repeatable)")
}

func (f *signFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.signing, "signing", "", "`mode`: key or keyless (default: key when --key is given, else keyless)")
	fs.Var(&f.keys, "key", "private key `file` (PEM or securesystemslib JSON; repeatable for sign)")
	fs.StringVar(&f.keyEnv, "key-env", "", "environment `variable` holding the private key itself (PEM or securesystemslib JSON), e.g. from a CI secret: no key file, nothing on the command line; the wrapped command does not see it")
	fs.StringVar(&f.keyPassword, "key-password", "", "`password` of an encrypted key (prefer INTOTO_CI_KEY_PASSWORD)")
	fs.StringVar(&f.envelope, "envelope", "dsse", "key-signed link envelope: dsse or legacy (in-toto-python 1.3.1)")
	fs.StringVar(&f.format, "format", "link", "key-signed payload: link (v0.9) or statement (Statement v1 + link v0.3)")
	fs.StringVar(&f.fulcioURL, "fulcio-url", "", "Fulcio `url` (default public-good)")
	fs.StringVar(&f.rekorURL, "rekor-url", "", "Rekor `url` (default public-good)")
	fs.IntVar(&f.rekorVersion, "rekor-version", 0, "Rekor API `version`: 1 or 2 (default: from the signing config, else 1)")
	fs.Var(&f.tsaURLs, "tsa-url", "RFC 3161 timestamp authority `url` (repeatable)")
	fs.StringVar(&f.signingConfig, "signing-config", "", "sigstore signing_config `file` naming every service")
	fs.StringVar(&f.identityToken, "identity-token", "", "OIDC `token` to sign with (prefer --identity-token-file)")
	fs.StringVar(&f.identityFile, "identity-token-file", "", "`file` holding the OIDC token")
	fs.StringVar(&f.identityEnv, "identity-token-env", "", "environment `variable` holding the OIDC token (GitLab: SIGSTORE_ID_TOKEN)")
	fs.StringVar(&f.oidcAudience, "oidc-audience", "sigstore", "`audience` requested for ambient tokens")
	fs.BoolVar(&f.private, "private", false, "write nothing to a transparency log: timestamp authority only")
	fs.DurationVar(&f.serviceTimeout, "service-timeout", 30*time.Second, "timeout per signing service request")
}

// mode resolves --signing against --key and --key-env.
func (f *signFlags) mode() (string, error) {
	hasKey := len(f.keys) > 0 || f.keyEnv != ""
	switch f.signing {
	case "":
		if hasKey {
			return "key", nil
		}
		return "keyless", nil
	case "key":
		if !hasKey {
			return "", usagef("--signing key needs --key or --key-env")
		}
		return "key", nil
	case "keyless":
		if hasKey {
			return "", usagef("--signing keyless does not take --key or --key-env")
		}
		return "keyless", nil
	}
	return "", usagef("--signing must be key or keyless, not %q", f.signing)
}

func (f *signFlags) check() error {
	if f.envelope != "dsse" && f.envelope != "legacy" {
		return usagef("--envelope must be dsse or legacy, not %q", f.envelope)
	}
	if f.format != "link" && f.format != "statement" {
		return usagef("--format must be link or statement, not %q", f.format)
	}
	if f.envelope == "legacy" && f.format == "statement" {
		return usagef("--envelope legacy carries only v0.9 links: drop --format statement")
	}
	if f.rekorVersion != 0 && f.rekorVersion != 1 && f.rekorVersion != 2 {
		return usagef("--rekor-version must be 1 or 2")
	}
	_, err := f.mode()
	return err
}

func (f *recordFlags) check() error {
	if f.step == "" {
		return usagef("--step is required")
	}
	if err := intoto.CheckStepName(f.step); err != nil {
		return usagef("--step: %w", err)
	}
	if err := f.artifactFlags.check(); err != nil {
		return err
	}
	return f.sign.check()
}

func (f *artifactFlags) check() error {
	for _, a := range f.hashAlgs {
		if a != "sha256" && a != "sha512" {
			return usagef("--hash must be sha256 or sha512, not %q", a)
		}
	}
	return nil
}

func (f *artifactFlags) algorithms() []string {
	if len(f.hashAlgs) == 0 {
		return []string{"sha256"}
	}
	return f.hashAlgs
}

// environment is the link's environment field: the commit, when given.
func (f *recordFlags) environment() map[string]any {
	env := map[string]any{}
	if f.commit != "" {
		env[verify.CommitEnvironmentKey] = f.commit
	}
	return env
}

// identityFlags pin a keyless signer: NAMEidentity, NAMEidentity-regexp and NAMEissuer (verify's
// layout- flags, verify-vsa's bare ones).
type identityFlags struct {
	subject, subjectRegexp, issuer string
}

func (f *identityFlags) declare(fs *flag.FlagSet, prefix, signer string) {
	fs.StringVar(&f.subject, prefix+"identity", "", "certificate `SAN` of the "+signer+" (exact)")
	fs.StringVar(&f.subjectRegexp, prefix+"identity-regexp", "", "anchored `regexp` for the "+signer+"'s SAN")
	fs.StringVar(&f.issuer, prefix+"issuer", "", "OIDC issuer `url` of the "+signer)
}

// identity is the pinned signer, nil when none of the flags is given; label names it in errors.
func (f *identityFlags) identity(label string) (*intoto.Identity, error) {
	if f.subject == "" && f.subjectRegexp == "" && f.issuer == "" {
		return nil, nil
	}
	id := &intoto.Identity{Issuer: f.issuer, Subject: f.subject, SubjectRegexp: f.subjectRegexp}
	if err := id.Validate(); err != nil {
		return nil, usagef("%s identity: %w", label, err)
	}
	return id, nil
}
