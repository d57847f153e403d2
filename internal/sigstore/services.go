package sigstore

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/trust"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// Resolve is keyless.Resolve with the signing config opts.SigningConfig names read by sigstore-go.
func Resolve(opts keyless.Options) (*keyless.Services, error) {
	if opts.SigningConfig == "" {
		return keyless.Resolve(opts, nil)
	}
	cfg, err := root.NewSigningConfigFromPath(opts.SigningConfig)
	if err != nil {
		return nil, fmt.Errorf("load signing config %q: %w", opts.SigningConfig, err)
	}
	return keyless.Resolve(opts, signingConfig{cfg})
}

// signingConfig chooses services the way sigstore-go's signer does (root.SelectService(s)).
type signingConfig struct{ c *root.SigningConfig }

func (s signingConfig) Fulcio(versions []uint32, now time.Time) (string, error) {
	svc, err := root.SelectService(s.c.FulcioCertificateAuthorityURLs(), versions, now)
	if err != nil {
		return "", err
	}
	return svc.URL, nil
}

func (s signingConfig) TSAs(versions []uint32, now time.Time) ([]string, error) {
	if len(s.c.TimestampAuthorityURLs()) == 0 {
		return nil, nil
	}
	ss, err := root.SelectServices(s.c.TimestampAuthorityURLs(), s.c.TimestampAuthorityURLsConfig(), versions, now)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, svc := range ss {
		out = append(out, svc.URL)
	}
	return out, nil
}

func (s signingConfig) Rekors(versions []uint32, now time.Time) ([]keyless.Log, error) {
	ss, err := root.SelectServices(s.c.RekorLogURLs(), s.c.RekorLogURLsConfig(), versions, now)
	if err != nil {
		return nil, err
	}
	var out []keyless.Log
	for _, svc := range ss {
		out = append(out, keyless.Log{URL: svc.URL, Version: svc.MajorAPIVersion})
	}
	return out, nil
}

// BundleSigner reads the certificate identity of a bundle without verifying it (for file names and
// layout proposals; verification is KeylessVerifier's). The leaf certificate sits in
// verificationMaterial.certificate (bundle v0.3) or first in x509CertificateChain (v0.1, v0.2).
func BundleSigner(data []byte) (*intoto.SignerIdentity, error) {
	type rawCert struct {
		RawBytes []byte `json:"rawBytes"`
	}
	var b struct {
		VerificationMaterial struct {
			Certificate *rawCert `json:"certificate"`
			Chain       *struct {
				Certificates []rawCert `json:"certificates"`
			} `json:"x509CertificateChain"`
		} `json:"verificationMaterial"`
	}
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("read bundle: %w", err)
	}
	var der []byte
	switch vm := b.VerificationMaterial; {
	case vm.Certificate != nil:
		der = vm.Certificate.RawBytes
	case vm.Chain != nil && len(vm.Chain.Certificates) > 0:
		der = vm.Chain.Certificates[0].RawBytes
	}
	if len(der) == 0 {
		return nil, errors.New("bundle has no certificate")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("bundle certificate: %w", err)
	}
	return trust.SignerIdentity(cert)
}

// Resolve is the package's Resolve.
func (Backend) Resolve(_ context.Context, opts keyless.Options) (*keyless.Services, error) {
	return Resolve(opts)
}

// BundleSigner is the package's BundleSigner.
func (Backend) BundleSigner(_ context.Context, bundle []byte) (*intoto.SignerIdentity, error) {
	return BundleSigner(bundle)
}
