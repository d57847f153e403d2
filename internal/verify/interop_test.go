package verify

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
)

// The interop vectors of the reference implementations live in the repository's testdata/interop (see
// its NOTICE); these tests verify them as the peers do.
var (
	golangDir = filepath.Join("..", "..", "testdata", "interop", "in-toto-golang")
	pythonDir = filepath.Join("..", "..", "testdata", "interop", "in-toto-python")
	interopAt = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
)

func loadKeyFile(t testing.TB, path string) *keys.Key {
	t.Helper()
	k, err := keys.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func copyFile(t testing.TB, src, dstDir string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dstDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dstDir, filepath.Base(src)), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// workWith returns a fresh work directory holding copies of files.
func workWith(t testing.TB, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		copyFile(t, f, dir)
	}
	return dir
}

// TestInteropGolang verifies in-toto-golang's demo chains (their links dir holds many unrelated
// files: links are found by content) and refuses tampered copies.
func TestInteropGolang(t *testing.T) {
	alice := loadKeyFile(t, filepath.Join(golangDir, "alice.pub"))
	bob := loadKeyFile(t, filepath.Join(golangDir, "carol.pub"))
	tarball := filepath.Join(golangDir, "foo.tar.gz")
	otherTarball := makeTarball(t, "print('not the reviewed code')\n")
	tests := []struct {
		name   string
		layout string
		key    *keys.Key
		work   string
		want   Stage // "" = verified
	}{
		{"demo.layout", "demo.layout", alice, tarball, ""},
		{"demo.dsse.layout", "demo.dsse.layout", alice, tarball, ""},
		{"dsse-only", "dsse-only.root.layout", alice, "", ""},
		{"wrong layout key", "demo.layout", bob, tarball, StageSignature},
		{"swapped tarball", "demo.layout", alice, otherTarball, StageRules},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var work string
			if tt.work != "" {
				work = workWith(t, tt.work)
			} else {
				work = t.TempDir()
			}
			res, err := Verify(context.Background(), Options{
				LayoutPath: filepath.Join(golangDir, tt.layout),
				LayoutKeys: []*intoto.Key{tt.key.Record()},
				LinksDir:   golangDir,
				WorkDir:    work,
				Now:        interopAt,
			})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			checkStage(t, res, tt.want)
		})
	}
}

// TestInteropGolangSublayout re-signs in-toto-golang's (expired) super.layout with alice and verifies
// it with its sublayout sub_layout.70ca5750.link, whose links sit in sub_layout.70ca5750/.
func TestInteropGolangSublayout(t *testing.T) {
	alicePriv := loadKeyFile(t, filepath.Join(golangDir, "alice"))
	links := t.TempDir()
	copyFile(t, filepath.Join(golangDir, "sub_layout.70ca5750.link"), links)
	for _, f := range []string{"write-code.b7d643de.link", "package.d3ffd108.link"} {
		copyFile(t, filepath.Join(golangDir, f), filepath.Join(links, "sub_layout.70ca5750"))
	}
	layout := resignLayout(t, filepath.Join(golangDir, "super.layout"), alicePriv, func(l map[string]any) {
		l["expires"] = "2030-01-01T00:00:00Z"
	})
	for _, tt := range []struct {
		name string
		work string
		want Stage
	}{
		{"pass", filepath.Join(golangDir, "foo.tar.gz"), ""},
		{"sublayout inspection refuses", filepath.Join(golangDir, "alice.pub"), StageSublayout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := Verify(context.Background(), Options{
				LayoutPath: "super.layout",
				Layout:     layout,
				LayoutKeys: []*intoto.Key{alicePriv.Record()},
				LinksDir:   links,
				WorkDir:    workWith(t, tt.work),
				Now:        interopAt,
			})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			checkStage(t, res, tt.want)
			if tt.want == "" {
				sub := res.Steps[0].Sublayout
				if sub == nil || !sub.Verified {
					t.Fatalf("sublayout result = %+v, want a verified sublayout", sub)
				}
			}
		})
	}
}

