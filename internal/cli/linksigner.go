package cli

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/identity"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

// linkSigner turns a link into a signed file: DSSE or legacy envelope with keys, or a Sigstore bundle.
type linkSigner struct {
	mode      string // "key" or "keyless"
	keys      []*intoto.Key
	flags     *signFlags
	platform  ci.Platform
	sensitive []string
	keyless   keyless.Signer // nil until needed (keyless only)
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
			k, err := loadPrivateKey(e, path, f.keyPassword)
			if err != nil {
				return nil, err
			}
			s.keys = append(s.keys, k)
		}
		if f.keyEnv != "" {
			k, err := keyFromEnv(e, f.keyEnv, f.keyPassword)
			if err != nil {
				return nil, err
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
		services, err := keyless.Resolve(keyless.Options{
			FulcioURL:     f.fulcioURL,
			RekorURL:      f.rekorURL,
			RekorVersion:  uint32(f.rekorVersion),
			TSAURLs:       f.tsaURLs,
			SigningConfig: f.signingConfig,
			Private:       f.private,
		})
		if err != nil {
			return nil, usagef("keyless signing: %w", err)
		}
		s.keyless, err = e.keyless.NewSigner(keyless.SignerConfig{
			Services: services,
			Token:    &maskingSource{src: src, platform: platform},
			Timeout:  f.serviceTimeout,
			Logger:   e.logger,
		})
		if err != nil {
			return nil, fmt.Errorf("keyless signing: %w", err)
		}
	}
	return s, nil
}

func loadPrivateKey(e *env, path, password string) (*intoto.Key, error) {
	if password == "" {
		password = ci.KeyPassword(e.getenv)
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	k, err := intoto.LoadKeyWithPassword(path, pw)
	if err != nil {
		return nil, inputErr(err)
	}
	if !k.HasPrivate() {
		return nil, inputErr(fmt.Errorf("key %s: a private key is needed to sign, this is a public key", path))
	}
	return k, nil
}

// keyFromEnv reads a private key held in an environment variable (a CI secret), so it is never a file
// nor an argument. The error names the variable, never its content.
func keyFromEnv(e *env, name, password string) (*intoto.Key, error) {
	data := e.getenv(name)
	if data == "" {
		return nil, usagef("--key-env %s: the variable is unset or empty", name)
	}
	if password == "" {
		password = ci.KeyPassword(e.getenv)
	}
	var pw []byte
	if password != "" {
		pw = []byte(password)
	}
	k, err := intoto.ParseKey([]byte(data), pw)
	if err != nil {
		return nil, inputErr(fmt.Errorf("key in $%s: %w", name, err))
	}
	if !k.HasPrivate() {
		return nil, inputErr(fmt.Errorf("key in $%s: a private key is needed to sign, this is a public key", name))
	}
	return k, nil
}

// maskingSource masks every token it hands out in the CI log before anything could print it.
type maskingSource struct {
	src      identity.Source
	platform ci.Platform
}

func (m *maskingSource) Token(ctx context.Context) (string, error) {
	t, err := m.src.Token(ctx)
	if err == nil && t != "" {
		m.platform.Mask(t)
	}
	return t, err
}

func (m *maskingSource) Name() string { return m.src.Name() }

func (s *linkSigner) sensitiveEnv() []string { return s.sensitive }

// writeLink signs link and writes it into dir under its conventional name; it returns the path.
// Every form (v0.9 link or Statement, key or keyless) is encoded straight from the link's artifact
// sets. When keyless signing fails the link is kept unsigned (see keepUnsigned) for `intoto-ci sign`.
func (s *linkSigner) writeLink(ctx context.Context, dir string, link *intoto.Link) (string, error) {
	if s.mode == "key" {
		return s.writeKeyLink(dir, link)
	}
	step := link.Name
	payload, err := keylessPayload(link)
	if err != nil {
		return "", err
	}
	return s.signKeyless(ctx, dir, step, payload, nil)
}

// writeKeylessAs is writeLink, keyless, for record stop: the new signature must come from the
// identity (issuer and SAN) that signed the unfinished link at record start, else nothing is written.
func (s *linkSigner) writeKeylessAs(ctx context.Context, dir string, link *intoto.Link, want *intoto.SignerIdentity, started string) (string, error) {
	payload, err := keylessPayload(link)
	if err != nil {
		return "", err
	}
	return s.signKeyless(ctx, dir, link.Name, payload, func(bundle []byte) error {
		got, err := bundleSigner(bundle)
		if err != nil {
			return fmt.Errorf("read signed bundle: %w", err)
		}
		if got.Issuer != want.Issuer || got.Subject != want.Subject {
			return &refusedError{reason: fmt.Sprintf("%s: record start was signed by %s (issuer %s), record stop by %s (issuer %s): "+
				"a step is finished by the identity that started it; no link written", started, want.Subject, want.Issuer, got.Subject, got.Issuer)}
		}
		return nil
	})
}

// signKeyless signs payload into a bundle and writes it, if check (when given) accepts the bundle;
// on a signing failure it keeps the payload unsigned.
func (s *linkSigner) signKeyless(ctx context.Context, dir, step string, payload []byte, check func(bundle []byte) error) (string, error) {
	data, err := s.keyless.Sign(ctx, intoto.PayloadType, payload)
	if err != nil {
		kept, kerr := keepUnsigned(dir, step, s.platform.RunInfo(), payload)
		if kerr != nil {
			return "", fmt.Errorf("sign link %s: %w (and the unsigned link could not be kept: %w)", step, err, kerr)
		}
		return "", fmt.Errorf("sign link %s: %w; the unsigned link is kept at %s: sign it later in this job "+
			"with 'intoto-ci sign --signing keyless --file %s'", step, err, kept, kept)
	}
	if check != nil {
		if err := check(data); err != nil {
			return "", err
		}
	}
	name, err := keylessLinkName(step, data, payload)
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, name)
	return path, writeFileAtomic(path, data)
}

