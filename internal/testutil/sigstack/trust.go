package sigstack

import (
	"crypto"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/rekor-tiles/v2/pkg/note"
	"github.com/sigstore/sigstore-go/pkg/root"
)

// writeTrust builds trusted_root.json from what the servers publish and signing_config.json pointing at
// them.
func (s *Stack) writeTrust(rekorPub ed25519.PublicKey) error {
	// Everything the stack signs is younger than the stack; a minute of slack absorbs clock rounding.
	start := time.Now().Add(-time.Minute)

	var bundle struct {
		Chains []struct {
			Certificates []string `json:"certificates"`
		} `json:"chains"`
	}
	body, err := get(s.FulcioURL + "/api/v2/trustBundle")
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, &bundle); err != nil {
		return fmt.Errorf("parse fulcio trust bundle: %w", err)
	}
	if len(bundle.Chains) == 0 {
		return fmt.Errorf("fulcio trust bundle has no chains")
	}
	var pems []byte
	for _, c := range bundle.Chains[0].Certificates {
		pems = append(pems, c...)
	}
	fulcioChain, err := parseCerts(pems)
	if err != nil {
		return fmt.Errorf("fulcio trust bundle: %w", err)
	}
	n := len(fulcioChain)
	ca := &root.FulcioCertificateAuthority{
		Root:                fulcioChain[n-1],
		Intermediates:       fulcioChain[:n-1],
		ValidityPeriodStart: fulcioChain[n-1].NotBefore,
		URI:                 s.FulcioURL,
	}

	body, err = get(tsaBase(s.TSAURL) + "/api/v1/timestamp/certchain")
	if err != nil {
		return err
	}
	tsaChain, err := parseCerts(body)
	if err != nil {
		return fmt.Errorf("tsa certificate chain: %w", err)
	}
	if len(tsaChain) < 2 {
		return fmt.Errorf("tsa certificate chain has %d certificates, want leaf and root", len(tsaChain))
	}
	m := len(tsaChain)
	tsa := &root.SigstoreTimestampingAuthority{
		Leaf:                tsaChain[0],
		Intermediates:       tsaChain[1 : m-1],
		Root:                tsaChain[m-1],
		ValidityPeriodStart: tsaChain[m-1].NotBefore,
		URI:                 s.TSAURL,
	}

	_, logID, err := note.KeyHash(RekorOrigin, rekorPub)
	if err != nil {
		return fmt.Errorf("rekor log id: %w", err)
	}
	tlog := &root.TransparencyLog{
		BaseURL:             s.RekorURL,
		ID:                  logID,
		ValidityPeriodStart: start,
		HashFunc:            crypto.SHA256,
		PublicKey:           rekorPub,
		SignatureHashFunc:   crypto.SHA512,
	}

	tr, err := root.NewTrustedRoot(root.TrustedRootMediaType01,
		[]root.CertificateAuthority{ca},
		map[string]*root.TransparencyLog{},
		[]root.TimestampingAuthority{tsa},
		map[string]*root.TransparencyLog{hex.EncodeToString(logID): tlog})
	if err != nil {
		return fmt.Errorf("build trusted root: %w", err)
	}
	trJSON, err := json.Marshal(tr)
	if err != nil {
		return fmt.Errorf("marshal trusted root: %w", err)
	}
	s.TrustedRootPath = filepath.Join(s.Dir, "trusted_root.json")
	if err := os.WriteFile(s.TrustedRootPath, trJSON, 0o600); err != nil {
		return fmt.Errorf("write trusted root: %w", err)
	}

	const operator = "intoto-ci-sigstack"
	svc := func(url string, version uint32) []root.Service {
		return []root.Service{{URL: url, MajorAPIVersion: version, ValidityPeriodStart: start, Operator: operator}}
	}
	anyOne := root.ServiceConfiguration{Selector: prototrustroot.ServiceSelector_ANY}
	sc, err := root.NewSigningConfig(root.SigningConfigMediaType02,
		svc(s.FulcioURL, 1),
		svc(s.GitHub.URL, 1),
		svc(s.RekorURL, 2), anyOne,
		svc(s.TSAURL, 1), anyOne)
	if err != nil {
		return fmt.Errorf("build signing config: %w", err)
	}
	scJSON, err := json.Marshal(sc)
	if err != nil {
		return fmt.Errorf("marshal signing config: %w", err)
	}
	s.SigningConfigPath = filepath.Join(s.Dir, "signing_config.json")
	if err := os.WriteFile(s.SigningConfigPath, scJSON, 0o600); err != nil {
		return fmt.Errorf("write signing config: %w", err)
	}
	return nil
}

func tsaBase(timestampURL string) string {
	const suffix = "/api/v1/timestamp"
	return timestampURL[:len(timestampURL)-len(suffix)]
}

func get(url string) ([]byte, error) {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s", url, resp.Status)
	}
	return body, nil
}

func parseCerts(pems []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	for {
		var block *pem.Block
		block, pems = pem.Decode(pems)
		if block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("no certificates")
	}
	return certs, nil
}
