package trust

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sigstore/sigstore-go/pkg/root"
	"github.com/sigstore/sigstore-go/pkg/tuf"
)

// LoadTrustedRoot reads a Sigstore trusted_root.json (media type
// application/vnd.dev.sigstore.trustedroot+json;version=0.1): the Fulcio CAs, Rekor logs, CT logs and
// timestamp authorities that verification trusts. This is the offline path and the one tests use.
func LoadTrustedRoot(path string) (*root.TrustedRoot, error) {
	tr, err := root.NewTrustedRootFromPath(path)
	if err != nil {
		return nil, fmt.Errorf("load trusted root %q: %w", path, err)
	}
	return tr, nil
}

// DefaultTUFCacheDir is where the public-good TUF metadata and trusted root are cached:
// $HOME/.sigstore/root, the directory cosign and sigstore-go use, so a machine shares one cache.
func DefaultTUFCacheDir() string {
	home, err := os.UserHomeDir()
	if err != nil {
		home = os.TempDir()
	}
	return filepath.Join(home, ".sigstore", "root")
}

// PublicGoodOptions configures FetchPublicGood.
type PublicGoodOptions struct {
	// CacheDir holds the TUF metadata cache; empty means DefaultTUFCacheDir().
	CacheDir string
}

// FetchPublicGood returns the trusted root of the public-good Sigstore instance, updated through TUF
// from https://tuf-repo-cdn.sigstore.dev starting at the TUF root embedded in sigstore-go and cached
// in opts.CacheDir. It needs the network unless the cache is fresh. The embedded TUF root has an
// expiry: on a machine whose clock is past it, or without network, pass a trusted_root.json to
// LoadTrustedRoot instead (e.g. --trusted-root).
func FetchPublicGood(ctx context.Context, opts PublicGoodOptions) (*root.TrustedRoot, error) {
	o := tuf.DefaultOptions().WithContext(ctx)
	if opts.CacheDir != "" {
		o = o.WithCachePath(opts.CacheDir)
	} else {
		o = o.WithCachePath(DefaultTUFCacheDir())
	}
	tr, err := root.FetchTrustedRootWithOptions(o)
	if err != nil {
		return nil, fmt.Errorf("fetch public-good trusted root through tuf: %w", err)
	}
	return tr, nil
}
