// Package keyless is the boundary between intoto-ci and Sigstore. It holds what every keyless
// operation shares and costs nothing to link: the sentinel errors, the choice of services (Resolve,
// given a signing config someone else read), and the Backend interface that signs and verifies
// bundles, writes trusted roots, reads signing configs and reads a bundle's certificate identity.
//
// Two backends implement it. internal/sigstore does the work in-process with sigstore-go; it is linked
// into intoto-ci-sigstore only. Exec, in this package, runs intoto-ci-sigstore and talks to it over a
// pipe; intoto-ci uses it. The split keeps sigstore-go's dependency tree (and its package initialisers,
// a few milliseconds per process) out of every key-signed step: nothing keyless runs, or is even
// initialised, unless a keyless signature is made, a Sigstore bundle is met, or a signing config or
// trusted root is needed; TUF, trusted roots and signing configs are read in the helper only.
package keyless

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Errors name the service that failed, so a caller can say which one (and the run log can too).
var (
	ErrToken  = errors.New("identity token")
	ErrFulcio = errors.New("fulcio")
	ErrTSA    = errors.New("timestamp authority")
	ErrRekor  = errors.New("rekor")

	// ErrMalformedBundle says a bundle could not even be read as a keyless DSSE bundle; ErrVerification
	// that it was read and did not verify. Both mean "refuse this bundle".
	ErrMalformedBundle = errors.New("malformed sigstore bundle")
	ErrVerification    = errors.New("sigstore verification failed")

	// ErrUnavailable marks a Backend that could not be asked at all (Exec: the helper is missing, does
	// not start or dies), as opposed to an answer it gave: a broken installation, an operational error.
	ErrUnavailable = errors.New("keyless backend unavailable")
)

// unavailable is err, marked ErrUnavailable; its message is err's.
type unavailable struct{ err error }

func (u *unavailable) Error() string   { return u.err.Error() }
func (u *unavailable) Unwrap() []error { return []error{ErrUnavailable, u.err} }

// Public-good service defaults.
const (
	PublicGoodFulcioURL = "https://fulcio.sigstore.dev"
	PublicGoodRekorURL  = "https://rekor.sigstore.dev"
)

// API versions intoto-ci (through sigstore-go v1.3.0) speaks to each service; a signing config's
// entries are chosen among these. internal/sigstore's tests hold them equal to sigstore-go's own lists.
var (
	FulcioAPIVersions             = []uint32{1}
	TimestampAuthorityAPIVersions = []uint32{1}
	RekorAPIVersions              = []uint32{1, 2}
)

// Options choose the signing services. Explicit URLs win over the signing config, which wins over
// the public-good defaults (Fulcio and Rekor v1 of sigstore.dev, no TSA).
type Options struct {
	// FulcioURL is the Fulcio base URL (--fulcio-url).
	FulcioURL string
	// RekorURL is the Rekor base URL (--rekor-url); RekorVersion is its major API version, 1 (default) or 2
	// (--rekor-version). Rekor v2 gives no integrated time, so it needs a timestamp authority.
	RekorURL     string
	RekorVersion uint32
	// TSAURLs are full RFC 3161 endpoint URLs, e.g. https://timestamp.sigstore.dev/api/v1/timestamp (--tsa-url).
	TSAURLs []string
	// SigningConfig is the path of a Sigstore signing_config.json (media type
	// application/vnd.dev.sigstore.signingconfig.v0.2+json) choosing the services (--signing-config).
	SigningConfig string
	// Private signs without any transparency log: the signature is timestamped by the TSA(s) only, and
	// nothing about the signer is published to Rekor (--private). It requires a TSA and refuses a Rekor
	// URL. The Fulcio URL must then be given explicitly (flag or signing config): public-good Fulcio
	// publishes every certificate, and so the repository names in it, to a public CT log.
	Private bool
	// Now is the clock used to pick services from a signing config; nil means time.Now.
	Now func() time.Time `json:"-"`
}

