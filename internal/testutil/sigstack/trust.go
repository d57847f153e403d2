package sigstack

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	prototrustroot "github.com/sigstore/protobuf-specs/gen/pb-go/trustroot/v1"
	"github.com/sigstore/sigstore-go/pkg/root"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/trust"
)

// writeTrust builds trusted_root.json from what the servers publish (with trust.CreateTrustedRoot, the
// writer of `intoto-ci trusted-root create`) and signing_config.json pointing at them.
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
	var fulcioPEM []byte
	for _, c := range bundle.Chains[0].Certificates {
		fulcioPEM = append(fulcioPEM, c...)
	}
	tsaPEM, err := get(tsaBase(s.TSAURL) + "/api/v1/timestamp/certchain")
	if err != nil {
		return err
	}
	rekorDER, err := x509.MarshalPKIXPublicKey(rekorPub)
	if err != nil {
		return fmt.Errorf("encode rekor key: %w", err)
	}
	// The one trusted-root writer: what `intoto-ci trusted-root create` runs, given what the servers publish.
	trJSON, err := trust.CreateTrustedRoot(&keyless.TrustedRootSpec{
		Fulcio: []keyless.CASpec{{URL: s.FulcioURL, ChainPEM: fulcioPEM}},
		TSAs:   []keyless.CASpec{{URL: s.TSAURL, ChainPEM: tsaPEM}},
		Rekors: []keyless.LogSpec{{URL: s.RekorURL, Origin: RekorOrigin, Start: start,
			PublicKeyPEM: pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: rekorDER})}},
	})
	if err != nil {
		return fmt.Errorf("stack trusted root: %w", err)
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
