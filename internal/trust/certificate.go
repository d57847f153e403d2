package trust

import (
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

// fulcioArc is the OID prefix of Fulcio's certificate extensions: 1.3.6.1.4.1.57264.1.<N>.
var fulcioArc = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1}

// oidIssuerV1 is the deprecated issuer extension 1.3.6.1.4.1.57264.1.1, a raw (not DER) string.
var oidIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}

// ErrNoIdentity is returned for a certificate that does not name exactly one signer and one issuer.
var ErrNoIdentity = errors.New("certificate carries no usable fulcio identity")

// SignerIdentity reads a Fulcio leaf certificate: its one subject alternative name (URI, email or
// Fulcio's otherName username), the OIDC issuer (extension 1.8, or the deprecated 1.1) and every claim
// extension 1.8–1.24, including 1.23 (deployment_environment) and 1.24 (token_subject) which
// sigstore-go does not know. Extensions 1.8 and later are DER UTF8Strings (Fulcio docs/oid-info.md).
//
// Call it only on a certificate that verification has accepted: it checks nothing cryptographic.
func SignerIdentity(cert *x509.Certificate) (*intoto.SignerIdentity, error) {
	if cert == nil {
		return nil, fmt.Errorf("%w: no certificate", ErrNoIdentity)
	}
	san, err := subjectAltName(cert)
	if err != nil {
		return nil, err
	}
	id := &intoto.SignerIdentity{Subject: san, Claims: map[string]string{}}
	var issuerV1 string
	for _, ext := range cert.Extensions {
		if ext.Id.Equal(oidIssuerV1) {
			issuerV1 = string(ext.Value)
			continue
		}
		if len(ext.Id) != len(fulcioArc)+1 || !ext.Id[:len(fulcioArc)].Equal(fulcioArc) {
			continue
		}
		name, ok := intoto.FulcioClaimName(ext.Id[len(fulcioArc)])
		if !ok {
			continue
		}
		v, err := derUTF8String(ext.Value)
		if err != nil {
			return nil, fmt.Errorf("certificate extension %s (%s): %w", ext.Id, name, err)
		}
		id.Claims[name] = v
	}
	id.Issuer = id.Claims["issuer"]
	if id.Issuer == "" {
		id.Issuer = issuerV1
	}
	if id.Issuer == "" {
		return nil, fmt.Errorf("%w: no oidc issuer extension", ErrNoIdentity)
	}
	if len(id.Claims) == 0 {
		id.Claims = nil
	}
	return id, nil
}

// derUTF8String decodes a DER string value with nothing after it.
func derUTF8String(b []byte) (string, error) {
	var s string
	rest, err := asn1.UnmarshalWithParams(b, &s, "utf8")
	if err != nil {
		return "", fmt.Errorf("decode der utf8string: %w", err)
	}
	if len(rest) != 0 {
		return "", errors.New("decode der utf8string: trailing data")
	}
	return s, nil
}

// subjectAltName returns the certificate's one SAN. Fulcio issues exactly one; more would make the
// identity ambiguous, so they are refused.
func subjectAltName(cert *x509.Certificate) (string, error) {
	var sans []string
	for _, u := range cert.URIs {
		sans = append(sans, u.String())
	}
	sans = append(sans, cert.EmailAddresses...)
	sans = append(sans, cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		sans = append(sans, ip.String())
	}
	if len(sans) == 0 {
		if other, err := cryptoutils.UnmarshalOtherNameSAN(cert.Extensions); err == nil && other != "" {
			sans = append(sans, other)
		}
	}
	switch len(sans) {
	case 0:
		return "", fmt.Errorf("%w: no subject alternative name", ErrNoIdentity)
	case 1:
		return sans[0], nil
	default:
		return "", fmt.Errorf("%w: %d subject alternative names", ErrNoIdentity, len(sans))
	}
}
