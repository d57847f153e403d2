package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	keyfile "github.com/intoto-ci/intoto-ci/internal/keys"
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
		return runDemo(ctx, e, root)
	}
	return c
}

// demoCmd runs one intoto-ci command as a user would type it (the same dispatch as the command line),
// echoing it first, and returns its exit code.
func demoCmd(ctx context.Context, e *env, workdir string, args ...string) int {
	fmt.Fprintf(e.stdio.Out, "\n$ (cd %s && intoto-ci %s)\n", filepath.Base(workdir), strings.Join(args, " "))
	// Commands take paths relative to their working directory; the demo passes absolute ones instead
	// of changing the process's directory.
	for i, a := range args {
		if strings.HasPrefix(a, "@") {
			args[i] = filepath.Join(workdir, a[1:])
		}
	}
	return mainEnv(ctx, args, e)
}

// runDemo drives the real commands in root, a directory of its own.
func runDemo(ctx context.Context, e *env, root string) error {
	out := e.stdio.Out
	keys := filepath.Join(root, "keys")
	work := filepath.Join(root, "project")
	links := filepath.Join(root, "links")
	final := filepath.Join(root, "final")
	for _, p := range []string{keys, work, links, final} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "intoto-ci demo in %s\n", root)
	fmt.Fprintln(out, "alice owns the layout; bob writes the code; carl packages it. Nothing leaves this machine.")

	for _, who := range []string{"alice", "bob", "carl"} {
		if code := demoCmd(ctx, e, keys, "key", "generate", "--type", "ed25519", "-o", "@"+who); code != 0 {
			return fmt.Errorf("generate key %s: exit %d", who, code)
		}
	}
	bob, err := keyfile.Load(filepath.Join(keys, "bob"))
	if err != nil {
		return err
	}
	carl, err := keyfile.Load(filepath.Join(keys, "carl"))
	if err != nil {
		return err
	}

	packageCmd := []string{"tar", "-C", work, "-czf", filepath.Join(work, "foo.tar.gz"), "foo.py"}

	// The layout: who may do what, and how the artifacts must flow.
	layout := &intoto.Layout{
		Type:    intoto.TypeLayout,
		Expires: time.Now().UTC().Add(30 * 24 * time.Hour).Format(intoto.ExpiresFormat),
		Readme:  "intoto-ci demo: write-code -> package, untar inspection",
	}
	bobID, carlID := layout.AddKey(bob.Record()), layout.AddKey(carl.Record())
	layout.Steps = []*intoto.Step{{
		Type: intoto.TypeStep, Name: "write-code", Threshold: 1, PubKeys: []string{bobID},
		ExpectedMaterials: []intoto.Rule{},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "foo.py"}, {"DISALLOW", "*"}},
		ExpectedCommand:   []string{},
	}, {
		Type: intoto.TypeStep, Name: "package", Threshold: 1, PubKeys: []string{carlID},
		ExpectedMaterials: []intoto.Rule{{"MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"}, {"DISALLOW", "*"}},
		ExpectedProducts:  []intoto.Rule{{"CREATE", "foo.tar.gz"}, {"ALLOW", "foo.py"}, {"DISALLOW", "*"}},
		ExpectedCommand:   packageCmd,
	}}
	layout.Inspections = []*intoto.Inspection{{
		Type: intoto.TypeInspection, Name: "untar", Run: []string{"tar", "xzf", "foo.tar.gz"},
		ExpectedMaterials: []intoto.Rule{{"MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"}, {"DISALLOW", "*"}},
		ExpectedProducts: []intoto.Rule{{"MATCH", "foo.py", "WITH", "PRODUCTS", "FROM", "write-code"},
			{"MATCH", "foo.tar.gz", "WITH", "PRODUCTS", "FROM", "package"}, {"DISALLOW", "*"}},
	}}
	data, err := json.MarshalIndent(layout, "", "  ")
	if err != nil {
		return err
	}
	layoutPath := filepath.Join(root, "root.layout")
	if err := os.WriteFile(layoutPath, data, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nalice writes root.layout and signs it:")
	if code := demoCmd(ctx, e, root, "sign", "--file", "@root.layout", "--key", filepath.Join(keys, "alice")); code != 0 {
		return fmt.Errorf("sign layout: exit %d", code)
	}

	fmt.Fprintln(out, "\nbob writes the code and records it (no command to run):")
	if err := os.WriteFile(filepath.Join(work, "foo.py"), []byte("print('hello from the demo')\n"), 0o644); err != nil {
		return err
	}
	if code := demoCmd(ctx, e, work, "run", "--step", "write-code", "--key", filepath.Join(keys, "bob"),
		"--base-path", work, "--products", "@foo.py", "--links-dir", links, "--no-command"); code != 0 {
		return fmt.Errorf("run write-code: exit %d", code)
	}

	fmt.Fprintln(out, "\ncarl packages it; intoto-ci runs tar and records what went in and out:")
	if code := demoCmd(ctx, e, work, append([]string{"run", "--step", "package", "--key", filepath.Join(keys, "carl"),
		"--base-path", work, "--materials", "@foo.py", "--products", "@foo.py", "--products", "@foo.tar.gz",
		"--links-dir", links, "--"}, packageCmd...)...); code != 0 {
		return fmt.Errorf("run package: exit %d", code)
	}

	tarball, err := os.ReadFile(filepath.Join(work, "foo.tar.gz"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(final, "foo.tar.gz"), tarball, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nThe release gate verifies the chain before publishing foo.tar.gz:")
	verifyArgs := []string{"verify", "--layout", layoutPath, "--layout-key", filepath.Join(keys, "alice.pub"),
		"--links-dir", links, "--work-dir", final}
	if code := demoCmd(ctx, e, final, verifyArgs...); code != ExitOK {
		return fmt.Errorf("the honest chain was refused (exit %d)", code)
	}

	fmt.Fprintln(out, "\nNow an attacker swaps the package after carl signed it:")
	evil := filepath.Join(root, "evil")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(evil, "foo.py"), []byte("print('pwned')\n"), 0o644); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "tar", "-C", evil, "-czf", filepath.Join(final, "foo.tar.gz"), "foo.py").CombinedOutput(); err != nil {
		return fmt.Errorf("build the tampered package: %w: %s", err, out)
	}
	if err := os.Remove(filepath.Join(final, "foo.py")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	code := demoCmd(ctx, e, final, verifyArgs...)
	if code != ExitRefused {
		return fmt.Errorf("the tampered chain was not refused (exit %d): this is a bug", code)
	}
	fmt.Fprintln(out, "\nThe gate refused the tampered package (exit 1). That is the whole point.")
	return nil
}
