package release

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// copyInstr is one COPY or ADD of a Dockerfile that reads the build context.
type copyInstr struct {
	line    int
	sources []string // as written, ${VAR} not yet expanded
}

// dockerfile is what the tests need of a Dockerfile: ARG defaults and context COPY/ADD sources.
type dockerfile struct {
	args   map[string]string
	copies []copyInstr
}

// parseDockerfile joins continuation lines, drops comments, and collects ARG defaults and the sources of
// every COPY/ADD that does not copy from another stage.
func parseDockerfile(t *testing.T, text string) dockerfile {
	t.Helper()
	df := dockerfile{args: map[string]string{}}
	var joined []string
	var lines []int
	cur, start := "", 0
	for i, l := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(l)
		if cur == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur == "" {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur += strings.TrimSuffix(trimmed, "\\") + " "
			continue
		}
		joined, lines = append(joined, cur+trimmed), append(lines, start)
		cur = ""
	}
	for i, l := range joined {
		f := strings.Fields(l)
		switch strings.ToUpper(f[0]) {
		case "ARG":
			for _, a := range f[1:] {
				if k, v, ok := strings.Cut(a, "="); ok {
					df.args[k] = strings.Trim(v, `"`)
				}
			}
		case "COPY", "ADD":
			var rest []string
			fromStage := false
			for _, a := range f[1:] {
				if strings.HasPrefix(a, "--") {
					fromStage = fromStage || strings.HasPrefix(a, "--from=")
					continue
				}
				rest = append(rest, a)
			}
			if fromStage {
				continue
			}
			if len(rest) < 2 {
				t.Fatalf("line %d: %s has no source", lines[i], f[0])
			}
			df.copies = append(df.copies, copyInstr{line: lines[i], sources: rest[:len(rest)-1]})
		}
	}
	return df
}

var dockerVar = regexp.MustCompile(`\$\{(\w+)\}|\$(\w+)`)

// expand fills ${VAR} from vars, then from the Dockerfile's ARG defaults.
func (df dockerfile) expand(t *testing.T, s string, vars map[string]string) string {
	t.Helper()
	return dockerVar.ReplaceAllStringFunc(s, func(m string) string {
		name := strings.Trim(m, "${}")
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := df.args[name]; ok {
			return v
		}
		t.Errorf("COPY source %q uses $%s, which has no value", s, name)
		return m
	})
}

// excluded tells whether BuildKit leaves path (slash-separated, relative to the context) out of the build
// context: it walks the path one component at a time, as BuildKit's context walker does, carrying each
// parent's match results (patternmatcher.MatchesUsingParentResults).
func excluded(t *testing.T, pm *patternmatcher.PatternMatcher, p string) bool {
	t.Helper()
	var info patternmatcher.MatchInfo
	matched := false
	parts := strings.Split(path.Clean(p), "/")
	for i := range parts {
		var err error
		matched, info, err = pm.MatchesUsingParentResults(strings.Join(parts[:i+1], "/"), info)
		if err != nil {
			t.Fatalf("match %s: %v", p, err)
		}
	}
	return matched
}

// ignoreFor reads the ignore file BuildKit uses with a Dockerfile: <Dockerfile>.dockerignore beside it,
// else .dockerignore at the context root.
func ignoreFor(t *testing.T, root, name string) (*patternmatcher.PatternMatcher, string) {
	t.Helper()
	for _, p := range []string{filepath.Join(root, name+".dockerignore"), filepath.Join(root, ".dockerignore")} {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		patterns, err := ignorefile.ReadAll(f)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		return pm, filepath.Base(p)
	}
	pm, err := patternmatcher.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return pm, "(no ignore file)"
}

// imagePlatforms are the platforms the release builds the step image for, from .goreleaser.yaml.
func imagePlatforms(t *testing.T, cfg goreleaserConfig) [][2]string {
	t.Helper()
	var plats [][2]string
	for _, d := range cfg.DockersV2 {
		for _, p := range d.Platforms {
			os, arch, ok := strings.Cut(p, "/")
			if !ok {
				t.Fatalf(".goreleaser.yaml: platform %q", p)
			}
			plats = append(plats, [2]string{os, arch})
		}
	}
	if len(plats) == 0 {
		t.Fatal(".goreleaser.yaml builds no step image (dockers_v2 without platforms)")
	}
	return plats
}

