package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/intoto-ci/intoto-ci/internal/keys"
)

func keyCommand() *command {
	c := &command{
		name:    "key",
		summary: "generate a key pair or print a key's keyid",
		usage:   "generate [--type ed25519|ecdsa|rsa] -o PREFIX | id FILE",
	}
	return withSubcommands(c,
		subcommand{"generate", func(_ context.Context, e *env, args []string) error { return keyGenerate(e, c, args) }},
		subcommand{"id", func(_ context.Context, e *env, args []string) error { return keyID(e, c, args) }})
}

func keyGenerate(e *env, c *command, args []string) error {
	fs := newFlagSet(e, c)
	typ := fs.String("type", "ed25519", "key `type`: ed25519, ecdsa (P-256) or rsa (3072 bits)")
	out := new(string)
	outputFlag(fs, out, "", "output `prefix`: writes PREFIX (private, PEM, mode 0600) and PREFIX.pub")
	force := fs.Bool("force", false, "overwrite existing files")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usagef("key generate needs -o PREFIX")
	}
	k, err := keys.Generate(*typ)
	if err != nil {
		return usagef("%w", err)
	}
	var exists *keys.ExistsError
	if err := k.WritePair(*out, *force, writeFileAtomic); errors.As(err, &exists) {
		return usagef("%s exists: pass --force to overwrite", exists.Path)
	} else if err != nil {
		return err
	}
	fmt.Fprintln(e.stdio.Out, k.ID())
	return nil
}

// keyIDHelp explains which keyid `key id` prints; shown by `key id -h`.
const keyIDHelp = `key id FILE… prints the in-toto keyid of each key: the sha256 of the canonical JSON of
{keyid_hash_algorithms: [sha256, sha512], keytype, keyval: {public}, scheme}. The scheme label is part of
what is hashed. A PEM ECDSA key gets the label ecdsa-sha2-nistp256 whatever its curve (P-256, P-384,
P-521), as in-toto-golang's CLI (in-toto key layout, in-toto run -k) and in-toto-python's PEM import
label it, so a layout either peer made pins the same keyid. A layout made with another label (in-toto-
golang's library LoadKey(path, "ecdsa-sha2-nistp384", …)) pins another keyid: print it with
--scheme ecdsa-sha2-nistp384, and sign with a securesystemslib JSON key carrying that label. A JSON key
keeps its own label. The same keyid is what slsa-verifier verify-vsa wants as --public-key-id.`

func keyID(e *env, c *command, args []string) error {
	fs := newFlagSet(e, c)
	fs.Usage = func() {
		fmt.Fprintf(e.stdio.Err, "Usage: intoto-ci key id [--scheme SCHEME] FILE...\n\n%s\n\nFlags:\n", keyIDHelp)
		fs.PrintDefaults()
	}
	scheme := fs.String("scheme", "", "label the key with this signature `scheme` before hashing (default: ecdsa-sha2-nistp256 for any ECDSA PEM key, ed25519, rsassa-pss-sha256)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usagef("key id needs a key file")
	}
	for _, path := range fs.Args() {
		k, err := keys.Load(path)
		if err != nil {
			return inputErr(err)
		}
		if *scheme != "" {
			if k, err = k.WithScheme(*scheme); err != nil {
				return usagef("%s: %w", path, err)
			}
		}
		fmt.Fprintln(e.stdio.Out, k.ID())
	}
	return nil
}
