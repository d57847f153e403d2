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
	"github.com/sigstore/sigstore-go/pkg/sign"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

// Public-good Sigstore endpoints, used when neither a URL nor a signing config names the service.
const (
	PublicGoodFulcioURL = keyless.PublicGoodFulcioURL
	PublicGoodRekorURL  = keyless.PublicGoodRekorURL
)

// Errors naming the service that failed; Sign wraps the cause in one of them, so a message reads
// "fulcio: …", "timestamp authority: …" or "rekor: …". They are keyless's, so a caller on the other
// side of the helper process tests for the same values.
var (
	ErrToken  = keyless.ErrToken
	ErrFulcio = keyless.ErrFulcio
	ErrTSA    = keyless.ErrTSA
	ErrRekor  = keyless.ErrRekor
)

// Signer signs a payload into a self-contained signed document (here a Sigstore bundle JSON).
type Signer = keyless.Signer

// TokenSource yields an OIDC identity token; identity.Source implements it.
type TokenSource = keyless.TokenSource

// KeylessOptions configure a Keyless signer: the services (resolved by keyless.Resolve) and how to
// reach them.
type KeylessOptions struct {
	// Token supplies the OIDC identity token presented to Fulcio. Required.
	Token TokenSource
	// FulcioURL, RekorURL, RekorVersion, TSAURLs, SigningConfig and Private are keyless.Options'.
	FulcioURL     string
	RekorURL      string
	RekorVersion  uint32
	TSAURLs       []string
	SigningConfig string
	Private       bool
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
	services  *keyless.Services
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
	s, err := keyless.Resolve(keyless.Options{
		FulcioURL:     opts.FulcioURL,
		RekorURL:      opts.RekorURL,
		RekorVersion:  opts.RekorVersion,
		TSAURLs:       opts.TSAURLs,
		SigningConfig: opts.SigningConfig,
		Private:       opts.Private,
		Now:           opts.Now,
	})
	if err != nil {
		return nil, err
	}
	return newKeyless(s, opts.Token, opts.Retry, opts.Transport, opts.Logger)
}

func newKeyless(s *keyless.Services, token TokenSource, retry Retry, transport http.RoundTripper, log *slog.Logger) (*Keyless, error) {
	if token == nil {
		return nil, errors.New("keyless signing needs an identity token source")
	}
	if s == nil || s.Fulcio == "" {
		return nil, errors.New("keyless signing needs a fulcio url")
	}
	if transport == nil {
		transport = http.DefaultTransport
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Keyless{token: token, services: s, retry: retry.Or(retryDefaults()), transport: transport, log: log}, nil
}

// Services describes the resolved endpoints, for logs and --verbose.
func (k *Keyless) Services() (fulcio string, rekors []string, tsas []string) {
	return k.services.Describe()
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

	k.log.Debug("requesting certificate", "service", "fulcio", "url", k.services.Fulcio, "token_source", k.token.Name())
	fulcio := sign.NewFulcio(&sign.FulcioOptions{
		BaseURL:   k.services.Fulcio,
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

	for _, u := range k.services.TSAs {
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
	for _, r := range k.services.Rekors {
		k.log.Debug("uploading to transparency log", "service", "rekor", "url", r.URL, "version", r.Version)
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
