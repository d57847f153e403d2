package signing

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	protobundle "github.com/sigstore/protobuf-specs/gen/pb-go/bundle/v1"
	protocommon "github.com/sigstore/protobuf-specs/gen/pb-go/common/v1"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Public-good Sigstore endpoints, used when neither a URL nor a signing config names the service.
const (
	PublicGoodFulcioURL = "https://fulcio.sigstore.dev"
	PublicGoodRekorURL  = "https://rekor.sigstore.dev"
)

// Errors naming the service that failed; Sign wraps the cause in one of them, so a message reads
// "fulcio: …", "timestamp authority: …" or "rekor: …".
var (
	ErrToken  = errors.New("identity token")
	ErrFulcio = errors.New("fulcio")
	ErrTSA    = errors.New("timestamp authority")
	ErrRekor  = errors.New("rekor")
)

// Signer signs a payload into a self-contained signed document (here a Sigstore bundle JSON).
type Signer interface {
	Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error)
}

// TokenSource yields an OIDC identity token; identity.Source implements it.
type TokenSource interface {
	Token(ctx context.Context) (string, error)
	Name() string
}

// KeylessOptions configure a Keyless signer. Explicit URLs win over the signing config, which wins
// over the public-good defaults (Fulcio and Rekor v1 of sigstore.dev, no TSA).
type KeylessOptions struct {
	// Token supplies the OIDC identity token presented to Fulcio. Required.
	Token TokenSource
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
	// Retry bounds every request to every service; zero fields take the defaults (4 attempts
	// of at most 30s each, backoff from 1s doubling up to 8s).
	Retry Retry
	// Transport carries the HTTP requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Logger receives progress (never tokens); nil discards.
	Logger *slog.Logger
	// Now is the clock used to pick services from a signing config; nil means time.Now.
	Now func() time.Time
}

// Keyless signs with a short-lived Fulcio certificate for a fresh ephemeral key.
type Keyless struct {
	token     TokenSource
	fulcio    string
	rekors    []root.Service
	tsas      []string
	retry     Retry
	transport http.RoundTripper
	log       *slog.Logger
}

var _ Signer = (*Keyless)(nil)

