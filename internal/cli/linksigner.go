package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/identity"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/linkfile"
)

// linkSigner turns a link into a signed file: DSSE or legacy envelope with keys, or a Sigstore bundle.
type linkSigner struct {
	mode      string // "key" or "keyless"
	keys      []*keys.Key
	flags     *signFlags
	platform  ci.Platform
	sensitive []string
	keyless   keyless.Signer // nil until needed (keyless only)
	// links writes links, unfinished links and kept unsigned links (run, record, sign).
	links *linkfile.Signer
}

// newLinkSigner prepares signing before the step runs, so a missing key or token source fails fast,
// before the command spends time, and so the token variables are known and can be scrubbed.
func newLinkSigner(e *env, f *signFlags) (*linkSigner, error) {
	mode, err := f.mode()
	if err != nil {
		return nil, err
	}
	platform, err := ci.Detect(e.getenv, e.stdio.Out)
	if err != nil {
		return nil, usagef("%w", err)
	}
	s := &linkSigner{mode: mode, flags: f, platform: platform}
	s.sensitive = ci.HiddenEnv(f.identityEnv, f.keyEnv)
	switch mode {
	case "key":
		for _, path := range f.keys {
			k, err := keys.LoadSigning(path, keyPassword(e, f.keyPassword))
			if err != nil {
				return nil, inputErr(err)
			}
			s.keys = append(s.keys, k)
		}
		if f.keyEnv != "" {
			data := e.getenv(f.keyEnv)
			if data == "" {
				return nil, usagef("--key-env %s: the variable is unset or empty", f.keyEnv)
			}
			k, err := keys.ParseSigning([]byte(data), "key in $"+f.keyEnv, keyPassword(e, f.keyPassword))
			if err != nil {
				return nil, inputErr(err)
			}
			s.keys = append(s.keys, k)
		}
	case "keyless":
		src, err := identity.Detect(identity.Env(func(k string) (string, bool) {
			v := e.getenv(k)
			return v, v != ""
		}), identity.Options{
			Token:     f.identityToken,
			TokenFile: f.identityFile,
			TokenEnv:  f.identityEnv,
			Audience:  f.oidcAudience,
			Retry:     identity.Retry{Timeout: f.serviceTimeout},
			Logger:    e.logger,
		})
		if err != nil {
			return nil, usagef("%w", err)
		}
		// Resolving reads no network; with a signing config the helper reads it (sigstore-go).
		services, err := e.keyless.Resolve(context.Background(), keyless.Options{
			FulcioURL:     f.fulcioURL,
			RekorURL:      f.rekorURL,
			RekorVersion:  uint32(f.rekorVersion),
			TSAURLs:       f.tsaURLs,
			SigningConfig: f.signingConfig,
			Private:       f.private,
		})
		if errors.Is(err, keyless.ErrUnavailable) {
			return nil, fmt.Errorf("keyless signing: %w", err) // no helper to read the signing config: operational
		} else if err != nil {
			return nil, usagef("keyless signing: %w", err)
		}
		s.keyless, err = e.keyless.NewSigner(keyless.SignerConfig{
			Services: services,
			Token:    identity.Masked(src, platform.Mask),
			Timeout:  f.serviceTimeout,
			Logger:   e.logger,
		})
		if err != nil {
			return nil, fmt.Errorf("keyless signing: %w", err)
		}
	}
	s.links, err = linkfile.New(linkfile.Options{Keys: s.keys, Format: f.format, Envelope: f.envelope,
		Keyless: s.keyless, Backend: e.keyless, RunKey: platform.RunInfo().Key()})
	if err != nil {
		return nil, usagef("%w", err)
	}
	return s, nil
}

// keyPassword is --key-password, else INTOTO_CI_KEY_PASSWORD.
func keyPassword(e *env, password string) string {
	if password == "" {
		return ci.KeyPassword(e.getenv)
	}
	return password
}

func (s *linkSigner) sensitiveEnv() []string { return s.sensitive }
