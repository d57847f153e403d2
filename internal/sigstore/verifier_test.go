package sigstore

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/trust"
	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/testing/ca"
)

const statement = `{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"dist/app","digest":{"sha256":"` +
	`2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"}}],` +
	`"predicateType":"https://in-toto.io/attestation/link/v0.3","predicate":{"name":"build"}}`

// noCT hides the VirtualSigstore's CT log: its leaf certificates carry no SCT, like a private stack.
type noCT struct{ *ca.VirtualSigstore }

func (noCT) CTLogs() map[string]*root.TransparencyLog { return nil }

func virtualSigstore(t testing.TB) *ca.VirtualSigstore {
	t.Helper()
	vs, err := ca.NewVirtualSigstore()
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func newVerifier(t testing.TB, tm root.TrustedMaterial) *KeylessVerifier {
	t.Helper()
	v, err := NewKeylessVerifier(tm)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestVerifyVirtualSigstore(t *testing.T) {
	t.Parallel()
	vs := virtualSigstore(t)
	v := newVerifier(t, noCT{vs})
	attest := map[string]func(id, iss string, body []byte) (*ca.TestEntity, error){
		"rekor v1 dsse":         vs.Attest,
		"rekor v2 hashedrekord": vs.AttestHashedRekordV2,
	}
	for name, fn := range attest {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e, err := fn("build@example.com", "https://issuer.example", []byte(statement))
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.verifyEntity(e)
			if err != nil {
				t.Fatalf("verifyEntity() = %v", err)
			}
			if got.PayloadType != intoto.PayloadType || string(got.Payload) != statement {
				t.Errorf("payload = %s %q, want the signed statement", got.PayloadType, got.Payload)
			}
			if got.Signer.Subject != "build@example.com" || got.Signer.Issuer != "https://issuer.example" {
				t.Errorf("signer = %+v, want build@example.com from https://issuer.example", got.Signer)
			}
			if got.Time.IsZero() || time.Since(got.Time) > time.Hour {
				t.Errorf("time = %v, want about now", got.Time)
			}
		})
	}
}

func TestVerifyRefusesOtherTrustRoot(t *testing.T) {
	t.Parallel()
	e, err := virtualSigstore(t).Attest("build@example.com", "https://issuer.example", []byte(statement))
	if err != nil {
		t.Fatal(err)
	}
	other := newVerifier(t, noCT{virtualSigstore(t)})
	if _, err := other.verifyEntity(e); !errors.Is(err, ErrVerification) {
		t.Errorf("verifyEntity() with another trust root = %v, want ErrVerification", err)
	}
}

func TestVerifyRequiresSCTsWhenRootHasCTLogs(t *testing.T) {
	t.Parallel()
	vs := virtualSigstore(t) // lists a CT log; its leaves carry no SCT
	e, err := vs.Attest("build@example.com", "https://issuer.example", []byte(statement))
	if err != nil {
		t.Fatal(err)
	}
	_, err = newVerifier(t, vs).verifyEntity(e)
	if !errors.Is(err, ErrVerification) || !strings.Contains(err.Error(), "certificate timestamp") {
		t.Errorf("verifyEntity() = %v, want an SCT failure", err)
	}
}

func loadFixture(t testing.TB) (*KeylessVerifier, []byte) {
	t.Helper()
	tr, err := trust.LoadTrustedRoot("testdata/trusted-root-public-good.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("testdata/public-good-provenance.sigstore.json")
	if err != nil {
		t.Fatal(err)
	}
	return newVerifier(t, tr), b
}

// TestVerifyPublicGoodFixture verifies a real public-good bundle offline: SCT, Rekor v1 SET and
// inclusion proof, certificate checked at the integrated time (2023), GitHub claims extracted.
func TestVerifyPublicGoodFixture(t *testing.T) {
	t.Parallel()
	v, b := loadFixture(t)
	got, err := v.VerifyBundle(context.Background(), b)
	if err != nil {
		t.Fatalf("VerifyBundle() = %v", err)
	}
	const repo = "https://github.com/sigstore/sigstore-js"
	wantClaims := map[string]string{
		"issuer":                                  "https://token.actions.githubusercontent.com",
		"build_signer_uri":                        repo + "/.github/workflows/release.yml@refs/heads/main",
		"build_signer_digest":                     "f0b49a04e5a62250e0f60fb128004a73110fe311",
		"runner_environment":                      "github-hosted",
		"source_repository_uri":                   repo,
		"source_repository_digest":                "f0b49a04e5a62250e0f60fb128004a73110fe311",
		"source_repository_ref":                   "refs/heads/main",
		"source_repository_identifier":            "495574555",
		"source_repository_owner_uri":             "https://github.com/sigstore",
		"source_repository_owner_identifier":      "71096353",
		"build_config_uri":                        repo + "/.github/workflows/release.yml@refs/heads/main",
		"build_config_digest":                     "f0b49a04e5a62250e0f60fb128004a73110fe311",
		"build_trigger":                           "push",
		"run_invocation_uri":                      repo + "/actions/runs/5904696764/attempts/1",
		"source_repository_visibility_at_signing": "public",
	}
	if diff := cmp.Diff(wantClaims, got.Signer.Claims); diff != "" {
		t.Errorf("claims mismatch (-want +got):\n%s", diff)
	}
	if want := repo + "/.github/workflows/release.yml@refs/heads/main"; got.Signer.Subject != want {
		t.Errorf("subject = %q, want %q", got.Signer.Subject, want)
	}
	if got.Signer.Issuer != "https://token.actions.githubusercontent.com" {
		t.Errorf("issuer = %q", got.Signer.Issuer)
	}
	if got.Time.Year() != 2023 {
		t.Errorf("time = %v, want the 2023 integrated time", got.Time)
	}
	if got.PayloadType != intoto.PayloadType || !strings.Contains(string(got.Payload), `"predicateType":"https://slsa.dev/provenance/v1"`) {
		t.Errorf("payload = %s %.80q…", got.PayloadType, got.Payload)
	}
}

func TestVerifyRefusesAlteredFixture(t *testing.T) {
	t.Parallel()
	v, b := loadFixture(t)
	tests := []struct {
		name    string
		old     string
		new     string
		wantErr error
	}{
		// The DSSE payload is base64 of JSON starting {"_type":…: flip one base64 character.
		{name: "payload", old: `"payload": "eyJfdHlwZSI6`, new: `"payload": "eyJfdHlwZSI7`, wantErr: ErrVerification},
		{name: "not json", old: `{`, new: `[`, wantErr: ErrMalformedBundle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(b), tt.old) {
				t.Fatalf("fixture lacks %q", tt.old)
			}
			altered := strings.Replace(string(b), tt.old, tt.new, 1)
			if _, err := v.VerifyBundle(context.Background(), []byte(altered)); !errors.Is(err, tt.wantErr) {
				t.Errorf("VerifyBundle(altered) = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestVerifyFixtureAgainstOtherRoot(t *testing.T) {
	t.Parallel()
	_, b := loadFixture(t)
	v := newVerifier(t, noCT{virtualSigstore(t)})
	if _, err := v.VerifyBundle(context.Background(), b); !errors.Is(err, ErrVerification) {
		t.Errorf("VerifyBundle() against a virtual root = %v, want ErrVerification", err)
	}
}
