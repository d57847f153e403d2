package sigstore

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
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
	s, err := Resolve(keyless.Options{
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
	b, err := sign.Bundle(&dsseContent{payloadType: payloadType, payload: payload}, kp, sign.BundleOptions{
		CertificateProvider:        fulcio,
		CertificateProviderOptions: &sign.CertificateProviderOptions{IDToken: tok},
		Context:                    ctx,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFulcio, err)
	}
	release(len(payload)) // the PAE signed: Rekor v2's copy of it can take its pages
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
			if hint := rekorVersionHint(err, r); hint != "" {
				return nil, fmt.Errorf("%w: %s: %w; %s", ErrRekor, r.URL, err, hint)
			}
			return nil, fmt.Errorf("%w: %s: %w", ErrRekor, r.URL, err)
		}
	}

	release(len(payload)) // Rekor's copies, before the bundle JSON (a third larger than the payload)
	out, err := marshalBundle(b)
	if err != nil {
		return nil, fmt.Errorf("encode bundle: %w", err)
	}
	return out, nil
}

// release hands the garbage of a signature of a large payload back to the system: its copies of the
// payload (the PAE signed, Rekor's) are each as large as the payload, and without this the helper's
// peak is all of them at once, plus the bundle.
func release(payloadLen int) {
	if payloadLen >= 16<<20 {
		debug.FreeOSMemory()
	}
}

// dsseContent is sign.DSSEData with the PAE made in one buffer of its exact size: sigstore-go's goes
// through fmt.Sprintf and a conversion to []byte, three copies of a payload that may be 100 MB and
// more (a link of a million artifacts). The envelope holds the payload itself, as DSSEData's does.
type dsseContent struct {
	payloadType string
	payload     []byte
}

func (d *dsseContent) PreAuthEncoding() []byte {
	head := fmt.Appendf(nil, "DSSEv1 %d %s %d ", len(d.payloadType), d.payloadType, len(d.payload))
	return append(append(make([]byte, 0, len(head)+len(d.payload)), head...), d.payload...)
}

func (d *dsseContent) Bundle(b *protobundle.Bundle, signature, digest []byte, alg protocommon.HashAlgorithm) {
	(&sign.DSSEData{Data: d.payload, PayloadType: d.payloadType}).Bundle(b, signature, digest, alg)
}

// marshalBundle is protojson.Marshal(b), with a large DSSE payload written once, as base64, into a
// result of exactly its size: protojson encodes it to a base64 string, copies that into its output
// and grows the output as it goes, some four copies of the payload's base64. The bundle is marshalled
// with a random stand-in for the payload, whose base64 is then replaced by the payload's.
func marshalBundle(b *protobundle.Bundle) ([]byte, error) {
	env := b.GetDsseEnvelope()
	if env == nil || len(env.GetPayload()) < 1<<16 {
		return protojson.Marshal(b)
	}
	payload := env.Payload
	var stand [24]byte // a multiple of 3: base64 without padding, so nothing around it changes
	if _, err := rand.Read(stand[:]); err != nil {
		return nil, err
	}
	env.Payload = stand[:]
	small, err := protojson.Marshal(b)
	env.Payload = payload
	if err != nil {
		return nil, err
	}
	mark := []byte(base64.StdEncoding.EncodeToString(stand[:]))
	i := bytes.Index(small, mark)
	if i < 0 || bytes.Contains(small[i+len(mark):], mark) {
		return protojson.Marshal(b) // cannot happen with a random stand-in; if it does, the slow way
	}
	out := make([]byte, 0, len(small)-len(mark)+base64.StdEncoding.EncodedLen(len(payload)))
	out = append(out, small[:i]...)
	out = base64.StdEncoding.AppendEncode(out, payload)
	return append(out, small[i+len(mark):]...), nil
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
