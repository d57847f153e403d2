package gitlab

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
)

// loopbackRelease serves the release (built by .goreleaser.yaml) on loopback, with a tampered
// intoto-ci archive under /tampered/ that touches the returned marker when it runs.
func loopbackRelease(t *testing.T) (*releasetest.Server, string) {
	t.Helper()
	marker := filepath.Join(t.TempDir(), "tampered-ran")
	return releasetest.NewServer(t, releasetest.Shared(t), releasetest.TamperedArchive(t, marker)), marker
}

// fakeUname returns a directory holding a uname that reports machine m (and defers to the real one
// otherwise), to play a runner of another architecture.
func fakeUname(t *testing.T, m string) string {
	t.Helper()
	dir := t.TempDir()
	real := "/bin/uname"
	if _, err := os.Stat(real); err != nil {
		real = "/usr/bin/uname"
	}
	script := "#!/bin/sh\ncase \"$1\" in -m) echo " + m + " ;; *) exec " + real + " \"$@\" ;; esac\n"
	if err := os.WriteFile(filepath.Join(dir, "uname"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDownloadInstall runs the example's build job alone with install: download (and once with the
// default install: image) against the loopback release, and checks each way it must refuse before the
// step's command runs, with the message a user needs; and that an arm64 runner gets the arm64 archives.
func TestDownloadInstall(t *testing.T) {
	t.Parallel()
	gitlabCILocal(t)
	rel, marker := loopbackRelease(t)
	v := rel.Dist.Version
	amd64 := "intoto-ci_" + v + "_linux_amd64.tar.gz"
	wrongPin := strings.Repeat("ab", 32)
	cases := []struct {
		name     string
		pin, url string
		path     []string // prepended to PATH
		image    bool     // leave install: image (the default)
		want     string
		runs     bool // the install succeeds (the binary may still not run on this machine)
	}{
		{name: "tampered archive", pin: rel.ChecksumsSHA256, url: rel.IPURL + "/tampered",
			want: "intoto-ci: " + amd64 + " from " + rel.IPURL + "/tampered/" + v + " has sha256 " + sha(rel.Tampered) +
				", want " + rel.Dist.Sums[amd64] + ": refusing to run it"},
		{name: "checksums.txt not the pinned one", pin: wrongPin, url: rel.IPURL,
			want: "intoto-ci: checksums.txt from " + rel.IPURL + "/" + v + " has sha256 " + rel.ChecksumsSHA256 + ", want " + wrongPin},
		{name: "missing asset", pin: rel.ChecksumsSHA256, url: rel.IPURL + "/missing",
			want: "intoto-ci: could not download " + rel.IPURL + "/missing/" + v + "/" + amd64 +
				": to use a mirror holding the release's assets, set input download-url (or the CI/CD variable it names) to its base URL"},
		{name: "unreachable", pin: rel.ChecksumsSHA256, url: "http://127.0.0.1:1",
			want: "intoto-ci: could not download http://127.0.0.1:1/" + v + "/checksums.txt"},
		{name: "unsupported architecture", pin: rel.ChecksumsSHA256, url: rel.IPURL, path: []string{fakeUname(t, "riscv64")},
			want: "intoto-ci: the release has no build for linux/riscv64; supported: linux/amd64 linux/arm64"},
		{name: "image on a shell executor", image: true, path: []string{binaryDir(t)},
			want: "intoto-ci: install: image, but this job is not running in the intoto-ci step image"},
		{name: "arm64 runner", pin: rel.ChecksumsSHA256, url: rel.IPURL, path: []string{fakeUname(t, "aarch64")}, runs: true,
			want: "intoto-ci: installed intoto-ci intoto-ci-sigstore " + v + " (linux/arm64) from " + rel.IPURL + "/" + v + ", checksums OK"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			project := newProject(t, func(s string) string {
				if c.image {
					return strings.Replace(s, "      products: dist/app.txt\n", "      products: dist/app.txt\n      install: image\n", 1)
				}
				return withDownload(s, c.pin, "$RELEASE_MIRROR")
			})
			res := runGCL(t, project, c.path, "--shell-isolation", "--force-shell-executor", "--no-color",
				"--no-json-schema-validation", "--variable", "RELEASE_MIRROR="+c.url, "build")
			log := jobLog(res.stdout+res.stderr, "build")
			if res.code == 0 && !c.runs {
				t.Fatalf("build job exited 0, want a failure\n%s", log)
			}
			if !strings.Contains(log, c.want) {
				t.Errorf("build job log lacks %q:\n%s", c.want, log)
			}
			if c.runs {
				for _, name := range []string{"intoto-ci", "intoto-ci-sigstore"} {
					if want := "/" + v + "/" + name + "_" + v + "_linux_arm64.tar.gz"; !slices.Contains(rel.Requests(), want) {
						t.Errorf("no request for %s in %v", want, rel.Requests())
					}
				}
				return
			}
			if links, _ := filepath.Glob(filepath.Join(project, "links", "build.*")); len(links) != 0 {
				t.Errorf("build job wrote links %v despite the failed install", links)
			}
			if _, err := os.Stat(filepath.Join(project, "dist", "app.txt")); err == nil {
				t.Error("the step's command ran despite the failed install")
			}
			if _, err := os.Stat(marker); err == nil {
				t.Error("the tampered intoto-ci ran")
			}
		})
	}
}
func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestInstallFunctionShared: run.yml and verify.yml carry the same intoto_ci_install (a template cannot
// include shell from another file), so a fix to one must reach the other.
func TestInstallFunctionShared(t *testing.T) {
	t.Parallel()
	var bodies []string
	for _, name := range []string{"run.yml", "verify.yml"} {
		b, err := os.ReadFile(filepath.Join(repoRoot, "gitlab", name))
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		start := strings.Index(s, "      intoto_ci_install() {\n")
		end := strings.Index(s, "\n      }\n")
		if start < 0 || end < start {
			t.Fatalf("gitlab/%s: no intoto_ci_install function", name)
		}
		bodies = append(bodies, s[start:end])
	}
	if bodies[0] != bodies[1] {
		t.Errorf("intoto_ci_install differs between gitlab/run.yml and gitlab/verify.yml")
	}
}
