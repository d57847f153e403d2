package sigstore

import (
	"context"
	"os"
	"testing"
)

// FuzzVerifyBundle: arbitrary bytes must be refused (or verified) without panicking, and a verified
// result always carries a signer.
func FuzzVerifyBundle(f *testing.F) {
	v, b := loadFixture(f)
	f.Add(b)
	if e, err := os.ReadFile("testdata/trusted-root-public-good.json"); err == nil {
		f.Add(e)
	}
	f.Add([]byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := v.VerifyBundle(context.Background(), data)
		if err == nil && (got.Signer == nil || got.Time.IsZero()) {
			t.Errorf("VerifyBundle() = %+v without error, want a signer and a time", got)
		}
	})
}
