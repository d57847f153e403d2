package release

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
)

// goreleaserConfig is what the tests read of .goreleaser.yaml, the one place the release is defined.
type goreleaserConfig struct {
	Builds []struct {
		ID     string   `yaml:"id"`
		Binary string   `yaml:"binary"`
		Goos   []string `yaml:"goos"`
		Goarch []string `yaml:"goarch"`
		Flags  []string `yaml:"flags"`
		MTime  string   `yaml:"mod_timestamp"`
	} `yaml:"builds"`
	DockersV2 []struct {
		IDs        []string `yaml:"ids"`
		Dockerfile string   `yaml:"dockerfile"`
		Images     []string `yaml:"images"`
		Tags       []string `yaml:"tags"`
		Platforms  []string `yaml:"platforms"`
	} `yaml:"dockers_v2"`
}

func repoRoot(t *testing.T) string {
	t.Helper()
	return releasetest.Root(t)
}

func readGoreleaser(t *testing.T, root string) goreleaserConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, ".goreleaser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg goreleaserConfig
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf(".goreleaser.yaml: %v", err)
	}
	if len(cfg.Builds) == 0 || len(cfg.DockersV2) != 1 {
		t.Fatalf(".goreleaser.yaml: got %d builds and %d step images, want builds and one image", len(cfg.Builds), len(cfg.DockersV2))
	}
	return cfg
}

// imageBinaries are the binary names the step image's build context holds per platform.
func imageBinaries(t *testing.T, cfg goreleaserConfig) []string {
	t.Helper()
	var names []string
	for _, b := range cfg.Builds {
		for _, id := range cfg.DockersV2[0].IDs {
			if b.ID == id {
				names = append(names, b.Binary)
			}
		}
	}
	if len(names) == 0 {
		t.Fatal(".goreleaser.yaml: the step image takes no build")
	}
	return names
}

// imageRef is the step image the release pushes for version: image:tag, rendered from .goreleaser.yaml.
func imageRef(t *testing.T, cfg goreleaserConfig, version string) string {
	t.Helper()
	d := cfg.DockersV2[0]
	if len(d.Images) != 1 || len(d.Tags) == 0 {
		t.Fatalf(".goreleaser.yaml: step image %v tags %v, want one image", d.Images, d.Tags)
	}
	return d.Images[0] + ":" + strings.ReplaceAll(d.Tags[0], "{{ .Version }}", version)
}

// TestReleaseDefinitionPinsReproducibility reads the build settings that keep commits, paths and times
// out of the binaries: they must be in the release definition itself, not left to the machine's GOFLAGS.
func TestReleaseDefinitionPinsReproducibility(t *testing.T) {
	t.Parallel()
	cfg := readGoreleaser(t, repoRoot(t))
	for _, b := range cfg.Builds {
		for _, flag := range []string{"-trimpath", "-buildvcs=false"} {
			if !strings.Contains(" "+strings.Join(b.Flags, " ")+" ", " "+flag+" ") {
				t.Errorf("build %s: flags %v lack %s", b.ID, b.Flags, flag)
			}
		}
		if strings.Contains(b.MTime, "{{") || b.MTime == "" {
			t.Errorf("build %s: mod_timestamp %q, want a constant (a commit timestamp changes when checksums.txt is committed)", b.ID, b.MTime)
		}
	}
}