// NewKeyless resolves the services and checks the combination; it does no network I/O.
func NewKeyless(opts KeylessOptions) (*Keyless, error) {
	if opts.Token == nil {
		return nil, errors.New("keyless signing needs an identity token source")
	}
	k := &Keyless{
		token:     opts.Token,
		retry:     opts.Retry.Or(retryDefaults()),
		transport: opts.Transport,
		log:       opts.Logger,
	}
	if k.transport == nil {
		k.transport = http.DefaultTransport
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
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

	var cfg *root.SigningConfig
	if opts.SigningConfig != "" {
		var err error
		cfg, err = root.NewSigningConfigFromPath(opts.SigningConfig)
		if err != nil {
			return nil, fmt.Errorf("load signing config %q: %w", opts.SigningConfig, err)
		}
	}

	// Fulcio.
	switch {
	case opts.FulcioURL != "":
		k.fulcio = opts.FulcioURL
	case cfg != nil:
		s, err := root.SelectService(cfg.FulcioCertificateAuthorityURLs(), sign.FulcioAPIVersions, now())
		if err != nil {
			return nil, fmt.Errorf("signing config: fulcio: %w", err)
		}
		k.fulcio = s.URL
	case opts.Private:
		return nil, errors.New("private signing needs an explicit fulcio url or signing config " +
			"(public-good fulcio publishes certificates to a public ct log)")
	default:
		k.fulcio = PublicGoodFulcioURL
	}

	// Timestamp authorities.
	switch {
	case len(opts.TSAURLs) > 0:
		k.tsas = append(k.tsas, opts.TSAURLs...)
	case cfg != nil && len(cfg.TimestampAuthorityURLs()) > 0:
		ss, err := root.SelectServices(cfg.TimestampAuthorityURLs(), cfg.TimestampAuthorityURLsConfig(),
			sign.TimestampAuthorityAPIVersions, now())
		if err != nil {
			return nil, fmt.Errorf("signing config: timestamp authority: %w", err)
		}
		for _, s := range ss {
			k.tsas = append(k.tsas, s.URL)
		}
	}

	// Transparency logs.
	switch {
	case opts.Private:
	case opts.RekorURL != "":
		v := opts.RekorVersion
		if v == 0 {
			v = 1
		}
		k.rekors = []root.Service{{URL: opts.RekorURL, MajorAPIVersion: v}}
	case cfg != nil:
		versions := sign.RekorAPIVersions
		if opts.RekorVersion != 0 {
			versions = []uint32{opts.RekorVersion}
		}
		ss, err := root.SelectServices(cfg.RekorLogURLs(), cfg.RekorLogURLsConfig(), versions, now())
		if err != nil {
			return nil, fmt.Errorf("signing config: rekor: %w", err)
		}
		k.rekors = ss
	default:
		v := opts.RekorVersion
		if v == 0 {
			v = 1
		}
		if v == 2 {
			return nil, errors.New("rekor v2 needs a rekor url or signing config (public-good default is v1)")
		}
		k.rekors = []root.Service{{URL: PublicGoodRekorURL, MajorAPIVersion: 1}}
	}

	if opts.Private && len(k.tsas) == 0 {
		return nil, errors.New("private signing needs a timestamp authority (tsa url or signing config)")
	}
	if len(k.tsas) == 0 {
		for _, r := range k.rekors {
			if r.MajorAPIVersion == 2 {
				return nil, errors.New("rekor v2 gives no integrated time: a timestamp authority is required")
			}
		}
	}
	return k, nil
}

// Services describes the resolved endpoints, for logs and --verbose.
func (k *Keyless) Services() (fulcio string, rekors []string, tsas []string) {
	for _, r := range k.rekors {
		rekors = append(rekors, fmt.Sprintf("%s (v%d)", r.URL, r.MajorAPIVersion))
	}
	return k.fulcio, rekors, append([]string(nil), k.tsas...)
}

// Sign gets a token, a Fulcio certificate for an ephemeral key, signs payload as DSSE, timestamps
// the signature with every TSA, logs it in every Rekor, and returns the Sigstore bundle v0.3 JSON.
// An error names the failing service (ErrToken, ErrFulcio, ErrTSA, ErrRekor).
func (k *Keyless) Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error) {
	// intoto.PayloadType is the only DSSE payload type sigstore-go v1.3.0 verifies in a bundle.
	if payloadType != intoto.PayloadType {
		return nil, fmt.Errorf("payload type %q: keyless bundles carry %s only", payloadType, intoto.PayloadType)
	}
	tok, err := k.token.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %w", ErrToken, k.token.Name(), err)
	}
	kp, err := sign.NewEphemeralKeypair(nil)
	if err != nil {
		return nil, fmt.Errorf("generate ephemeral key: %w", err)
	}

	k.log.Debug("requesting certificate", "service", "fulcio", "url", k.fulcio, "token_source", k.token.Name())
	fulcio := sign.NewFulcio(&sign.FulcioOptions{
		BaseURL:   k.fulcio,
		Timeout:   -1, // the transport bounds each attempt
		Transport: k.transportFor(ctx, "fulcio"),
	})
	b, err := sign.Bundle(&sign.DSSEData{Data: payload, PayloadType: payloadType}, kp, sign.BundleOptions{
		CertificateProvider:        fulcio,
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: tok},
		Context:                    ctx,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFulcio, err)
	}
	env := b.GetDsseEnvelope()
	cert := b.GetVerificationMaterial().GetCertificate().GetRawBytes()
	if env == nil || len(env.GetSignatures()) != 1 || cert == nil {
		return nil, errors.New("sigstore-go produced an unexpected bundle shape")
	}
	sig := env.GetSignatures()[0].GetSig()

	for _, u := range k.tsas {
		k.log.Debug("requesting timestamp", "service", "timestamp authority", "url", u)
		ta := sign.NewTimestampAuthority(&sign.TimestampAuthorityOptions{
			URL:       u,
			Timeout:   -1,
			Transport: k.transportFor(ctx, "timestamp authority"),
		})
		ts, err := ta.GetTimestamp(ctx, sig)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrTSA, u, err)
		}
		addTimestamp(b, ts)
	}

	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert})
	for _, r := range k.rekors {
		k.log.Debug("uploading to transparency log", "service", "rekor", "url", r.URL, "version", r.MajorAPIVersion)
		tl, err := k.rekorFor(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRekor, r.URL, err)
		}
		if err := tl.GetTransparencyLogEntry(ctx, certPEM, b); err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrRekor, r.URL, err)
		}
	}

	out, err := protojson.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return out, nil
}

func (k *Keyless) transportFor(ctx context.Context, service string) http.RoundTripper {
	return &retryTransport{base: k.transport, retry: k.retry, service: service, call: ctx, log: k.log}
}

func addTimestamp(b *protobundle.Bundle, ts []byte) {
	vm := b.GetVerificationMaterial()
	if vm.TimestampVerificationData == nil {
		vm.TimestampVerificationData = &protobundle.TimestampVerificationData{}
	}
	vm.TimestampVerificationData.Rfc3161Timestamps = append(vm.TimestampVerificationData.Rfc3161Timestamps,
		&protocommon.RFC3161SignedTimestamp{SignedTimestamp: ts})
}
