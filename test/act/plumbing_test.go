package act

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestActionPlumbing runs action.yml under act with a stand-in intoto-ci (testdata/fakecli, built by the
// action from source: version: source): two matrix legs wrap the same step and upload uniquely named
// artifacts, bad inputs fail their step with an ::error and upload nothing, and verify mode downloads every
// link of the run, writes the report and sets its outputs.
func TestActionPlumbing(t *testing.T) {
	root := repoRoot(t)
	action := t.TempDir()
	for _, f := range []string{"action.yml", "checksums.txt", "scripts/action-install.sh"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(action, f), string(b))
	}
	copyTree(t, filepath.Join("testdata", "fakecli"), action, nil)

	repo := t.TempDir()
	b, err := os.ReadFile(filepath.Join("testdata", "workflows", "plumbing.yml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, ".github", "workflows", "plumbing.yml"), string(b))
	writeFile(t, filepath.Join(repo, "layout.txt"), "a layout\n")
	gitRepo(t, repo)

	res := runAct(t, actConfig{repo: repo, workflow: ".github/workflows/plumbing.yml", action: action})
	if res.err != nil {
		t.Errorf("act: %v\n%s", res.err, tail(res.log, 80))
	}
	for _, job := range []string{"build", "bad-input", "verify", "empty"} {
		if got := res.job(job); got != "succeeded" {
			t.Errorf("job %s: got %q, want succeeded", job, got)
		}
	}

	names := regexp.MustCompile(`plumbing-artifact=(intoto-links-build-build-1-[0-9a-f]{12})\b`).FindAllStringSubmatch(res.log, -1)
	if len(names) != 2 || names[0][1] == names[1][1] {
		t.Errorf("artifact names of the two matrix legs: got %v, want two distinct intoto-links-build-build-1-<id>", names)
	}
	if !strings.Contains(res.log, "version: source: building intoto-ci and intoto-ci-sigstore from") {
		t.Errorf("no notice that version: source builds from source in\n%s", tail(res.log, 80))
	}
	verifyLog := res.jobLog("verify")
	if n := strings.Count(verifyLog, "- link build."); n != 2 {
		t.Errorf("verify report lists %d build links, want 2:\n%s", n, verifyLog)
	}
	if !strings.Contains(verifyLog, "plumbing-result=verified") {
		t.Errorf("verify output result: want verified in\n%s", verifyLog)
	}
	bad := res.jobLog("bad-input")
	for _, want := range []string{
		"input 'mode' must be run, verify or attach, not 'frobnicate'",
		"mode run needs input 'step'",
		"set input 'run' (a command line) or 'command' (argv, one per line), not both",
		"layout file 'missing/root.layout' not found",
	} {
		if !strings.Contains(bad, want) {
			t.Errorf("bad-input job: no ::error %q in\n%s", want, bad)
		}
	}
	if !strings.Contains(res.jobLog("empty"), "no links found in artifacts named 'nothing-here-*'") {
		t.Errorf("empty job: no ::error about missing links in\n%s", res.jobLog("empty"))
	}
	if !strings.Contains(res.jobLog("empty"), "plumbing-empty=failure/error") {
		t.Errorf("empty job: want outcome failure and result error in\n%s", res.jobLog("empty"))
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