// SigningConfig is a Sigstore signing_config.json, read: it chooses among the services it lists by API
// version and validity period (sigstore-go's root.SelectService rules). internal/sigstore implements
// it, so only intoto-ci-sigstore links the code that reads one; intoto-ci asks it (Backend.Resolve).
type SigningConfig interface {
	Fulcio(versions []uint32, now time.Time) (string, error)
	// TSAs returns nil, nil when the config lists no timestamp authority.
	TSAs(versions []uint32, now time.Time) ([]string, error)
	Rekors(versions []uint32, now time.Time) ([]Log, error)
}

// Log is one transparency log to write to.
type Log struct {
	URL     string `json:"url"`
	Version uint32 `json:"version"`
}

// Services are the endpoints a signature goes through, resolved and checked.
type Services struct {
	Fulcio string   `json:"fulcio"`
	TSAs   []string `json:"tsas,omitempty"`
	Rekors []Log    `json:"rekors,omitempty"`
}

// Describe lists the services for logs and --verbose.
func (s *Services) Describe() (fulcio string, rekors []string, tsas []string) {
	for _, r := range s.Rekors {
		rekors = append(rekors, fmt.Sprintf("%s (v%d)", r.URL, r.Version))
	}
	return s.Fulcio, rekors, append([]string(nil), s.TSAs...)
}

// Resolve picks the services from opts and cfg (the signing config opts.SigningConfig names, read; nil
// when it names none) and checks that they make a verifiable signature: a Rekor v2 or private signature
// needs a timestamp authority, private signing no log and an explicit Fulcio. It does no I/O, so a bad
// combination fails before a step runs. Backend.Resolve reads the signing config and calls it.
func Resolve(opts Options, cfg SigningConfig) (*Services, error) {
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	if opts.RekorVersion != 0 && opts.RekorVersion != 1 && opts.RekorVersion != 2 {
		return nil, fmt.Errorf("rekor version %d: want 1 or 2", opts.RekorVersion)
	}
	if opts.Private && opts.RekorURL != "" {
		return nil, errors.New("private signing uses no transparency log: drop the rekor url")
	}
	if (opts.SigningConfig != "") != (cfg != nil) {
		return nil, fmt.Errorf("signing config %q: not read (internal error)", opts.SigningConfig)
	}
	s := &Services{}

	switch {
	case opts.FulcioURL != "":
		s.Fulcio = opts.FulcioURL
	case cfg != nil:
		u, err := cfg.Fulcio(FulcioAPIVersions, now())
		if err != nil {
			return nil, fmt.Errorf("signing config: fulcio: %w", err)
		}
		s.Fulcio = u
	case opts.Private:
		return nil, errors.New("private signing needs an explicit fulcio url or signing config " +
			"(public-good fulcio publishes certificates to a public ct log)")
	default:
		s.Fulcio = PublicGoodFulcioURL
	}

	switch {
	case len(opts.TSAURLs) > 0:
		s.TSAs = append(s.TSAs, opts.TSAURLs...)
	case cfg != nil:
		urls, err := cfg.TSAs(TimestampAuthorityAPIVersions, now())
		if err != nil {
			return nil, fmt.Errorf("signing config: timestamp authority: %w", err)
		}
		s.TSAs = append(s.TSAs, urls...)
	}

	version := opts.RekorVersion
	switch {
	case opts.Private:
	case opts.RekorURL != "":
		if version == 0 {
			version = 1
		}
		s.Rekors = []Log{{URL: opts.RekorURL, Version: version}}
	case cfg != nil:
		versions := RekorAPIVersions
		if version != 0 {
			versions = []uint32{version}
		}
		logs, err := cfg.Rekors(versions, now())
		if err != nil {
			return nil, fmt.Errorf("signing config: rekor: %w", err)
		}
		s.Rekors = logs
	default:
		if version == 2 {
			return nil, errors.New("rekor v2 needs a rekor url or signing config (public-good default is v1)")
		}
		s.Rekors = []Log{{URL: PublicGoodRekorURL, Version: 1}}
	}

	if opts.Private && len(s.TSAs) == 0 {
		return nil, errors.New("private signing needs a timestamp authority (tsa url or signing config)")
	}
	if len(s.TSAs) == 0 {
		for _, r := range s.Rekors {
			if r.Version == 2 {
				return nil, errors.New("rekor v2 gives no integrated time: a timestamp authority is required")
			}
		}
	}
	return s, nil
}

