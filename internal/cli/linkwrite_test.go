package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func interopKey(t *testing.T, rel string) *intoto.Key {
	t.Helper()
	k, err := intoto.LoadKey(filepath.Join("..", "..", "testdata", "interop", rel))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// manyArtifacts returns a set of n artifacts with a few names that need escaping in JSON.
func manyArtifacts(n int) intoto.ArtifactSet {
	a := intoto.Artifacts{}
	for i := range n {
		a[fmt.Sprintf("tree/d%03d/f%07d", i%997, i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
	}
	a["odd <name> & \"quoted\" é"] = intoto.Digests{"sha256": strings.Repeat("ab", 32)}
	a["two digests"] = intoto.Digests{"sha256": strings.Repeat("cd", 32), "sha512": strings.Repeat("ef", 64)}
	return intoto.NewArtifactSet(a)
}

// TestWriteKeyLinkSameFileAsBefore checks that the streamed link file is byte for byte the one the
// link writer produced before streaming (SignDSSE or SignLegacy of MarshalLinkSets), with one key and
// with several, for a small link and for one big enough to take the memory-saving path.
func TestWriteKeyLinkSameFileAsBefore(t *testing.T) {
	t.Parallel()
	carol, danny := interopKey(t, "in-toto-golang/carol"), interopKey(t, "in-toto-python/demo_files/danny") // ed25519: deterministic
	link := &intoto.Link{Type: intoto.TypeLink, Name: "build", Command: []string{"make", "<all>"},
		ByProducts:  map[string]any{"return-value": 0, "stdout": "ok\n", "stderr": ""},
		Environment: map[string]any{}}
	sizes := map[string][2]intoto.ArtifactSet{
		"small": {manyArtifacts(3), manyArtifacts(5)},
		"big":   {manyArtifacts(10), manyArtifacts(bigLinkArtifacts + 10)},
	}
	for size, sets := range sizes {
		for _, env := range []string{"dsse", "legacy"} {
			for _, keys := range [][]*intoto.Key{{carol}, {carol, danny}} {
				t.Run(fmt.Sprintf("%s/%s/%d keys", size, env, len(keys)), func(t *testing.T) {
					t.Parallel()
					payload, err := intoto.MarshalLinkSets(link, sets[0], sets[1])
					if err != nil {
						t.Fatal(err)
					}
					var want []byte
					if env == "legacy" {
						want, err = envelope.SignLegacy(payload, keys...)
					} else {
						want, err = envelope.SignDSSE(intoto.PayloadType, payload, keys...)
					}
					if err != nil {
						t.Fatal(err)
					}
					s := &linkSigner{mode: "key", keys: keys, flags: &signFlags{envelope: env, format: "link"}}
					dir := t.TempDir()
					path, err := s.writeLinkSets(context.Background(), dir, link, sets[0], sets[1])
					if err != nil {
						t.Fatal(err)
					}
					if want := filepath.Join(dir, "build."+carol.ID()[:8]+".link"); path != want {
						t.Errorf("path %s, want %s", path, want)
					}
					got, err := os.ReadFile(path)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got, want) {
						t.Fatalf("the streamed file differs from the one built in memory (%d and %d bytes)", len(got), len(want))
					}
					parsed, err := envelope.Parse(got)
					if err != nil {
						t.Fatal(err)
					}
					for _, k := range keys {
						if err := parsed.VerifyKey(k.Public()); err != nil {
							t.Errorf("key %s: %v", k.ShortID(), err)
						}
					}
					entries, _ := os.ReadDir(dir)
					if len(entries) != 1 {
						t.Errorf("%d files in the links dir, want the link only", len(entries))
					}
				})
			}
		}
	}
}

// TestWriteKeyLinkStatementAndMaps covers the other key-signed forms: a Statement from the sets, and a
// link from maps (record stop), which must come out as SignDSSE and SignLegacy write them.
func TestWriteKeyLinkStatementAndMaps(t *testing.T) {
	t.Parallel()
	carol := interopKey(t, "in-toto-golang/carol")
	sets := [2]intoto.ArtifactSet{manyArtifacts(4), manyArtifacts(6)}
	link := &intoto.Link{Type: intoto.TypeLink, Name: "pkg", Command: []string{}, ByProducts: map[string]any{}, Environment: map[string]any{}}
	withMaps := *link
	withMaps.Materials, withMaps.Products = sets[0].Artifacts(), sets[1].Artifacts()

	stmt, err := intoto.LinkToStatement(&withMaps)
	if err != nil {
		t.Fatal(err)
	}
	v09, err := intoto.MarshalLink(&withMaps)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env, format string
		sets        bool
		want        func() ([]byte, error)
	}{
		{"dsse", "statement", true, func() ([]byte, error) { return envelope.SignDSSE(intoto.PayloadType, stmt, carol) }},
		{"legacy", "statement", true, func() ([]byte, error) { return envelope.SignLegacy(stmt, carol) }},
		{"dsse", "link", false, func() ([]byte, error) { return envelope.SignDSSE(intoto.PayloadType, v09, carol) }},
		{"legacy", "link", false, func() ([]byte, error) { return envelope.SignLegacy(v09, carol) }},
	} {
		want, err := c.want()
		if err != nil {
			t.Fatal(err)
		}
		s := &linkSigner{mode: "key", keys: []*intoto.Key{carol}, flags: &signFlags{envelope: c.env, format: c.format}}
		var path string
		if c.sets {
			path, err = s.writeLinkSets(context.Background(), t.TempDir(), link, sets[0], sets[1])
		} else {
			path, err = s.writeLink(context.Background(), t.TempDir(), &withMaps)
		}
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, want) {
			t.Errorf("%s/%s: the file differs from the one built in memory", c.env, c.format)
		}
	}
}

// failAfter is an io.WriterTo that writes some bytes and then fails, as a full disk would.
type failAfter struct {
	data []byte
	err  error
}

func (f failAfter) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(f.data)
	if err != nil {
		return int64(n), err
	}
	return int64(n), f.err
}

// TestWriteFileAtomicFromFailure checks that a write failing halfway leaves neither a partial file nor
// a temporary one, keeps the previous file, and names the file in the error.
func TestWriteFileAtomicFromFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "step.abcdef01.link")
	if err := writeFileAtomic(path, []byte("previous")); err != nil {
		t.Fatal(err)
	}
	errDisk := errors.New("no space left on device")
	// Larger than the write buffer, so part of it reaches the temporary file before the failure.
	err := writeFileAtomicFrom(path, failAfter{data: bytes.Repeat([]byte("x"), 1<<20), err: errDisk})
	if !errors.Is(err, errDisk) || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want the write error naming %s", err, path)
	}
	if got, _ := os.ReadFile(path); string(got) != "previous" {
		t.Errorf("the previous file was changed: %q", got)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("files left behind: %v", names)
	}

	// And a new file that fails leaves nothing at all.
	fresh := filepath.Join(dir, "sub", "new.link")
	if err := writeFileAtomicFrom(fresh, failAfter{data: []byte("{"), err: errDisk}); !errors.Is(err, errDisk) {
		t.Fatalf("got %v", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a partial file was left: %v", err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(fresh)); len(entries) != 0 {
		t.Errorf("%d files left in the new directory", len(entries))
	}
}

// TestWriteFileAtomicFromWrites checks the content and mode of a file written whole.
func TestWriteFileAtomicFromWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a", "b.link")
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := writeFileAtomicFrom(path, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("content differs (%v)", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, %v; want 0644", fi.Mode(), err)
	}
}
