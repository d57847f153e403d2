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
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// unfinishedLink holds the materials recorded by `record start` until `record stop`. It is bound to the
// job that started it: stop refuses it in another job or run.
type unfinishedLink struct {
	Type   string       `json:"_type"`
	RunKey string       `json:"run_key"`
	Link   *intoto.Link `json:"link"`
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
		return recordStop(ctx, e, &f, platform.RunInfo())
	}
	return c
}

func recordStart(ctx context.Context, e *env, f *recordFlags, info ci.RunInfo) error {
	if len(f.products) > 0 {
		return usagef("record start records materials; give --products to record stop")
	}
	// Fail now, not after the step, if signing cannot work.
	if _, err := newLinkSigner(e, &f.sign); err != nil {
		return err
	}
	materials, err := f.recorder(e).record(ctx, f.materials)
	if err != nil {
		return inputErr(fmt.Errorf("record materials: %w", err))
	}
	data, err := json.MarshalIndent(unfinishedLink{
		Type:   unfinishedType,
		RunKey: info.Key(),
		Link: &intoto.Link{
			Type: intoto.TypeLink, Name: f.step, Command: []string{}, Materials: materials,
			Products: intoto.Artifacts{}, ByProducts: map[string]any{}, Environment: f.environment(),
		},
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode unfinished link: %w", err)
	}
	path := unfinishedPath(f.linksDir, f.step)
	if err := writeFileAtomic(path, data); err != nil {
		return err
	}
	fmt.Fprintln(e.stdio.Out, path)
	return nil
}

func recordStop(ctx context.Context, e *env, f *recordFlags, info ci.RunInfo) error {
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
	var u unfinishedLink
	if err := json.Unmarshal(data, &u); err != nil {
		return inputErr(fmt.Errorf("%s: not an unfinished link written by 'record start': %w", path, err))
	}
	if u.Type != unfinishedType || u.Link == nil {
		return inputErr(fmt.Errorf("%s: not an unfinished link written by 'record start'", path))
	}
	if u.RunKey != info.Key() {
		return usagef("%s was started in another job (%s, this is %s): a link may only be finished by the job that saw the step",
			path, u.RunKey, info.Key())
	}
	signer, err := newLinkSigner(e, &f.sign)
	if err != nil {
		return err
	}
	products, err := f.recorder(e).record(ctx, f.products)
	if err != nil {
		return inputErr(fmt.Errorf("record products: %w", err))
	}
	u.Link.Products = products
	out, err := signer.writeLink(ctx, f.linksDir, u.Link)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	fmt.Fprintln(e.stdio.Out, out)
	return nil
}
