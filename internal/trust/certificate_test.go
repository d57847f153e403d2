package trust

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
)

func fulcioOID(arc int) asn1.ObjectIdentifier {
	return asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, arc}
}

func derString(t testing.TB, s string) []byte {
	t.Helper()
	b, err := asn1.MarshalWithParams(s, "utf8")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// makeCert builds and parses a self-signed certificate shaped like a Fulcio leaf.
func makeCert(t testing.TB, tmpl *x509.Certificate) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(1)
	tmpl.NotBefore = time.Now().Add(-time.Minute)
	tmpl.NotAfter = time.Now().Add(10 * time.Minute)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSignerIdentityAllClaims(t *testing.T) {
	t.Parallel()
	claims := map[string]string{}
	var exts []pkix.Extension
	for arc := 8; arc <= 24; arc++ {
		name, _ := intoto.FulcioClaimName(arc)
		v := "value-of-" + name
		if arc == 8 {
			v = "https://gitlab.com"
		}
		claims[name] = v
		exts = append(exts, pkix.Extension{Id: fulcioOID(arc), Value: derString(t, v)})
	}
	// Unknown Fulcio arcs and other extensions are ignored.
	exts = append(exts,
		pkix.Extension{Id: fulcioOID(99), Value: derString(t, "future")},
		pkix.Extension{Id: asn1.ObjectIdentifier{1, 2, 3}, Value: []byte{0xff}},
	)
	const san = "https://gitlab.com/grp/app//.gitlab-ci.yml@refs/heads/main"
	cert := makeCert(t, &x509.Certificate{URIs: []*url.URL{mustURL(t, san)}, ExtraExtensions: exts})

	got, err := SignerIdentity(cert)
	if err != nil {
		t.Fatal(err)
	}
	want := &intoto.SignerIdentity{Issuer: "https://gitlab.com", Subject: san, Claims: claims}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SignerIdentity() mismatch (-want +got):\n%s", diff)
	}
	if got.Claims["deployment_environment"] != "value-of-deployment_environment" || got.Claims["token_subject"] != "value-of-token_subject" {
		t.Errorf("1.23/1.24 not parsed: %v", got.Claims)
	}
}

func TestSignerIdentityIssuerV1Fallback(t *testing.T) {
	t.Parallel()
	cert := makeCert(t, &x509.Certificate{
		EmailAddresses:  []string{"alice@example.com"},
		ExtraExtensions: []pkix.Extension{{Id: oidIssuerV1, Value: []byte("https://accounts.google.com")}},
	})
	got, err := SignerIdentity(cert)
	if err != nil {
		t.Fatal(err)
	}
	want := &intoto.SignerIdentity{Issuer: "https://accounts.google.com", Subject: "alice@example.com"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("SignerIdentity() mismatch (-want +got):\n%s", diff)
	}
}

func TestSignerIdentityRefusals(t *testing.T) {
	t.Parallel()
	issuer := pkix.Extension{Id: fulcioOID(8), Value: derString(t, "https://issuer")}
	tests := []struct {
		name    string
		tmpl    *x509.Certificate
		wantErr error
	}{
		{name: "no san", tmpl: &x509.Certificate{ExtraExtensions: []pkix.Extension{issuer}}, wantErr: ErrNoIdentity},
		{name: "two sans", tmpl: &x509.Certificate{EmailAddresses: []string{"a@x", "b@x"}, ExtraExtensions: []pkix.Extension{issuer}}, wantErr: ErrNoIdentity},
		{name: "no issuer", tmpl: &x509.Certificate{EmailAddresses: []string{"a@x"}}, wantErr: ErrNoIdentity},
		{name: "raw instead of der", tmpl: &x509.Certificate{EmailAddresses: []string{"a@x"}, ExtraExtensions: []pkix.Extension{
			issuer, {Id: fulcioOID(23), Value: []byte("production")}}}},
		{name: "trailing data", tmpl: &x509.Certificate{EmailAddresses: []string{"a@x"}, ExtraExtensions: []pkix.Extension{
			{Id: fulcioOID(8), Value: append(derString(t, "https://issuer"), 0)}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := SignerIdentity(makeCert(t, tt.tmpl))
			if err == nil {
				t.Fatal("SignerIdentity() = nil error, want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("SignerIdentity() = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestLoadTrustedRoot(t *testing.T) {
	t.Parallel()
	tr, err := LoadTrustedRoot("testdata/trusted-root-public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(tr.FulcioCertificateAuthorities()) == 0 || len(tr.CTLogs()) == 0 || len(tr.RekorLogs()) == 0 {
		t.Errorf("public-good root lacks CAs/CT logs/Rekor logs")
	}
	if _, err := LoadTrustedRoot("testdata/missing.json"); err == nil {
		t.Error("LoadTrustedRoot(missing) = nil error")
	}
}

func TestDefaultTUFCacheDir(t *testing.T) {
	t.Parallel()
	if d := DefaultTUFCacheDir(); d == "" {
		t.Error("DefaultTUFCacheDir() is empty")
	}
}

func TestSignerIdentityOtherNameSAN(t *testing.T) {
	t.Parallel()
	san, err := cryptoutils.MarshalOtherNameSAN("foo!oidc.local", true)
	if err != nil {
		t.Fatal(err)
	}
	cert := makeCert(t, &x509.Certificate{ExtraExtensions: []pkix.Extension{*san,
		{Id: fulcioOID(8), Value: derString(t, "https://oidc.local")}}})
	got, err := SignerIdentity(cert)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "foo!oidc.local" || got.Issuer != "https://oidc.local" {
		t.Errorf("got %+v, want subject foo!oidc.local issuer https://oidc.local", got)
	}
}
