package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/intoto-ci/intoto-ci/internal/ci"
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
	Type   string `json:"_type"`
	RunKey string `json:"run_key"`
	// Link is the link so far, written and read by package wire (one pass, not encoding/json's maps).
	Link json.RawMessage `json:"link"`
}

const unfinishedType = "intoto-ci/unfinished-link/v1"

func unfinishedPath(dir, step string) string {
	return filepath.Join(dir, "."+step+".link-unfinished.json")
}

func recordCommand() *command {
	c := &command{
		name:    "record",
		summary: "record a step that is not one command: 'record start' before it, 'record stop' after it",
		usage:   "start|stop --step NAME [--materials P…|--products P…] [flags]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 || (args[0] != "start" && args[0] != "stop") {
			return usagef("record needs start or stop")
		}
		fs := newFlagSet(e, c)
		var f recordFlags
		f.declare(fs)
		trustedRoot := fs.String("trusted-root", "", "keyless: sigstore trusted_root.json `file` that record stop checks the signature of record start against (default: public-good via TUF)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if err := f.check(); err != nil {
			return err
		}
		if fs.NArg() > 0 {
			return usagef("record takes no command; use run to wrap one")
		}
		platform, err := ci.Detect(e.getenv, e.stdio.Out)
		if err != nil {
			return usagef("%w", err)
		}
		if args[0] == "start" {
			return recordStart(ctx, e, &f, platform.RunInfo())
		}
		return recordStop(ctx, e, &f, platform.RunInfo(), *trustedRoot)
	}
	return c
}

func recordStart(ctx context.Context, e *env, f *recordFlags, info ci.RunInfo) error {
	if len(f.products) > 0 {
		return usagef("record start records materials; give --products to record stop")
	}
	// Fail now, not after the step, if signing cannot work.
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	materials, err := f.recorder(e).record(ctx, f.materials)
	if err != nil {
		return inputErr(fmt.Errorf("record materials: %w", err))
	}
	link, err := wire.MarshalLink(&intoto.Link{
		Type: intoto.TypeLink, Name: f.step, Command: []string{}, Materials: materials,
		Products: intoto.ArtifactSet{}, ByProducts: map[string]any{}, Environment: f.environment(),
	})
	if err != nil {
		return fmt.Errorf("encode unfinished link: %w", err)
	}
	payload, err := json.Marshal(unfinishedLink{Type: unfinishedType, RunKey: info.Key(), Link: link})
	if err != nil {
		return fmt.Errorf("encode unfinished link: %w", err)
	}
	var data []byte
	if signer.mode == "key" {
		data, err = envelope.SignDSSE(intoto.PayloadType, payload, signer.keys...)
	} else {
		data, err = signer.keyless.Sign(ctx, intoto.PayloadType, payload)
	}
	if err != nil {
		return fmt.Errorf("sign the unfinished link of %s: %w", f.step, err)
	}
	path := unfinishedPath(f.linksDir, f.step)
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	fmt.Fprintln(e.stdio.Out, path)
	return nil
}

func recordStop(ctx context.Context, e *env, f *recordFlags, info ci.RunInfo, trustedRoot string) error {
	if len(f.materials) > 0 {
		return usagef("record stop records products; give --materials to record start")
	}
	path := unfinishedPath(f.linksDir, f.step)
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return inputErr(fmt.Errorf("%s: no unfinished link: run 'record start --step %s' first", path, f.step))
	} else if err != nil {
		return inputErr(err)
	}
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	payload, started, err := verifyUnfinished(ctx, e, signer, path, data, trustedRoot)
	if err != nil {
		return err
	}
	var u unfinishedLink
	var link *intoto.Link
	err = json.Unmarshal(payload, &u)
	if err == nil && len(u.Link) > 0 && string(u.Link) != "null" {
		link, err = wire.DecodeLink(u.Link)
	}
	if err != nil || u.Type != unfinishedType || link == nil {
		return &refusedError{reason: fmt.Sprintf("%s: signed, but not an unfinished link written by 'record start'", path)}
	}
	if link.Name != f.step {
		return &refusedError{reason: fmt.Sprintf("%s: the signed unfinished link is of step %q, not %q", path, link.Name, f.step)}
	}
	if u.RunKey != info.Key() {
		return usagef("%s was started in another job (%s, this is %s): a link may only be finished by the job that saw the step",
			path, u.RunKey, info.Key())
	}
	products, err := f.recorder(e).record(ctx, f.products)
	if err != nil {
		return inputErr(fmt.Errorf("record products: %w", err))
	}
	link.Products = products
	var out string
	if signer.mode == "key" {
		out, err = signer.writeLink(ctx, f.linksDir, link)
	} else {
		out, err = signer.writeKeylessAs(ctx, f.linksDir, link, started, path)
	}
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	fmt.Fprintln(e.stdio.Out, out)
	return nil
}

// verifyUnfinished checks the signature of record start: with keys, every key of record stop must have
// signed it; keyless, the bundle must verify against the trusted root. It returns the signed payload
// and, keyless, who signed it (record stop must sign as the same identity). A signature that does not
// verify is a refusal naming the file and why.
func verifyUnfinished(ctx context.Context, e *env, s *linkSigner, path string, data []byte, trustedRoot string) ([]byte, *intoto.SignerIdentity, error) {
	refuse := func(format string, a ...any) error {
		return &refusedError{reason: path + ": " + fmt.Sprintf(format, a...) + "; no link written"}
	}
	signed, err := envelope.Parse(data)
	if err != nil {
		return nil, nil, refuse("not a signed unfinished link written by 'record start': %v", err)
	}
	if s.mode == "key" {
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
	kv := e.keyless.NewVerifier(keyless.VerifierConfig{TrustedRoot: trustedRoot})
	defer kv.Close()
	got, err := kv.VerifyBundle(ctx, data)
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
