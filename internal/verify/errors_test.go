package verify

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// TestErrors covers the cases where verification cannot be carried out: Verify returns an error (and
// no result), never a refusal.
func TestErrors(t *testing.T) {
	base := filepath.Join("testdata", "cases", "pass-legacy", "case.json")
	keyless := filepath.Join("testdata", "cases", "keyless-pass", "case.json")
	tests := []struct {
		name  string
		spec  string
		edit  func(t testing.TB, c *chain)
		want  []error
		cause string
	}{
		{
			name: "no layout key or identity",
			spec: base,
			edit: func(_ testing.TB, c *chain) { c.opts.LayoutKeys = nil },
			want: []error{ErrNoLayoutTrust},
		},
		{
			name: "layout file missing",
			spec: base,
			edit: func(_ testing.TB, c *chain) {
				c.opts.Layout = nil
				c.opts.LayoutPath = filepath.Join(c.dir, "missing.layout")
			},
			want: []error{ErrLayoutInvalid, fs.ErrNotExist},
		},
		{
			name: "layout not an envelope",
			spec: base,
			edit: func(_ testing.TB, c *chain) { c.opts.Layout = []byte(`{"hello": "world"}`) },
			want: []error{ErrLayoutInvalid},
		},
		{
			name: "signed layout is structurally invalid",
			spec: base,
			edit: func(t testing.TB, c *chain) {
				c.opts.Layout = c.sign(t, "legacy", []byte(`{"_type": "link", "expires": "2030-01-01T00:00:00Z"}`), []string{"owner"}, nil)
			},
			want: []error{ErrLayoutInvalid, intoto.ErrInvalid},
		},
		{
			name: "parameter without a value",
			spec: filepath.Join("testdata", "cases", "params", "case.json"),
			edit: func(_ testing.TB, c *chain) { c.opts.Params = map[string]string{"other": "x"} },
			want: []error{ErrLayoutInvalid, intoto.ErrUnknownParameter},
		},
		{
			name: "links dir missing",
			spec: base,
			edit: func(_ testing.TB, c *chain) { c.opts.LinksDir = filepath.Join(c.dir, "nowhere") },
			want: []error{fs.ErrNotExist},
		},
		{
			name: "keyless verifier unavailable",
			spec: keyless,
			edit: func(_ testing.TB, c *chain) {
				c.opts.Keyless = BundleVerifierFunc(func(context.Context, []byte) (*Verified, error) {
					return nil, fmt.Errorf("load trusted root: %w", ErrVerifierUnavailable)
				})
			},
			want: []error{ErrVerifierUnavailable},
		},
		{
			name: "inspection command not found",
			spec: base,
			edit: func(t testing.TB, c *chain) {
				c.opts.Layout = c.sign(t, "legacy", buildLayout(t, []byte(`{"steps": [], "inspect": [
					{"name": "x", "run": ["/nonexistent/intoto-ci-test-command"]}]}`)), []string{"owner"}, nil)
			},
			want:  []error{fs.ErrNotExist}, // a command the layout names is missing here: input, exit 2
			cause: "start",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := buildCase(t, readCase(t, tt.spec))
			tt.edit(t, c)
			res, err := Verify(context.Background(), c.opts)
			if err == nil {
				t.Fatalf("Verify = %+v, nil; want an error", res)
			}
			if res != nil {
				t.Errorf("Verify returned a result with its error: %+v", res)
			}
			for _, w := range tt.want {
				if !errors.Is(err, w) {
					t.Errorf("error %q does not wrap %q", err, w)
				}
			}
			// An error about the layout names the layout file, once and in front; no other error does.
			var le *LayoutError
			if errors.Is(err, ErrLayoutInvalid) {
				if !errors.As(err, &le) || le.Path != c.opts.LayoutPath ||
					!strings.HasPrefix(err.Error(), c.opts.LayoutPath+": ") || strings.Count(err.Error(), c.opts.LayoutPath) != 1 {
					t.Errorf("layout error %q (%T) does not name %s once, in front", err, err, c.opts.LayoutPath)
				}
			} else if errors.As(err, &le) {
				t.Errorf("error %q is not about the layout but is a LayoutError", err)
			}
			// Unreadable or malformed input (exit 2 in the CLI) is told from operational failures by type.
			input := false
			for _, w := range tt.want {
				input = input || w == ErrLayoutInvalid || w == fs.ErrNotExist
			}
			if IsInputError(err) != input {
				t.Errorf("IsInputError(%q) = %v, want %v", err, !input, input)
			}
		})
	}
}

