package trust

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

// CreateTrustedRoot builds a trusted_root.json (media type 0.1) from the services' certificate chains
// and keys, as `cosign trusted-root create` does. A certificate chain is PEM, leaf (or the lowest
// intermediate) first and root last. A transparency log with an origin is a Rekor v2 log: its id is the
// checkpoint key hash of origin and key, and its baseUrl must be served on that host (sigstore-go checks
// the checkpoint against the baseUrl's host). Without an origin the id is the sha256 of the key's DER,
// as for Rekor v1 and CT logs.
func CreateTrustedRoot(spec *keyless.TrustedRootSpec) ([]byte, error) {
	if len(spec.Fulcio) == 0 && len(spec.TSAs) == 0 {
		return nil, errors.New("a trusted root needs a certificate authority (fulcio) or a timestamp authority")
	}
	var cas []root.CertificateAuthority
	for i, f := range spec.Fulcio {
		chain, err := parseChain(f.ChainPEM)
		if err != nil {
			return nil, fmt.Errorf("fulcio %d (%s): %w", i+1, f.URL, err)
		}
		n := len(chain)
		cas = append(cas, &root.FulcioCertificateAuthority{
			Root: chain[n-1], Intermediates: chain[:n-1], URI: f.URL,
			ValidityPeriodStart: chain[n-1].NotBefore,
		})
	}
	var tsas []root.TimestampingAuthority
	for i, t := range spec.TSAs {
		chain, err := parseChain(t.ChainPEM)
		if err != nil {
			return nil, fmt.Errorf("timestamp authority %d (%s): %w", i+1, t.URL, err)
		}
		n := len(chain)
		if n < 2 {
			return nil, fmt.Errorf("timestamp authority %d (%s): chain has %d certificate, want the signing leaf and its root", i+1, t.URL, n)
		}
		tsas = append(tsas, &root.SigstoreTimestampingAuthority{
			Leaf: chain[0], Intermediates: chain[1 : n-1], Root: chain[n-1], URI: t.URL,
			ValidityPeriodStart: chain[n-1].NotBefore,
		})
	}
	rekors, err := logs("rekor", spec.Rekors, true)
	if err != nil {
		return nil, err
	}
	cts, err := logs("ct log", spec.CTLogs, false)
	if err != nil {
		return nil, err
	}
	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01, cas, cts, tsas, rekors)
	if err != nil {
		return nil, fmt.Errorf("build trusted root: %w", err)
	}
	out, err := json.MarshalIndent(tr, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode trusted root: %w", err)
	}
	return append(out, '\n'), nil
}

func logs(what string, specs []keyless.LogSpec, originAllowed bool) (map[string]*root.TransparencyLog, error) {
	out := map[string]*root.TransparencyLog{}
	for i, s := range specs {
		if s.URL == "" {
			return nil, fmt.Errorf("%s %d: no url", what, i+1)
		}
		if s.Start.IsZero() {
			return nil, fmt.Errorf("%s %d (%s): no start time", what, i+1, s.URL)
		}
		if s.Origin != "" && !originAllowed {
			return nil, fmt.Errorf("%s %d (%s): origin is for rekor v2 logs only", what, i+1, s.URL)
		}
		pub, err := parsePublicKey(s.PublicKeyPEM)
		if err != nil {
			return nil, fmt.Errorf("%s %d (%s): %w", what, i+1, s.URL, err)
		}
		sigHash, err := signatureHash(pub)
		if err != nil {
			return nil, fmt.Errorf("%s %d (%s): %w", what, i+1, s.URL, err)
		}
		var id []byte
		if s.Origin != "" {
			_, id, err = note.KeyHash(s.Origin, pub)
			if err != nil {
				return nil, fmt.Errorf("%s %d (%s): log id: %w", what, i+1, s.URL, err)
			}
		} else {
			der, err := x509.MarshalPKIXPublicKey(pub)
			if err != nil {
				return nil, fmt.Errorf("%s %d (%s): %w", what, i+1, s.URL, err)
			}
			sum := sha256.Sum256(der)
			id = sum[:]
		}
		out[hex.EncodeToString(id)] = &root.TransparencyLog{
			BaseURL: s.URL, ID: id, ValidityPeriodStart: s.Start, HashFunc: crypto.SHA256,
			PublicKey: pub, SignatureHashFunc: sigHash,
		}
	}
	return out, nil
}

// signatureHash is the hash a log signs with for its key type, as the trusted root records it.
func signatureHash(pub crypto.PublicKey) (crypto.Hash, error) {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return crypto.SHA512, nil
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return crypto.SHA256, nil
		case elliptic.P384():
			return crypto.SHA384, nil
		case elliptic.P521():
			return crypto.SHA512, nil
		}
		return 0, fmt.Errorf("unsupported ecdsa curve %s", k.Curve.Params().Name)
	case *rsa.PublicKey:
		return crypto.SHA256, nil
	}
	return 0, fmt.Errorf("unsupported public key %T", pub)
}

func parseChain(pems []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, pems = pem.Decode(pems)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("certificate chain holds a %q PEM block", block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, errors.New("certificate chain has no PEM certificate")
	}
	return certs, nil
}

func parsePublicKey(data []byte) (crypto.PublicKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PUBLIC KEY" {
		return nil, errors.New("public key is not a PEM PUBLIC KEY block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	return pub, nil
}

// FetchTrustedRootJSON updates a TUF repository's metadata and returns its trusted_root.json target:
// the public-good Sigstore instance's by default, or another repository's (URL and initial root.json).
func FetchTrustedRootJSON(ctx context.Context, spec *keyless.TUFSpec) ([]byte, error) {
	o := tuf.DefaultOptions().WithContext(ctx)
	if spec.CacheDir != "" {
		o = o.WithCachePath(spec.CacheDir)
	} else {
		o = o.WithCachePath(DefaultTUFCacheDir())
	}
	if spec.URL != "" {
		if len(spec.RootJSON) == 0 {
			return nil, errors.New("a tuf repository other than public-good needs its initial root.json")
		}
		o = o.WithRepositoryBaseURL(spec.URL).WithRoot(spec.RootJSON)
	}
	c, err := tuf.New(o)
	if err != nil {
		return nil, fmt.Errorf("tuf update from %s: %w", o.RepositoryBaseURL, err)
	}
	data, err := c.GetTarget("trusted_root.json")
	if err != nil {
		return nil, fmt.Errorf("tuf target trusted_root.json from %s: %w", o.RepositoryBaseURL, err)
	}
	if _, err := root.NewTrustedRootFromJSON(data); err != nil {
		return nil, fmt.Errorf("tuf target trusted_root.json from %s: %w", o.RepositoryBaseURL, err)
	}
	return data, nil
}