// Signer signs a payload into a self-contained signed document (here a Sigstore bundle JSON).
type Signer interface {
	Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error)
}

// TokenSource yields an OIDC identity token; identity.Source implements it.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Name() string
}

// SignerConfig is everything a keyless signer needs.
type SignerConfig struct {
	Services *Services
	// Token supplies the OIDC identity token presented to Fulcio. Required.
	Token TokenSource
	// Timeout bounds every attempt of every request to a service; zero means the default (30s).
	Timeout time.Duration
	// Logger receives progress (never tokens); nil discards.
	Logger *slog.Logger
}

// VerifierConfig is everything a keyless bundle verifier needs.
type VerifierConfig struct {
	// TrustedRoot is a trusted_root.json path; empty means the public-good root, fetched through TUF.
	TrustedRoot string
	// RequireTransparencyLog refuses bundles without a log entry (verify --require-tlog).
	RequireTransparencyLog bool
}

// Verifier is a verify.BundleVerifier that holds resources (a helper process) until closed.
type Verifier interface {
	verify.BundleVerifier
	Close() error
}

// Backend makes keyless signers and verifiers. A verifier loads its trust root lazily, on the first
// bundle: key-only verification never touches Sigstore material (nor the network for the public-good
// root). An error from a verifier that cannot verify anything (trust root unreadable, helper missing)
// wraps verify.ErrVerifierUnavailable; a bundle that is refused wraps ErrMalformedBundle or
// ErrVerification.
type Backend interface {
	NewSigner(cfg SignerConfig) (Signer, error)
	NewVerifier(cfg VerifierConfig) Verifier
	// TrustedRoot writes a trusted_root.json: built from req.Create, or fetched through TUF (req.Fetch).
	TrustedRoot(ctx context.Context, req TrustedRootRequest) ([]byte, error)
	// Resolve is the package's Resolve with the signing config opts.SigningConfig names read (if any):
	// the services a signature goes through, checked before a step runs.
	Resolve(ctx context.Context, opts Options) (*Services, error)
	// BundleSigner reads the identity in a bundle's leaf certificate without verifying anything: for
	// naming a link file, checking who signed a fresh bundle, proposing a layout. Verification is a
	// Verifier's.
	BundleSigner(ctx context.Context, bundle []byte) (*intoto.SignerIdentity, error)
}

// TrustedRootRequest asks for a trusted_root.json; exactly one of Create and Fetch is set.
type TrustedRootRequest struct {
	Create *TrustedRootSpec `json:"create,omitempty"`
	Fetch  *TUFSpec         `json:"fetch,omitempty"`
}

// TrustedRootSpec lists what a trusted root trusts, with the material read from the user's files.
type TrustedRootSpec struct {
	Fulcio []CASpec  `json:"fulcio,omitempty"`
	TSAs   []CASpec  `json:"tsas,omitempty"`
	Rekors []LogSpec `json:"rekors,omitempty"`
	CTLogs []LogSpec `json:"ct_logs,omitempty"`
}

// CASpec is a certificate authority (Fulcio) or timestamp authority: its URL and PEM chain, root last.
type CASpec struct {
	URL      string `json:"url"`
	ChainPEM []byte `json:"chain_pem"`
}

// LogSpec is a transparency log (Rekor or CT): its URL, PEM public key, the time from which it is
// trusted, and for a Rekor v2 log its checkpoint origin (the log's hostname).
type LogSpec struct {
	URL          string    `json:"url"`
	PublicKeyPEM []byte    `json:"public_key_pem"`
	Start        time.Time `json:"start"`
	Origin       string    `json:"origin,omitempty"`
}

// TUFSpec names a TUF repository to fetch trusted_root.json from; empty URL means public-good.
type TUFSpec struct {
	URL      string `json:"url,omitempty"`
	RootJSON []byte `json:"root_json,omitempty"`
	CacheDir string `json:"cache_dir,omitempty"`
}
