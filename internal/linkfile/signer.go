package linkfile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// Options say how links are signed: with Keys (key-signed), else with Keyless.
type Options struct {
	// Keys sign key-signed links (the first names the file); each must have its private part.
	Keys []*keys.Key
	// Format is the key-signed payload: "link" (v0.9, the default) or "statement" (Statement v1 with
	// the link predicate v0.3). A keyless link is always a Statement.
	Format string
	// Envelope is the key-signed envelope: "dsse" (the default) or "legacy" (in-toto-python 1.3.1).
	Envelope string
	// Keyless signs keyless links; Backend reads the signer of what it signed (file names, the
	// identity check of record stop) and verifies unfinished links.
	Keyless keyless.Signer
	Backend keyless.Backend
	// RunKey names the job (ci.RunInfo.Key): files kept for a later command are bound to it.
	RunKey string
}

// Signer writes signed links.
type Signer struct {
	keys    []*keys.Key
	flags   struct{ envelope, format string }
	keyless keyless.Signer
	backend keyless.Backend
	runKey  string
}

// New returns a Signer; it signs with keys when o.Keys holds any, else keylessly.
func New(o Options) (*Signer, error) {
	s := &Signer{keys: o.Keys, keyless: o.Keyless, backend: o.Backend, runKey: o.RunKey}
	s.flags.envelope, s.flags.format = o.Envelope, o.Format
	switch {
	case len(o.Keys) > 0:
		for _, k := range o.Keys {
			if !k.HasPrivate() {
				return nil, fmt.Errorf("key %s: a private key is needed to sign", k.ShortID())
			}
		}
	case o.Keyless == nil || o.Backend == nil:
		return nil, errors.New("link signer: keys, or a keyless signer and its backend, are needed")
	}
	return s, nil
}

// Keyed tells whether the signer signs with keys (else keylessly).
func (s *Signer) Keyed() bool { return len(s.keys) > 0 }

// Write signs link (its name, command, environment, materials and products) and writes it into dir
// under its conventional name; it returns the path. Every form (v0.9 link or Statement, key or
// keyless) is encoded straight from the link's artifact sets. When keyless signing fails the link is
// kept unsigned (UnsignedPath) for a later 'sign' in the same job, and the error says where.
func (s *Signer) Write(ctx context.Context, dir string, link *intoto.Link) (string, error) {
	if s.Keyed() {
		return s.writeKeyLink(dir, link)
	}
	payload, err := keylessPayload(link)
	if err != nil {
		return "", err
	}
	return s.signKeyless(ctx, dir, link.Name, payload, nil)
}

// writeKeylessAs is Write, keyless, for record stop: the new signature must come from the identity
// (issuer and SAN) that signed the unfinished link at record start, else nothing is written.
func (s *Signer) writeKeylessAs(ctx context.Context, dir string, link *intoto.Link, want *intoto.SignerIdentity, started string) (string, error) {
	payload, err := keylessPayload(link)
	if err != nil {
		return "", err
	}
	return s.signKeyless(ctx, dir, link.Name, payload, func(got *intoto.SignerIdentity) error {
		if got.Issuer != want.Issuer || got.Subject != want.Subject {
			return &Refused{Reason: fmt.Sprintf("%s: record start was signed by %s (issuer %s), record stop by %s (issuer %s): "+
				"a step is finished by the identity that started it; no link written", started, want.Subject, want.Issuer, got.Subject, got.Issuer)}
		}
		return nil
	})
}

// signKeyless signs payload into a bundle and writes it, if check (when given) accepts its signer;
// on a signing failure it keeps the payload unsigned.
func (s *Signer) signKeyless(ctx context.Context, dir, step string, payload []byte, check func(*intoto.SignerIdentity) error) (string, error) {
	data, err := s.keyless.Sign(ctx, intoto.PayloadType, payload)
	if err != nil {
		kept, kerr := keepUnsigned(dir, step, s.runKey, payload)
		if kerr != nil {
			return "", fmt.Errorf("sign link %s: %w (and the unsigned link could not be kept: %w)", step, err, kerr)
		}
		return "", fmt.Errorf("sign link %s: %w; the unsigned link is kept at %s: sign it later in this job "+
			"with 'intoto-ci sign --signing keyless --file %s'", step, err, kept, kept)
	}
	signer, err := s.backend.BundleSigner(ctx, data)
	if err != nil {
		return "", fmt.Errorf("read signed bundle: %w", err)
	}
	if check != nil {
		if err := check(signer); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, keylessName(step, signer, payload))
	return path, WriteFile(path, data)
}

// keylessName is "<step>.<id8>.link.sigstore.json". id8 is the first 8 hex digits of
// sha256(SAN "\n" sha256(payload)): stable for one signer and one recorded content, so a retried
// signature of the same evidence replaces its file, while two matrix legs (or jobs) that recorded
// different artifacts, or two signers, never share a name.
func keylessName(step string, signer *intoto.SignerIdentity, payload []byte) string {
	pd := sha256.Sum256(payload)
	id := sha256.Sum256([]byte(signer.Subject + "\n" + hex.EncodeToString(pd[:])))
	return step + "." + hex.EncodeToString(id[:])[:8] + ".link.sigstore.json"
}

// Refused is a file this package will not sign or finish, and why: a verdict (exit 1), not a failure.
type Refused struct{ Reason string }

func (r *Refused) Error() string { return r.Reason }

// InputError is a file that cannot be read or is not what it should be (exit 2).
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// JobError is a file kept by another job or run than this one: only the job that saw a step may
// finish or sign its link (exit 2).
type JobError struct{ msg string }

func (e *JobError) Error() string { return e.msg }