// TestKeyOnlyNeverCallsKeyless checks that a key-only layout does not touch the keyless verifier, even
// with Sigstore bundles in the links directory.
func TestKeyOnlyNeverCallsKeyless(t *testing.T) {
	spec := readCase(t, filepath.Join("testdata", "cases", "pass-legacy", "case.json"))
	c := buildCase(t, spec)
	other := readCase(t, filepath.Join("testdata", "cases", "keyless-pass", "case.json"))
	for _, ls := range other.Links {
		writeLink(t, c, c.opts.LinksDir, ls)
	}
	c.opts.Keyless = BundleVerifierFunc(func(context.Context, []byte) (*Verified, error) {
		t.Error("keyless verifier called for a key-only layout")
		return nil, ErrVerifierUnavailable
	})
	res, err := Verify(context.Background(), c.opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Verified {
		t.Fatalf("refused: %v", res.Err())
	}
}

// TestCancelled checks that a cancelled context stops verification with the context's error.
func TestCancelled(t *testing.T) {
	c := buildCase(t, readCase(t, filepath.Join("testdata", "cases", "pass-legacy", "case.json")))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := Verify(ctx, c.opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Verify = %v, %v; want context.Canceled", res, err)
	}
}

// TestCancelledWhileReading cancels the context before the link files are read (each reading
// goroutine then skips its files), and once the first is read while the others (more files than
// reading goroutines) are being read, hashed and checked or wait their turn: verification stops
// with the context's error, whatever was done or skipped by then.
func TestCancelledWhileReading(t *testing.T) {
	for _, name := range []string{"pass-legacy", "pass-dsse"} {
		c := buildCase(t, readCase(t, filepath.Join("testdata", "cases", name, "case.json")))
		verify := func(cancelFirst bool) {
			t.Helper()
			for range 50 {
				ctx, cancel := context.WithCancel(context.Background())
				if cancelFirst {
					cancel()
				}
				opts := c.opts
				opts.Progress = func(p Progress) {
					if p.Stage == "reading links" {
						cancel()
					}
				}
				res, err := Verify(ctx, opts)
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("%s: Verify = %v, %v; want context.Canceled", name, res, err)
				}
			}
		}
		verify(true)
		links, err := filepath.Glob(filepath.Join(c.opts.LinksDir, "*.link"))
		if err != nil || len(links) == 0 {
			t.Fatalf("%s: no links (%v)", name, err)
		}
		data, err := os.ReadFile(links[0])
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			if err := os.WriteFile(filepath.Join(c.opts.LinksDir, fmt.Sprintf("copy%02d.link", i)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		verify(false)
	}
}

// TestResultErr checks the Failure's error chain: the stage sentinel and the nested causes.
func TestResultErr(t *testing.T) {
	c := buildCase(t, readCase(t, filepath.Join("testdata", "cases", "sublayout-swapped-links", "case.json")))
	res, err := Verify(context.Background(), c.opts)
	if err != nil {
		t.Fatal(err)
	}
	err = res.Err()
	for _, w := range []error{ErrSublayout, ErrThreshold} {
		if !errors.Is(err, w) {
			t.Errorf("Err() = %q, want it to wrap %q", err, w)
		}
	}
	var f *Failure
	if !errors.As(err, &f) || f.Stage != StageSublayout {
		t.Errorf("Err() = %#v, want the sublayout *Failure", err)
	}
	ok := &Result{Verified: true}
	if ok.Err() != nil {
		t.Errorf("verified Result.Err() = %v, want nil", ok.Err())
	}
}
