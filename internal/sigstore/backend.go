package sigstore

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/trust"
	"github.com/intoto-ci/intoto-ci/internal/verify"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Backend signs and verifies in this process with sigstore-go: intoto-ci-sigstore uses it directly
// and serves it to intoto-ci over keyless.Serve.
type Backend struct{}

var _ keyless.Backend = Backend{}

// NewSigner returns a Keyless signer for the resolved services.
func (Backend) NewSigner(cfg keyless.SignerConfig) (keyless.Signer, error) {
	return newKeyless(cfg.Services, cfg.Token, Retry{Timeout: cfg.Timeout}, nil, cfg.Logger)
}

// NewVerifier returns a verifier that loads its trust root on the first bundle.
func (Backend) NewVerifier(cfg keyless.VerifierConfig) keyless.Verifier {
	return &lazyVerifier{cfg: cfg}
}

// TrustedRoot builds a trusted root from the given material or fetches one through TUF.
func (Backend) TrustedRoot(ctx context.Context, req keyless.TrustedRootRequest) ([]byte, error) {
	switch {
	case req.Create != nil && req.Fetch == nil:
		return trust.CreateTrustedRoot(req.Create)
	case req.Fetch != nil && req.Create == nil:
		return trust.FetchTrustedRootJSON(ctx, req.Fetch)
	}
	return nil, errors.New("trusted root request: want exactly one of create and fetch")
}

type lazyVerifier struct {
	cfg  keyless.VerifierConfig
	once sync.Once
	v    *KeylessVerifier
	err  error
}

func (l *lazyVerifier) VerifyBundle(ctx context.Context, data []byte) (*verify.Verified, error) {
	l.once.Do(func() {
		var tr *root.TrustedRoot
		if l.cfg.TrustedRoot != "" {
			tr, l.err = trust.LoadTrustedRoot(l.cfg.TrustedRoot)
		} else {
			tr, l.err = trust.FetchPublicGood(ctx, trust.PublicGoodOptions{})
		}
		if l.err == nil {
			l.v, l.err = NewKeylessVerifier(tr)
			if l.v != nil {
				l.v.RequireTransparencyLog = l.cfg.RequireTransparencyLog
			}
		}
	})
	if l.err != nil {
		return nil, fmt.Errorf("%w: keyless trust root: %w", verify.ErrVerifierUnavailable, l.err)
	}
	got, err := l.v.VerifyBundle(ctx, data)
	if err != nil {
		return nil, err
	}
	return &verify.Verified{PayloadType: got.PayloadType, Payload: got.Payload, Signer: got.Signer, Time: got.Time}, nil
}

func (l *lazyVerifier) Close() error { return nil }