// keylessLinkName is "<step>.<id8>.link.sigstore.json". id8 is the first 8 hex digits of
// sha256(SAN "\n" sha256(payload)): stable for one signer and one recorded content, so a retried
// signature of the same evidence replaces its file, while two matrix legs (or jobs) that recorded
// different artifacts, or two signers, never share a name.
func keylessLinkName(step string, bundleJSON, payload []byte) (string, error) {
	signer, err := bundleSigner(bundleJSON)
	if err != nil {
		return "", fmt.Errorf("read signed bundle: %w", err)
	}
	pd := sha256.Sum256(payload)
	id := sha256.Sum256([]byte(signer.Subject + "\n" + hex.EncodeToString(pd[:])))
	return step + "." + hex.EncodeToString(id[:])[:8] + ".link.sigstore.json", nil
}

// unsignedLink is a link whose keyless signature failed, kept in the job's workspace. RunKey binds it to
// the job that witnessed the step: `sign` refuses it in any other job or run.
type unsignedLink struct {
	Type        string `json:"_type"`
	Step        string `json:"step"`
	RunKey      string `json:"run_key"`
	PayloadType string `json:"payloadType"`
	Payload     string `json:"payload"`

	path    string // the file it was read from
	payload []byte // Payload decoded
}

const unsignedType = "intoto-ci/unsigned-link/v1"

func unsignedLinkPath(dir, step string) string {
	return filepath.Join(dir, "."+step+".link-unsigned.json")
}

func keepUnsigned(dir, step string, info ci.RunInfo, payload []byte) (string, error) {
	data, err := json.MarshalIndent(unsignedLink{
		Type:        unsignedType,
		Step:        step,
		RunKey:      info.Key(),
		PayloadType: intoto.PayloadType,
		Payload:     base64.StdEncoding.EncodeToString(payload),
	}, "", "  ")
	if err != nil {
		return "", fmt.Errorf("encode unsigned link: %w", err)
	}
	path := unsignedLinkPath(dir, step)
	return path, writeFileAtomic(path, data)
}

func readUnsigned(path string) (*unsignedLink, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read unsigned link: %w", err)
	}
	var u unsignedLink
	if err := json.Unmarshal(data, &u); err != nil || u.Type != unsignedType {
		return nil, fmt.Errorf("%s: not an unsigned link kept by intoto-ci run", path)
	}
	if u.payload, err = base64.StdEncoding.DecodeString(u.Payload); err != nil {
		return nil, fmt.Errorf("%s: payload: %w", path, err)
	}
	u.path = path
	return &u, nil
}
