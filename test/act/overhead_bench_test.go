package act

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/releasetest"
)

var overheadLine = regexp.MustCompile(`overhead-seconds=([0-9.]+)`)

// BenchmarkActionOverhead measures what the action adds to a job on a cold runner: install intoto-ci, wrap
// `true`, sign the link with a key and upload it, timed inside the job (from the step before the action to
// the step after it) under act. Two ways of installing:
//
//   - release: the release from the loopback release server, with an empty Go build cache and no Go on
//     the PATH (the runner needs none);
//   - source: version: source, building both binaries with the runner's Go and an empty build cache
//     (what every job paid before there was a release).
//
// Run: go test ./test/act -run '^$' -bench ActionOverhead -benchtime 1x (inside `unshare -n`, as the
// tests). It reports s/job; it is a measurement, not a test: nothing fails on a slow machine.
func BenchmarkActionOverhead(b *testing.B) {
	standIns(b)
	dist := releasetest.Shared(b)
	srv := releasetest.NewServer(b, dist, nil)
	cli := buildtest.IntotoCI(b)
	goroot, err := exec.Command("go", "env", "GOROOT").Output()
	if err != nil {
		b.Fatal(err)
	}
	goBin := filepath.Join(strings.TrimSpace(string(goroot)), "bin")
	gp, err := gopath()
	if err != nil {
		b.Fatal(err)
	}
	var noGo []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if d != goBin && d != filepath.Join(gp, "bin") {
			noGo = append(noGo, d)
		}
	}
	if p, err := exec.LookPath("go"); err == nil && slices.Contains(noGo, filepath.Dir(p)) {
		b.Fatalf("go is at %s, which cannot be left off PATH", p)
	}

	for _, mode := range []string{"release", "source"} {
		b.Run(mode, func(b *testing.B) {
			var action string
			version := ""
			procEnv := []string{}
			if mode == "release" {
				action = releaseAction(b, dist)
				procEnv = append(procEnv, "PATH="+strings.Join(noGo, string(os.PathListSeparator)))
			} else {
				action = actionSource(b)
				version = "source"
			}
			for i := 0; i < b.N; i++ {
				repo := b.TempDir()
				wf, err := os.ReadFile(filepath.Join("testdata", "workflows", "overhead.yml"))
				if err != nil {
					b.Fatal(err)
				}
				writeFile(b, filepath.Join(repo, ".github", "workflows", "overhead.yml"), string(wf))
				if out, err := exec.Command(cli, "key", "generate", "--type", "ed25519", "-o", filepath.Join(repo, ".keys", "step")).CombinedOutput(); err != nil {
					b.Fatalf("key generate: %v\n%s", err, out)
				}
				gitRepo(b, repo)
				env := append(procEnv, "GOCACHE="+b.TempDir())
				res := runAct(b, actConfig{repo: repo, workflow: ".github/workflows/overhead.yml", action: action,
					serverURL: srv.URL, vars: map[string]string{"INTOTO_CI_VERSION": version}, procEnv: env})
				m := overheadLine.FindStringSubmatch(res.log)
				if res.job("one") != "succeeded" || m == nil {
					b.Fatalf("job one: %s\n%s", res.job("one"), tail(res.log, 60))
				}
				s, err := strconv.ParseFloat(m[1], 64)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(s, "s/job")
				for _, l := range strings.Split(res.log, "\n") {
					if strings.Contains(l, "Success - Main") || strings.Contains(l, "Success - Post") {
						b.Log(strings.TrimSpace(l))
					}
				}
			}
		})
	}
}