// TestDockerfileContexts checks every COPY/ADD source of every Dockerfile against the ignore file
// BuildKit would use, with the matcher BuildKit uses, for each platform the release builds. Dockerfile
// builds from the context goreleaser lays out (<os>/<arch>/<binary>): its sources must be exactly the
// binaries the release puts there. The other Dockerfiles build from the repository: their sources must exist
// and be kept, with every non-test Go file under them.
func TestDockerfileContexts(t *testing.T) {
	t.Parallel()
	root := repoRoot(t)
	cfg := readGoreleaser(t, root)
	plats := imagePlatforms(t, cfg)
	files, err := filepath.Glob(filepath.Join(root, "Dockerfile*"))
	if err != nil {
		t.Fatal(err)
	}
	var dockerfiles []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".dockerignore") {
			dockerfiles = append(dockerfiles, filepath.Base(f))
		}
	}
	if !slices.Contains(dockerfiles, cfg.DockersV2[0].Dockerfile) {
		t.Fatalf("the release's Dockerfile %q is not among %v", cfg.DockersV2[0].Dockerfile, dockerfiles)
	}
	for _, name := range dockerfiles {
		t.Run(name, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(root, name))
			if err != nil {
				t.Fatal(err)
			}
			df := parseDockerfile(t, string(b))
			if len(df.copies) == 0 {
				t.Fatal("no COPY from the build context")
			}
			pm, ignore := ignoreFor(t, root, name)
			release := name == cfg.DockersV2[0].Dockerfile
			checked := map[string]bool{}
			for _, plat := range plats {
				vars := map[string]string{"TARGETOS": plat[0], "TARGETARCH": plat[1], "TARGETPLATFORM": plat[0] + "/" + plat[1]}
				var got []string
				for _, c := range df.copies {
					for _, s := range c.sources {
						src := path.Clean(strings.TrimPrefix(df.expand(t, s, vars), "./"))
						got = append(got, src)
						if excluded(t, pm, src) {
							t.Errorf("line %d: COPY source %s (%s) is left out of the context by %s", c.line, src, vars["TARGETPLATFORM"], ignore)
						}
						if !release && !checked[src] {
							checked[src] = true
							checkRepoSource(t, root, src, pm, ignore)
						}
					}
				}
				if release {
					var want []string
					for _, b := range imageBinaries(t, cfg) {
						want = append(want, plat[0]+"/"+plat[1]+"/"+b)
					}
					slices.Sort(got)
					slices.Sort(want)
					if !slices.Equal(got, want) {
						t.Errorf("%s: COPY sources %v, want the binaries goreleaser lays out %v", vars["TARGETPLATFORM"], got, want)
					}
				}
			}
		})
	}
}

// checkRepoSource: a COPY source of a Dockerfile built from the repository exists there, and every
// non-test Go file under it is kept in the context.
func checkRepoSource(t *testing.T, root, src string, pm *patternmatcher.PatternMatcher, ignore string) {
	t.Helper()
	info, err := os.Stat(filepath.Join(root, src))
	if err != nil {
		t.Errorf("COPY source %s: %v", src, err)
		return
	}
	if !info.IsDir() {
		return
	}
	err = filepath.WalkDir(filepath.Join(root, src), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") || strings.Contains(p, "/testdata/") {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		if excluded(t, pm, filepath.ToSlash(rel)) {
			t.Errorf("%s (under COPY source %s) is left out of the context by %s", rel, src, ignore)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestIgnoreCheckCatchesMissingHelper is the control of TestDockerfileContexts: the ignore file the step
// image once had re-included only dist/*/intoto-ci, which BuildKit's matcher reads as leaving
// intoto-ci-sigstore out; the check must say so.
func TestIgnoreCheckCatchesMissingHelper(t *testing.T) {
	t.Parallel()
	pm, err := patternmatcher.New([]string{"*", "!dist/*/intoto-ci"})
	if err != nil {
		t.Fatal(err)
	}
	if excluded(t, pm, "dist/linux_amd64/intoto-ci") {
		t.Error("dist/linux_amd64/intoto-ci: got excluded, want kept")
	}
	if !excluded(t, pm, "dist/linux_amd64/intoto-ci-sigstore") {
		t.Error("dist/linux_amd64/intoto-ci-sigstore: got kept, want excluded (the BuildKit bug)")
	}
}
