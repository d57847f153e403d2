package step

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/artifact"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/linkfile"
)

// fixture is a work directory with a material, a links directory and a real ed25519 signer.
func fixture(t *testing.T) (Options, *bytes.Buffer) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "src.txt"), []byte("source\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	links := filepath.Join(dir, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	k, err := keys.Generate(keys.KeyTypeED25519)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := linkfile.New(linkfile.Options{Keys: []*keys.Key{k}, Format: "link", Envelope: "dsse"})
	if err != nil {
		t.Fatal(err)
	}
	out := &bytes.Buffer{}
	return Options{
		Step:      "build",
		LinksDir:  links,
		Materials: []string{"src.txt"},
		Products:  []string{"out.txt"},
		Artifacts: artifact.Options{BasePath: dir, Algorithms: []string{"sha256"}},
		Quiet:     true,
		Links:     signer,
		Environ:   []string{"PATH=" + os.Getenv("PATH"), "SECRET_TOKEN=hunter2", "KEEP=yes"},
		Sensitive: []string{"SECRET_TOKEN"},
		Stdout:    out,
		Stderr:    &bytes.Buffer{},
	}, out
}

func code(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var se *Error
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) carries no exit code", err, err)
	}
	return se.Code
}

func linkFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.link"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestRunWritesLink: a successful command gives exit 0 and a link with its materials, products and
// output, run in an environment without the sensitive variables.
func TestRunWritesLink(t *testing.T) {
	o, out := fixture(t)
	base := o.Artifacts.BasePath
	o.Argv = []string{"sh", "-c", `cd "$0" && cat src.txt > out.txt && echo "token=${SECRET_TOKEN:-none} keep=$KEEP"`, base}
	if err := Run(context.Background(), o); err != nil {
		t.Fatalf("Run: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	path := lines[len(lines)-1] // after the command's own output
	l, err := linkfile.ReadLink(path)
	if err != nil {
		t.Fatalf("read link %q: %v", path, err)
	}
	if l.Name != "build" || l.Materials.Len() != 1 || l.Products.Len() != 1 {
		t.Fatalf("link %+v: want step build, one material, one product", l)
	}
	if _, ok := l.Products.Index("out.txt"); !ok {
		t.Errorf("products %v lack out.txt", l.Products)
	}
	if got, _ := l.ByProducts["stdout"].(string); got != "token=none keep=yes\n" {
		t.Errorf("stdout recorded %q: want the sensitive variable scrubbed and the rest kept", got)
	}
}

// TestRunExitCodes holds the exit-code rules of a step.
func TestRunExitCodes(t *testing.T) {
	t.Run("command fails: its code, link written", func(t *testing.T) {
		o, _ := fixture(t)
		o.Argv = []string{"sh", "-c", "exit 7"}
		if got := code(t, Run(context.Background(), o)); got != 7 {
			t.Fatalf("exit %d, want the command's 7", got)
		}
		if n := len(linkFiles(t, o.LinksDir)); n != 1 {
			t.Fatalf("%d links, want 1 (a failed step is still recorded)", n)
		}
	})
	t.Run("link lost after success: 3", func(t *testing.T) {
		o, _ := fixture(t)
		o.LinksDir = filepath.Join(o.Artifacts.BasePath, "src.txt") // a file: no link can go there
		o.Argv = []string{"true"}
		err := Run(context.Background(), o)
		if got := code(t, err); got != ExitFailure {
			t.Fatalf("exit %d (%v), want 3", got, err)
		}
	})
	t.Run("link lost after failure: the command's code", func(t *testing.T) {
		o, _ := fixture(t)
		o.LinksDir = filepath.Join(o.Artifacts.BasePath, "src.txt")
		o.Argv = []string{"sh", "-c", "exit 5"}
		err := Run(context.Background(), o)
		if got := code(t, err); got != 5 {
			t.Fatalf("exit %d (%v), want the command's 5", got, err)
		}
	})
	t.Run("command not found: 127, no link", func(t *testing.T) {
		o, _ := fixture(t)
		o.Argv = []string{filepath.Join(o.Artifacts.BasePath, "no-such-command")}
		if got := code(t, Run(context.Background(), o)); got != 127 {
			t.Fatalf("exit %d, want 127", got)
		}
		if n := len(linkFiles(t, o.LinksDir)); n != 0 {
			t.Fatalf("%d links written for a command that never ran", n)
		}
	})
	t.Run("command not executable: 126, no link", func(t *testing.T) {
		o, _ := fixture(t)
		script := filepath.Join(o.Artifacts.BasePath, "script.sh")
		if err := os.WriteFile(script, []byte("#!/bin/sh\ntrue\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		o.Argv = []string{script}
		if got := code(t, Run(context.Background(), o)); got != 126 {
			t.Fatalf("exit %d, want 126", got)
		}
		if n := len(linkFiles(t, o.LinksDir)); n != 0 {
			t.Fatalf("%d links written for a command that never ran", n)
		}
	})
	t.Run("product refused after success: 3", func(t *testing.T) {
		o, _ := fixture(t)
		// The command makes its product a symlink out of the base path: recording refuses it.
		o.Argv = []string{"sh", "-c", `ln -s /etc/passwd "$0/out.txt"`, o.Artifacts.BasePath}
		err := Run(context.Background(), o)
		if got := code(t, err); got != ExitFailure || !strings.Contains(err.Error(), "record products") {
			t.Fatalf("exit %d (%v), want 3 from recording the products", got, err)
		}
	})
	t.Run("path outside the base path: 2, command not run", func(t *testing.T) {
		o, _ := fixture(t)
		marker := filepath.Join(o.Artifacts.BasePath, "ran")
		o.Materials = []string{"../elsewhere"}
		o.Argv = []string{"touch", marker}
		err := Run(context.Background(), o)
		if got := code(t, err); got != ExitUsage || !strings.Contains(err.Error(), "--materials") {
			t.Fatalf("exit %d (%v), want 2 naming --materials", got, err)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatal("the command ran although its paths were refused")
		}
	})
}

// TestStartStop: record start writes an unfinished link, record stop finishes it with the products.
func TestStartStop(t *testing.T) {
	o, out := fixture(t)
	ctx := context.Background()
	o.Products = nil
	if err := Start(ctx, o); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := os.WriteFile(filepath.Join(o.Artifacts.BasePath, "out.txt"), []byte("built\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u, err := linkfile.ReadUnfinished(o.LinksDir, o.Step)
	if err != nil {
		t.Fatalf("ReadUnfinished: %v", err)
	}
	out.Reset()
	o.Materials, o.Products = nil, []string{"out.txt"}
	if err := Stop(ctx, o, u, ""); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	l, err := linkfile.ReadLink(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := l.Materials.Index("src.txt"); !ok {
		t.Errorf("materials %v lack src.txt from record start", l.Materials)
	}
	if _, ok := l.Products.Index("out.txt"); !ok {
		t.Errorf("products %v lack out.txt", l.Products)
	}
}
