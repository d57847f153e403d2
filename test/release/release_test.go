package release

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
)

// wantAssets is the asset set the release definition promises: one archive per binary and platform,
// zip on windows, tar.gz elsewhere.
func wantAssets(t *testing.T, cfg goreleaserConfig, version string) []string {
	t.Helper()
	var names []string
	for _, b := range cfg.Builds {
		for _, goos := range b.Goos {
			for _, goarch := range b.Goarch {
				names = append(names, assetName(b.Binary, version, goos, goarch))
			}
		}
	}
	slices.Sort(names)
	return names
}

func assetName(binary, version, goos, goarch string) string {
	ext := "tar.gz"
	if goos == "windows" {
		ext = "zip"
	}
	return binary + "_" + version + "_" + goos + "_" + goarch + "." + ext
}

// TestReleaseReproducible builds the release twice from the same commit, in two directories, the second
// time with an empty Go build cache, and wants every asset and checksums.txt byte for byte the same. It
// also checks what the assets hold: each archive its one binary (0755, epoch time, root), and the
// binaries no commit, no path and the release's version.
func TestReleaseReproducible(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	cfg := readGoreleaser(t, root)
	first := releasetest.Shared(t)
	second := releasetest.Build(t, releasetest.Options{GoCache: t.TempDir()})
	t.Logf("release build wall time: %s (shared cache), %s (empty cache)", first.Took.Round(time.Second), second.Took.Round(time.Second))

	if got, want := first.Assets(), wantAssets(t, cfg, first.Version); !slices.Equal(got, want) {
		t.Fatalf("checksums.txt lists %v, want %v", got, want)
	}
	for _, name := range append(first.Assets(), "checksums.txt") {
		a, err := os.ReadFile(first.Asset(name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(second.Asset(name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of one commit (%d and %d bytes)", name, len(a), len(b))
		}
	}

	// The committed checksums.txt is the release of this tree (RELEASING.md): the action installs by it,
	// and the release workflow refuses a tag whose build differs. Any change to what goes into the
	// binaries must regenerate it.
	committed, err := os.ReadFile(filepath.Join(root, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if built, err := os.ReadFile(first.Asset("checksums.txt")); err != nil {
		t.Fatal(err)
	} else if !bytes.Equal(committed, built) {
		t.Errorf("checksums.txt at the root is not the %s release of this tree: run `make release VERSION=%s && cp dist/checksums.txt .`", first.Version, first.Version)
	}

	for _, name := range first.Assets() {
		checkArchive(t, first.Asset(name))
	}

	host := extract(t, first.Asset(assetName("intoto-ci", first.Version, runtime.GOOS, runtime.GOARCH)), "intoto-ci")
	out, err := exec.Command("go", "version", "-m", host).CombinedOutput()
	if err != nil {
		t.Fatalf("go version -m: %v\n%s", err, out)
	}
	info := string(out)
	if strings.Contains(info, "vcs.") {
		t.Errorf("the binary records version control data (built without -buildvcs=false):\n%s", info)
	}
	for _, want := range []string{"-trimpath=true", "CGO_ENABLED=0"} {
		if !strings.Contains(info, want) {
			t.Errorf("build info lacks %s:\n%s", want, info)
		}
	}
	if b, err := os.ReadFile(host); err != nil || bytes.Contains(b, []byte(root)) {
		t.Errorf("the binary holds the build path %s (or cannot be read: %v)", root, err)
	}
	out, err = exec.Command(host, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), first.Version) {
		t.Errorf("intoto-ci version: %v, %q; want %s", err, out, first.Version)
	}
}

// checkArchive wants exactly one regular file in the archive, named after the archive's binary, 0755,
// owned by root, with the epoch as its time.
func checkArchive(t *testing.T, path string) {
	t.Helper()
	base := filepath.Base(path)
	binary := base[:strings.Index(base, "_")]
	if strings.HasSuffix(base, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		defer zr.Close()
		if len(zr.File) != 1 || zr.File[0].Name != binary+".exe" {
			var names []string
			for _, f := range zr.File {
				names = append(names, f.Name)
			}
			t.Errorf("%s holds %v, want [%s.exe]", base, names, binary)
			return
		}
		if m := zr.File[0].Modified; !m.Equal(time.Unix(0, 0)) && m.Year() > 1980 {
			t.Errorf("%s: entry time %s, want a constant", base, m)
		}
		return
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", base, err)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", base, err)
		}
		names = append(names, h.Name)
		if h.Mode&0o777 != 0o755 || h.Uid != 0 || !h.ModTime.Equal(time.Unix(0, 0)) {
			t.Errorf("%s: %s has mode %o, uid %d, time %s; want 0755, 0, the epoch", base, h.Name, h.Mode, h.Uid, h.ModTime)
		}
	}
	if !slices.Equal(names, []string{binary}) {
		t.Errorf("%s holds %v, want [%s]", base, names, binary)
	}
}

// extract unpacks one file of a tar.gz into a temporary directory.
func extract(t *testing.T, archive, name string) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("tar", "-xzf", archive, "-C", dir, name).CombinedOutput()
	if err != nil {
		t.Fatalf("tar -xzf %s: %v\n%s", archive, err, out)
	}
	return filepath.Join(dir, name)
}

// assetMention is how a consumer writes a release asset's name: a binary, version, OS and architecture,
// each either literal or a placeholder ($var, ${var}, <var>), and an extension.
var assetMention = regexp.MustCompile(`(intoto-ci(?:-sigstore)?|\$\{?\w+\}?|<\w+>)_(v[0-9][^_\s/"'<>]*|\$\{?\w+\}?|<\w+>)_(linux|darwin|windows|\$\{?\w+\}?|<\w+>)_(amd64|arm64|\$\{?\w+\}?|<\w+>)(\.tar\.gz|\.zip|\.\$\{?\w+\}?|\.<\w+>)?`)

func placeholder(s string) bool { return strings.HasPrefix(s, "$") || strings.HasPrefix(s, "<") }

// expandMention lists the asset names a mention stands for; a placeholder stands for every value the
// release has.
func expandMention(m []string, version string) []string {
	pick := func(s string, all []string) []string {
		if placeholder(s) {
			return all
		}
		return []string{s}
	}
	var names []string
	for _, bin := range pick(m[1], []string{"intoto-ci", "intoto-ci-sigstore"}) {
		for _, v := range pick(m[2], []string{version}) {
			// A literal extension narrows a placeholder OS: ".tar.gz" is every OS but windows, ".zip" windows.
			oses := []string{"linux", "darwin", "windows"}
			switch m[5] {
			case ".tar.gz":
				oses = oses[:2]
			case ".zip":
				oses = oses[2:]
			}
			for _, goos := range pick(m[3], oses) {
				for _, goarch := range pick(m[4], []string{"amd64", "arm64"}) {
					ext := m[5]
					if ext != "" && placeholder(ext[1:]) {
						ext = ".tar.gz"
						if goos == "windows" {
							ext = ".zip"
						}
					}
					names = append(names, bin+"_"+v+"_"+goos+"_"+goarch+ext)
				}
			}
		}
	}
	return names
}

// TestConsumersNameReleaseAssets reads every consumer of the release and checks each asset name it
// writes, with its placeholders filled in every way, against what the release build wrote; the install
// paths must between them reach every asset they promise (the action: every platform; GitLab: linux on
// amd64 and arm64). Image references must be the image the release pushes, and checksums.txt at the root
// must list the assets the release makes.
func TestConsumersNameReleaseAssets(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	cfg := readGoreleaser(t, root)
	dist := releasetest.Shared(t)
	consumers := []string{"action.yml", "scripts/action-install.sh", "README.md", "RELEASING.md", "Dockerfile",
		"Dockerfile.multistage", ".github/workflows/release.yml"}
	for _, glob := range []string{"gitlab/*", "tekton/*/*", "tekton/*.md", "docs/*.md", "examples/*/*.yml", "examples/*/README.md"} {
		m, err := filepath.Glob(filepath.Join(root, glob))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range m {
			rel, err := filepath.Rel(root, p)
			if err != nil {
				t.Fatal(err)
			}
			consumers = append(consumers, rel)
		}
	}
	reached := map[string]map[string]bool{}
	image := imageRef(t, cfg, dist.Version)
	imageMention := regexp.MustCompile(`ghcr\.io/intoto-ci/intoto-ci[:@][^\s"'\x60)]*`)
	for _, c := range consumers {
		b, err := os.ReadFile(filepath.Join(root, c))
		if os.IsNotExist(err) {
			t.Errorf("consumer %s is missing", c)
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		reached[c] = map[string]bool{}
		for _, m := range assetMention.FindAllStringSubmatch(string(b), -1) {
			for _, name := range expandMention(m, dist.Version) {
				if _, ok := dist.Sums[name]; !ok {
					t.Errorf("%s names %q (as %q), which the release does not make", c, name, m[0])
					continue
				}
				reached[c][name] = true
			}
		}
		for _, ref := range imageMention.FindAllString(string(b), -1) {
			ref = strings.TrimRight(ref, ".,;:")
			if ref != image && ref != "ghcr.io/intoto-ci/intoto-ci:<version>" && !strings.HasPrefix(ref, "ghcr.io/intoto-ci/intoto-ci@sha256") {
				t.Errorf("%s names image %s, want the release's %s (or pinned by digest, ghcr.io/intoto-ci/intoto-ci@sha256:…)", c, ref, image)
			}
		}
	}

	var linux []string
	for _, name := range dist.Assets() {
		if strings.Contains(name, "_linux_") {
			linux = append(linux, name)
		}
	}
	for c, want := range map[string][]string{
		"scripts/action-install.sh": dist.Assets(),
		"gitlab/run.yml":            linux,
		"gitlab/verify.yml":         linux,
	} {
		for _, name := range want {
			if !reached[c][name] {
				t.Errorf("%s cannot install %s", c, name)
			}
		}
	}
	for _, c := range []string{"tekton/stepactions/install.yaml", "tekton/stepactions/verify.yaml", "gitlab/run.yml", "gitlab/verify.yml"} {
		b, err := os.ReadFile(filepath.Join(root, c))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), image) {
			t.Errorf("%s does not default to the release's image %s", c, image)
		}
	}

	committed := map[string]bool{}
	b, err := os.ReadFile(filepath.Join(root, "checksums.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if _, name, ok := strings.Cut(line, "  "); ok {
			committed[name] = true
		}
	}
	for _, name := range dist.Assets() {
		if !committed[name] {
			t.Errorf("checksums.txt does not list %s", name)
		}
	}
	if len(committed) != len(dist.Sums) {
		t.Errorf("checksums.txt lists %d assets, the release makes %d", len(committed), len(dist.Sums))
	}
}
