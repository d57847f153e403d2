package linkfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
	"github.com/intoto-ci/intoto-ci/internal/verify"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// unfinishedLink holds the materials recorded by `record start` until `record stop`. It is bound to the
// job that started it: stop refuses it in another job or run. Start signs it (a DSSE envelope with the
// step's keys, or a Sigstore bundle keyless) and stop refuses it unless that signature verifies with
// the same key, or the same keyless identity: the step that runs between them can read and replace the
// file, and stop would otherwise sign whatever it then holds (issue 12).
type unfinishedLink struct {
	Type   string          `json:"_type"`
	RunKey string          `json:"run_key"`
	Link   json.RawMessage `json:"link"`
}

const unfinishedType = "intoto-ci/unfinished-link/v1"

// UnfinishedPath is where record start keeps the unfinished link of step in dir.
func UnfinishedPath(dir, step string) string {
	return filepath.Join(dir, "."+step+".link-unfinished.json")
}

// Start signs link (its materials; it has no products yet, any it holds are not written) as the
// unfinished link of its step, bound to this job, and writes it into dir; it returns the path.
func (s *Signer) Start(ctx context.Context, dir string, link *intoto.Link) (string, error) {
	started := *link
	started.Products = intoto.ArtifactSet{}
	doc, err := wire.MarshalLink(&started)
	if err != nil {
		return "", fmt.Errorf("encode unfinished link: %w", err)
	}
	payload, err := json.Marshal(unfinishedLink{Type: unfinishedType, RunKey: s.runKey, Link: doc})
	if err != nil {
		return "", fmt.Errorf("encode unfinished link: %w", err)
	}
	var data []byte
	if s.Keyed() {
		data, err = envelope.SignDSSE(intoto.PayloadType, payload, s.keys...)
	} else {
		data, err = s.keyless.Sign(ctx, intoto.PayloadType, payload)
	}
	if err != nil {
		return "", fmt.Errorf("sign the unfinished link of %s: %w", link.Name, err)
	}
	path := UnfinishedPath(dir, link.Name)
	return path, WriteFile(path, data)
}

// Unfinished is an unfinished link as record stop reads it.
type Unfinished struct {
	path string
	data []byte

	link    *intoto.Link           // as started: its materials, no products
	started *intoto.SignerIdentity // keyless: who signed it
}

// ReadUnfinished reads the unfinished link of step in dir, not yet checked (Signer.Check does).
func ReadUnfinished(dir, step string) (*Unfinished, error) {
	path := UnfinishedPath(dir, step)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &InputError{fmt.Errorf("%s: no unfinished link: run 'record start --step %s' first", path, step)}
	} else if err != nil {
		return nil, &InputError{err}
	}
	return &Unfinished{path: path, data: data}, nil
}

// Check checks the unfinished link u before record stop records anything: signed by this signer's
// keys or, keyless, verified against trustedRoot ("" for the public-good root); a link of step;
// started in this job. A check that fails is a Refused, or a JobError for another job's file.
func (s *Signer) Check(ctx context.Context, u *Unfinished, step, trustedRoot string) error {
	payload, started, err := s.verifyUnfinished(ctx, u, trustedRoot)
	if err != nil {
		return err
	}
	var w unfinishedLink
	var l *intoto.Link
	if err := json.Unmarshal(payload, &w); err == nil && w.Type == unfinishedType && len(w.Link) > 0 {
		if l, err = wire.DecodeLink(w.Link); err != nil {
			l = nil
		}
	}
	if l == nil {
		return &Refused{Reason: fmt.Sprintf("%s: signed, but not an unfinished link written by 'record start'", u.path)}
	}
	if l.Name != step {
		return &Refused{Reason: fmt.Sprintf("%s: the signed unfinished link is of step %q, not %q", u.path, l.Name, step)}
	}
	if w.RunKey != s.runKey {
		return &JobError{msg: fmt.Sprintf("%s was started in another job (%s, this is %s): a link may only be finished by the job that saw the step",
			u.path, w.RunKey, s.runKey)}
	}
	u.link, u.started = l, started
	return nil
}

// Finish writes the checked unfinished link u with products into dir, signed as Write does (keyless:
// by the identity that started it, else nothing is written), and removes u's file; it returns the
// link's path.
func (s *Signer) Finish(ctx context.Context, dir string, u *Unfinished, products intoto.ArtifactSet) (string, error) {
	if u.link == nil {
		return "", fmt.Errorf("%s: finished before it was checked", u.path)
	}
	link := *u.link
	link.Products = products
	var out string
	var err error
	if s.Keyed() {
		out, err = s.Write(ctx, dir, &link)
	} else {
		out, err = s.writeKeylessAs(ctx, dir, &link, u.started, u.path)
	}
	if err != nil {
		return "", err
	}
	if err := os.Remove(u.path); err != nil {
		return "", fmt.Errorf("remove %s: %w", u.path, err)
	}
	return out, nil
}

// verifyUnfinished checks the signature of record start: with keys, every key of record stop must have
// signed it; keyless, the bundle must verify against the trusted root. It returns the signed payload
// and, keyless, who signed it (record stop must sign as the same identity). A signature that does not
// verify is a refusal naming the file and why.
func (s *Signer) verifyUnfinished(ctx context.Context, u *Unfinished, trustedRoot string) ([]byte, *intoto.SignerIdentity, error) {
	path := u.path
	refuse := func(format string, a ...any) error {
		return &Refused{Reason: path + ": " + fmt.Sprintf(format, a...) + "; no link written"}
	}
	signed, err := envelope.Parse(u.data)
	if err != nil {
		return nil, nil, refuse("not a signed unfinished link written by 'record start': %v", err)
	}
	if s.Keyed() {
		if signed.Kind != envelope.DSSE || signed.PayloadType != intoto.PayloadType {
			return nil, nil, refuse("not signed by 'record start' with keys (a %s)", signed.Kind)
		}
		for _, k := range s.keys {
			if err := signed.VerifyKey(k.Public()); err != nil {
				return nil, nil, refuse("not signed by key %s, the key of record stop: %v", k.ShortID(), err)
			}
		}
		return signed.Payload, nil, nil
	}
	if signed.Kind != envelope.Bundle {
		return nil, nil, refuse("not a Sigstore bundle: 'record start' signed it with keys, or nobody did")
	}
	kv := s.backend.NewVerifier(keyless.VerifierConfig{TrustedRoot: trustedRoot})
	defer kv.Close()
	got, err := kv.VerifyBundle(ctx, u.data)
	if err != nil {
		if errors.Is(err, verify.ErrVerifierUnavailable) {
			return nil, nil, fmt.Errorf("%s: %w", path, err)
		}
		return nil, nil, refuse("the signature of record start does not verify: %v", err)
	}
	if got.PayloadType != intoto.PayloadType || got.Signer == nil {
		return nil, nil, refuse("the bundle does not sign an unfinished link")
	}
	return got.Payload, got.Signer, nil
}
