// Package demo builds a small supply chain offline with the real intoto-ci commands, verifies it,
// tampers with it and shows the refusal (intoto-ci demo).
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// The exit codes of verify the demo expects.
const (
	exitOK      = 0
	exitRefused = 1
)

// Runner runs one intoto-ci command line (without the program name) and returns its exit code.
type Runner func(ctx context.Context, args []string) int

type runner struct {
	out io.Writer
	cli Runner
}

// cmd runs one intoto-ci command as a user would type it in workdir, echoing it first, and returns its
// exit code. Commands take paths relative to their working directory: an argument @NAME stands for
// workdir/NAME, so that the demo never changes the process's directory.
func (r runner) cmd(ctx context.Context, workdir string, args ...string) int {
	fmt.Fprintf(r.out, "\n$ (cd %s && intoto-ci %s)\n", filepath.Base(workdir), strings.Join(args, " "))
	for i, a := range args {
		if strings.HasPrefix(a, "@") {
			args[i] = filepath.Join(workdir, a[1:])
		}
	}
	return r.cli(ctx, args)
}

// dirs are the demo's directories under its root.
type dirs struct {
	root, keys, work, links, final string
}

// Run drives the real commands (through cli) in root, a directory of its own: keys, a signed layout,
// two steps, a verification that passes, then a tampered package and the refusal.
func Run(ctx context.Context, out io.Writer, root string, cli Runner) error {
	r := runner{out: out, cli: cli}
	d := dirs{root: root, keys: filepath.Join(root, "keys"), work: filepath.Join(root, "project"),
		links: filepath.Join(root, "links"), final: filepath.Join(root, "final")}
	for _, p := range []string{d.keys, d.work, d.links, d.final} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			return err
		}
	}
	fmt.Fprintf(r.out, "intoto-ci demo in %s\n", root)
	fmt.Fprintln(r.out, "alice owns the layout; bob writes the code; carl packages it. Nothing leaves this machine.")
	for _, who := range []string{"alice", "bob", "carl"} {
		if code := r.cmd(ctx, d.keys, "key", "generate", "--type", "ed25519", "-o", "@"+who); code != 0 {
			return fmt.Errorf("generate key %s: exit %d", who, code)
		}
	}
	packageCmd := []string{"tar", "-C", d.work, "-czf", filepath.Join(d.work, "foo.tar.gz"), "foo.py"}
	layoutPath, err := r.writeLayout(ctx, d, packageCmd)
	if err != nil {
		return err
	}
	if err := r.steps(ctx, d, packageCmd); err != nil {
		return err
	}
	fmt.Fprintln(r.out, "\nThe release gate verifies the chain before publishing foo.tar.gz:")
	verifyArgs := []string{"verify", "--layout", layoutPath, "--layout-key", filepath.Join(d.keys, "alice.pub"),
		"--links-dir", d.links, "--work-dir", d.final}
	if code := r.cmd(ctx, d.final, verifyArgs...); code != exitOK {
		return fmt.Errorf("the honest chain was refused (exit %d)", code)
	}
	fmt.Fprintln(r.out, "\nNow an attacker swaps the package after carl signed it:")
	if err := tamper(ctx, d); err != nil {
		return err
	}
	if code := r.cmd(ctx, d.final, verifyArgs...); code != exitRefused {
		return fmt.Errorf("the tampered chain was not refused (exit %d): this is a bug", code)
	}
	fmt.Fprintln(r.out, "\nThe gate refused the tampered package (exit 1). That is the whole point.")
	return nil
}

// writeLayout writes alice's layout (who may do what, and how the artifacts must flow), has her
// sign it, and returns its path.
func (r runner) writeLayout(ctx context.Context, d dirs, packageCmd []string) (string, error) {
	bob, err := keys.Load(filepath.Join(d.keys, "bob"))
	if err != nil {
		return "", err
	}
	carl, err := keys.Load(filepath.Join(d.keys, "carl"))
	if err != nil {
		return "", err
	}
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
		return "", err
	}
	layoutPath := filepath.Join(d.root, "root.layout")
	if err := os.WriteFile(layoutPath, data, 0o644); err != nil {
		return "", err
	}
	fmt.Fprintln(r.out, "\nalice writes root.layout and signs it:")
	if code := r.cmd(ctx, d.root, "sign", "--file", "@root.layout", "--key", filepath.Join(d.keys, "alice")); code != 0 {
		return "", fmt.Errorf("sign layout: exit %d", code)
	}
	return layoutPath, nil
}

// steps has bob write and record the code, carl package it, and copies the package to the gate.
func (r runner) steps(ctx context.Context, d dirs, packageCmd []string) error {
	fmt.Fprintln(r.out, "\nbob writes the code and records it (no command to run):")
	if err := os.WriteFile(filepath.Join(d.work, "foo.py"), []byte("print('hello from the demo')\n"), 0o644); err != nil {
		return err
	}
	if code := r.cmd(ctx, d.work, "run", "--step", "write-code", "--key", filepath.Join(d.keys, "bob"),
		"--base-path", d.work, "--products", "@foo.py", "--links-dir", d.links, "--no-command"); code != 0 {
		return fmt.Errorf("run write-code: exit %d", code)
	}
	fmt.Fprintln(r.out, "\ncarl packages it; intoto-ci runs tar and records what went in and out:")
	if code := r.cmd(ctx, d.work, append([]string{"run", "--step", "package", "--key", filepath.Join(d.keys, "carl"),
		"--base-path", d.work, "--materials", "@foo.py", "--products", "@foo.py", "--products", "@foo.tar.gz",
		"--links-dir", d.links, "--"}, packageCmd...)...); code != 0 {
		return fmt.Errorf("run package: exit %d", code)
	}
	tarball, err := os.ReadFile(filepath.Join(d.work, "foo.tar.gz"))
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(d.final, "foo.tar.gz"), tarball, 0o644)
}

// tamper replaces the package at the gate with one built from other code.
func tamper(ctx context.Context, d dirs) error {
	evil := filepath.Join(d.root, "evil")
	if err := os.MkdirAll(evil, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(evil, "foo.py"), []byte("print('pwned')\n"), 0o644); err != nil {
		return err
	}
	if out, err := exec.CommandContext(ctx, "tar", "-C", evil, "-czf", filepath.Join(d.final, "foo.tar.gz"), "foo.py").CombinedOutput(); err != nil {
		return fmt.Errorf("build the tampered package: %w: %s", err, out)
	}
	if err := os.Remove(filepath.Join(d.final, "foo.py")); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