// TestInteropPython signs in-toto-python's demo layout template with its alice key (replacing the
// inspection's unshipped script by tar, adding an expiry) and verifies the shipped links, both the
// legacy and the DSSE ones.
func TestInteropPython(t *testing.T) {
	alice := loadKeyFile(t, filepath.Join(pythonDir, "demo_files", "alice"))
	edit := func(l map[string]any) {
		l["expires"] = "2030-01-01T00:00:00Z"
		l["inspect"].([]any)[0].(map[string]any)["run"] = []any{"tar", "xfz", "foo.tar.gz"}
	}
	legacy := resignLayout(t, filepath.Join(pythonDir, "demo_files", "demo.layout.template"), alice, edit)
	dsseLayout := resignLayoutDSSE(t, filepath.Join(pythonDir, "demo_files", "demo.layout.template"), alice, edit)
	tarball := filepath.Join(pythonDir, "demo_files", "foo.tar.gz")
	for _, tt := range []struct {
		name   string
		layout []byte
		links  string
		work   string
		want   Stage
	}{
		{"legacy links", legacy, filepath.Join(pythonDir, "demo_files"), tarball, ""},
		{"dsse links, dsse layout", dsseLayout, filepath.Join(pythonDir, "demo_dsse_files"), tarball, ""},
		// The template's inspection rules end in an implicit ALLOW *, so a swapped tarball that untars
		// passes there as it does in the reference; one that does not untar fails the inspection.
		{"not a tarball", legacy, filepath.Join(pythonDir, "demo_files"), filepath.Join(pythonDir, "demo_files", "bob.pub"), StageInspection},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			work := workWith(t, tt.work)
			if filepath.Base(tt.work) != "foo.tar.gz" {
				if err := os.Rename(filepath.Join(work, filepath.Base(tt.work)), filepath.Join(work, "foo.tar.gz")); err != nil {
					t.Fatal(err)
				}
			}
			res, err := Verify(context.Background(), Options{
				LayoutPath: "demo.layout",
				Layout:     tt.layout,
				LayoutKeys: []*intoto.Key{alice.Record()},
				LinksDir:   tt.links,
				WorkDir:    work,
				Now:        interopAt,
			})
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			checkStage(t, res, tt.want)
		})
	}
}

// makeTarball writes a foo.tar.gz holding foo.py with content, in a temp dir, and returns its path.
func makeTarball(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "foo.tar.gz")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz := gzip.NewWriter(f)
	tw := tar.NewWriter(gz)
	if err := tw.WriteHeader(&tar.Header{Name: "foo.py", Mode: 0o644, Size: int64(len(content))}); err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Write([]byte(content)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []interface{ Close() error }{tw, gz} {
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func checkStage(t testing.TB, res *Result, want Stage) {
	t.Helper()
	if want == "" {
		if !res.Verified {
			t.Fatalf("refused: %v (warnings %q)", res.Err(), res.Warnings)
		}
		return
	}
	if res.Verified {
		t.Fatalf("verified, want a refusal at stage %s", want)
	}
	if res.Failure.Stage != want {
		t.Fatalf("refused at %s (%v), want stage %s", res.Failure.Stage, res.Failure, want)
	}
}

// editedLayout reads a layout envelope's payload and applies edit to it.
func editedLayout(t testing.TB, path string, edit func(map[string]any)) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := envelope.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	var l map[string]any
	if err := json.Unmarshal(s.Payload, &l); err != nil {
		t.Fatal(err)
	}
	edit(l)
	out, err := json.Marshal(l)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func resignLayout(t testing.TB, path string, key *keys.Key, edit func(map[string]any)) []byte {
	t.Helper()
	out, err := envelope.SignLegacy(editedLayout(t, path, edit), key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func resignLayoutDSSE(t testing.TB, path string, key *keys.Key, edit func(map[string]any)) []byte {
	t.Helper()
	out, err := envelope.SignDSSE(intoto.PayloadType, editedLayout(t, path, edit), key)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
