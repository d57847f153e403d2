package trust

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net/url"
	"testing"
)

// FuzzSignerIdentity feeds arbitrary certificates: SignerIdentity must never panic.
func FuzzSignerIdentity(f *testing.F) {
	cert := makeCert(f, &x509.Certificate{
		URIs: []*url.URL{mustURL(f, "https://github.com/a/b/.github/workflows/c.yml@refs/heads/main")},
		ExtraExtensions: []pkix.Extension{
			{Id: fulcioOID(8), Value: derString(f, "https://token.actions.githubusercontent.com")},
			{Id: fulcioOID(24), Value: derString(f, "repo:a/b:ref:refs/heads/main")},
		},
	})
	f.Add(cert.Raw)
	f.Fuzz(func(t *testing.T, der []byte) {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return
		}
		id, err := SignerIdentity(c)
		if err == nil && (id.Issuer == "" || id.Subject == "") {
			t.Errorf("SignerIdentity() = %+v without error, want issuer and subject", id)
		}
	})
}
