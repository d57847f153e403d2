package cli

import (
	"context"
	"errors"
	"os"
	"os/exec"

	"github.com/intoto-ci/intoto-ci/internal/demo"
)

func demoCommand() *command {
	c := &command{
		name:    "demo",
		summary: "build a small supply chain offline, verify it, tamper with it and show the refusal",
		usage:   "[--dir DIR] [--keep]",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		dir := fs.String("dir", "", "work in this `dir`ectory (default: a new temporary one)")
		keep := fs.Bool("keep", false, "keep the temporary directory")
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		if _, err := exec.LookPath("tar"); err != nil {
			return errors.New("the demo packages with tar, which is not on PATH")
		}
		root := *dir
		if root == "" {
			tmp, err := os.MkdirTemp("", "intoto-ci-demo-")
			if err != nil {
				return err
			}
			if !*keep {
				defer os.RemoveAll(tmp)
			}
			root = tmp
		}
		return demo.Run(ctx, e.stdio.Out, root, func(ctx context.Context, args []string) int { return mainEnv(ctx, args, e) })
	}
	return c
}
