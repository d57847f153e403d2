package keyless_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/sigstore"
)

const signingConfig = `{
  "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "caUrls": [{"url": "https://fulcio.example", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "x"}],
  "rekorTlogUrls": [
    {"url": "https://rekor-v1.example", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "x"},
    {"url": "https://rekor-v2.example", "majorApiVersion": 2, "validFor": {"start": "2021-01-01T00:00:00Z"}, "operator": "x"}],
  "tsaUrls": [{"url": "https://tsa.example/api/v1/timestamp", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "x"}],
  "rekorTlogConfig": {"selector": "ANY"},
  "tsaConfig": {"selector": "ANY"}
}`

// TestExecResolve: with a signing config, intoto-ci has the helper read it (this binary links no
// reader of signing configs), and gets what sigstore-go in-process chooses; without one it resolves
// here, without a helper.
func TestExecResolve(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cfg := filepath.Join(t.TempDir(), "signing_config.json")
	if err := os.WriteFile(cfg, []byte(signingConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	x := keyless.Exec{Path: helper(t)}
	for _, opts := range []keyless.Options{
		{SigningConfig: cfg},
		{SigningConfig: cfg, RekorVersion: 1},
		{SigningConfig: cfg, Private: true},
		{SigningConfig: cfg, FulcioURL: "https://f.example", TSAURLs: []string{"https://t.example"}},
	} {
		got, err := x.Resolve(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		want, err := sigstore.Resolve(opts)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("%+v: the helper resolved otherwise than sigstore-go here (-want +got):\n%s", opts, d)
		}
	}
	got, err := x.Resolve(ctx, keyless.Options{SigningConfig: cfg})
	if err != nil || got.Fulcio != "https://fulcio.example" || len(got.Rekors) != 1 || got.Rekors[0].Version != 2 {
		t.Errorf("signing config: got %+v, %v; want its fulcio and its rekor v2", got, err)
	}
	if _, err := x.Resolve(ctx, keyless.Options{SigningConfig: filepath.Join(t.TempDir(), "none.json")}); err == nil ||
		!strings.Contains(err.Error(), "load signing config") {
		t.Errorf("missing signing config: got %v, want the helper's load error", err)
	}
	noHelper := keyless.Exec{Path: filepath.Join(t.TempDir(), "no-helper")}
	if got, err := noHelper.Resolve(ctx, keyless.Options{FulcioURL: "https://f.example"}); err != nil || got.Fulcio != "https://f.example" {
		t.Errorf("flags only, no helper: got %+v, %v; want them resolved here", got, err)
	}
	if _, err := noHelper.Resolve(ctx, keyless.Options{SigningConfig: cfg}); !errors.Is(err, keyless.ErrUnavailable) ||
		!strings.Contains(err.Error(), keyless.HelperName) {
		t.Errorf("signing config, no helper: got %v, want ErrUnavailable naming the missing helper", err)
	}
	if _, err := x.Resolve(ctx, keyless.Options{SigningConfig: filepath.Join(t.TempDir(), "none.json")}); errors.Is(err, keyless.ErrUnavailable) {
		t.Errorf("the helper's answer was marked unavailable: %v", err)
	}
}

// TestExecBundleSigner: the helper reads a bundle's certificate identity as sigstore-go's side does
// in-process, and refuses a bundle without a certificate.
func TestExecBundleSigner(t *testing.T) {
	t.Parallel()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	san, _ := url.Parse("https://github.com/acme/app/.github/workflows/build.yml@refs/heads/main")
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), URIs: []*url.URL{san},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour),
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1}, Value: []byte("https://issuer.example")}}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := json.Marshal(map[string]any{"verificationMaterial": map[string]any{"certificate": map[string]any{"rawBytes": der}}})
	if err != nil {
		t.Fatal(err)
	}
	x := keyless.Exec{Path: helper(t)}
	got, err := x.BundleSigner(context.Background(), bundle)
	if err != nil {
		t.Fatal(err)
	}
	want, err := sigstore.BundleSigner(bundle)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(want, got); d != "" || got.Subject != san.String() || got.Issuer != "https://issuer.example" {
		t.Errorf("signer (-want +got):\n%s\ngot %+v", d, got)
	}
	if _, err := x.BundleSigner(context.Background(), []byte(`{"verificationMaterial":{}}`)); err == nil ||
		!strings.Contains(err.Error(), "no certificate") {
		t.Errorf("bundle without a certificate: got %v, want it refused", err)
	}
}
