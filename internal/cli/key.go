package cli

import (
	"context"
	"fmt"
	"os"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func keyCommand() *command {
	c := &command{
		name:    "key",
		summary: "generate a key pair or print a key's keyid",
		usage:   "generate [--type ed25519|ecdsa|rsa] -o PREFIX | id FILE",
	}
	c.run = func(ctx context.Context, e *env, args []string) error {
		if len(args) == 0 {
			return usagef("key needs a subcommand: generate or id")
		}
		switch args[0] {
		case "generate":
			return keyGenerate(e, c, args[1:])
		case "id":
			return keyID(e, c, args[1:])
		}
		return usagef("unknown key subcommand %q (want generate or id)", args[0])
	}
	return c
}

func keyGenerate(e *env, c *command, args []string) error {
	fs := newFlagSet(e, c)
	typ := fs.String("type", "ed25519", "key `type`: ed25519, ecdsa (P-256) or rsa (3072 bits)")
	out := fs.String("o", "", "output `prefix`: writes PREFIX (private, PEM, mode 0600) and PREFIX.pub")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("key generate needs -o PREFIX")
	}
	k, err := intoto.GenerateKey(*typ)
	if err != nil {
		return usagef("%w", err)
	}
	priv, err := k.PrivatePEM()
	if err != nil {
		return err
	}
	pub, err := k.PublicPEM()
	if err != nil {
		return err
	}
	if !*force {
		for _, p := range []string{*out, *out + ".pub"} {
			if _, err := os.Stat(p); err == nil {
				return usagef("%s exists: pass --force to overwrite", p)
			}
		}
	}
	if err := writeFileAtomic(*out+".pub", pub); err != nil {
		return err
	}
	if err := writeFileAtomic(*out, priv); err != nil {
		return err
	}
	if err := os.Chmod(*out, 0o600); err != nil {
		return fmt.Errorf("protect %s: %w", *out, err)
	}
	fmt.Fprintln(e.stdio.Out, k.ID())
	return nil
}

func keyID(e *env, c *command, args []string) error {
	fs := newFlagSet(e, c)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("key id needs a key file")
	}
	for _, path := range fs.Args() {
		k, err := intoto.LoadKey(path)
		if err != nil {
			return inputErr(err)
		}
		fmt.Fprintln(e.stdio.Out, k.ID())
	}
	return nil
}
