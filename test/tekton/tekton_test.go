package tekton

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/layouttest"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/testutil/sigstack"
)

// Commits the example Pipeline runs at in these tests.
const (
	testCommit  = "0123456789abcdef0123456789abcdef01234567"
	otherCommit = "fedcba9876543210fedcba9876543210fedcba98"
)

// pipelineRun shapes one run of the example Pipeline.
type pipelineRun struct {
	params  values                    // pipeline params (the stack's URLs are added); commit defaults to testCommit
	tasks   map[string]values         // per pipeline task: params overriding what the Pipeline passes
	between func(task, source string) // runs after each task (to tamper with the workspace)
}

// examplePipeline runs examples/tekton/pipeline.yaml task by task on a sample workspace, keyless
// against the loopback stack with the token where the projected volume would put it. It returns the
// outcome of each task by name.
//
// The stack has no Kubernetes issuer, so the token is GitLab-shaped, but without its commit claims:
// like a Kubernetes service-account certificate, the certificate then names no commit and commit
// binding rests on the commit each run task records, which is what the Tekton resources provide.
func examplePipeline(t *testing.T, pr pipelineRun) map[string]stepRun {
	t.Helper()
	stack := sigstack.Shared(t)
	bin := binaryDir(t)
	r := loadResources(t)
	var p pipeline
	readYAML(t, filepath.Join(repoRoot, "examples", "tekton", "pipeline.yaml"), &p)

	source := t.TempDir()
	copyTree(t, filepath.Join("testdata", "workspace"), source)
	signLayout(t, filepath.Join(bin, "intoto-ci"), source, stack.GitLab.URL)

	oidcDir := t.TempDir()
	claims := oidc.GitLabClaims(oidc.GitLabOptions{})
	claims["sha"], claims["ci_config_sha"] = "", "" // no source_repository_digest in the certificate
	token := stack.GitLab.Mint(claims)
	if err := os.WriteFile(filepath.Join(oidcDir, "oidc-token"), []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	given := values{
		"fulcio-url":    stack.FulcioURL,
		"rekor-url":     stack.RekorURL,
		"rekor-version": "2",
		"tsa-url":       stack.TSAURL,
		"trusted-root":  stack.TrustedRootPath,
		"commit":        testCommit,
	}
	for k, v := range pr.params {
		given[k] = v
	}
	pparams, err := withDefaults(p.Spec.Params, given)
	if err != nil {
		t.Fatal(err)
	}
	psc := scope{params: pparams}
	h := host{imageBin: bin, volumes: map[string]string{"sigstore-oidc": oidcDir}}
	out := map[string]stepRun{}
	for _, pt := range p.Spec.Tasks {
		tgiven, err := psc.given(pt.Params)
		if err != nil {
			t.Fatalf("pipeline task %s: %v", pt.Name, err)
		}
		for k, v := range pr.tasks[pt.Name] {
			tgiven[k] = v
		}
		res := runTask(t, r, h, pt.TaskRef.Name, tgiven, source)
		out[pt.Name] = res
		if res.code != 0 {
			break
		}
		if pr.between != nil {
			pr.between(pt.Name, source)
		}
	}
	return out
}

func TestExamplePipelineVerifies(t *testing.T) {
	t.Parallel()
	runs := examplePipeline(t, pipelineRun{})
	for _, name := range []string{"build", "package", "verify"} {
		if got := runs[name].code; got != 0 {
			t.Errorf("task %s exited %d, want 0\n%s", name, got, runs[name].stderr)
		}
	}
}

func TestExamplePipelineRefusesTamperedProduct(t *testing.T) {
	t.Parallel()
	runs := examplePipeline(t, pipelineRun{between: func(task, source string) {
		if task != "build" {
			return
		}
		f, err := os.OpenFile(filepath.Join(source, "dist", "app.txt"), os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.WriteString("tampered\n"); err != nil {
			t.Fatal(err)
		}
	}})
	if runs["build"].code != 0 || runs["package"].code != 0 {
		t.Fatalf("build/package exited %d/%d, want 0/0", runs["build"].code, runs["package"].code)
	}
	v := runs["verify"]
	if v.code != 1 {
		t.Fatalf("verify exited %d, want 1 (refused)\n%s", v.code, v.stderr)
	}
	if out := v.stdout + v.stderr; !strings.Contains(out, "dist/app.txt") || strings.Contains(out, "identity mismatch") {
		t.Errorf("verify refused for another reason than the altered dist/app.txt:\n%s", out)
	}
}

// TestExamplePipelineCommitBinding: with the Pipeline's commit, verify refuses (exit 1, at the
// runbinding stage) a link that shows another commit or none, and links verified against another
// commit than the one they recorded.
func TestExamplePipelineCommitBinding(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		pr   pipelineRun
		want []string // in verify's output
	}{
		{"package recorded at another commit",
			pipelineRun{tasks: map[string]values{"package": {"commit": otherCommit}}},
			[]string{`refused at runbinding, step "package"`, "commit " + otherCommit + " (from the link environment), want " + testCommit}},
		{"build recorded no commit",
			pipelineRun{tasks: map[string]values{"build": {"commit": ""}}},
			[]string{`refused at runbinding, step "build"`, "shows no commit"}},
		{"verify at another commit",
			pipelineRun{tasks: map[string]values{"verify": {"commit": otherCommit}}},
			[]string{"refused at runbinding", "commit " + testCommit + " (from the link environment), want " + otherCommit}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			runs := examplePipeline(t, c.pr)
			if runs["build"].code != 0 || runs["package"].code != 0 {
				t.Fatalf("build/package exited %d/%d, want 0/0", runs["build"].code, runs["package"].code)
			}
			v := runs["verify"]
			if v.code != 1 {
				t.Fatalf("verify exited %d, want 1 (refused)\n%s%s", v.code, v.stdout, v.stderr)
			}
			out := v.stdout + v.stderr
			for _, w := range c.want {
				if !strings.Contains(out, w) {
					t.Errorf("verify output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestBadParams: the StepActions refuse bad parameter values with exit code 2 and a message naming
// the param, before anything runs.
func TestBadParams(t *testing.T) {
	t.Parallel()
	r := loadResources(t)
	run := r.stepActions["intoto-ci-run"]
	base := func() values {
		return values{"step": "build", "image": "alpine", "command": []string{"true"}}
	}
	const commitMsg = "param commit must be 40 or 64 lowercase hex characters"
	cases := []struct {
		name    string
		sa      string
		install bool
		edit    func(values)
		want    string
	}{
		{"binary not installed", "intoto-ci-run", false, func(values) {}, "run the intoto-ci-install StepAction first"},
		{"unknown signing", "intoto-ci-run", true, func(v values) { v["signing"] = "keyles" }, "param signing must be keyless or key, got 'keyles'"},
		{"key without key", "intoto-ci-run", true, func(v values) { v["signing"] = "key" }, "param key is required with signing=key"},
		{"bad step name", "intoto-ci-run", true, func(v values) { v["step"] = "a b" }, "param step must match"},
		{"empty command", "intoto-ci-run", true, func(v values) { v["command"] = []string{} }, "param command is empty"},
		{"bad rekor version", "intoto-ci-run", true, func(v values) { v["rekor-version"] = "3" }, "param rekor-version must be 1 or 2"},
		{"bad private", "intoto-ci-run", true, func(v values) { v["private"] = "yes" }, "param private must be true or false"},
		{"verify: bad report", "intoto-ci-verify", false, func(v values) { v["report"] = "pdf" }, "param report must be text, json, markdown or junit"},
		{"verify: bad same-run", "intoto-ci-verify", false, func(v values) { v["same-run"] = "1" }, "param same-run must be true or false"},
		{"short commit", "intoto-ci-run", true, func(v values) { v["commit"] = "0123456" }, commitMsg},
		{"uppercase commit", "intoto-ci-run", true, func(v values) { v["commit"] = strings.ToUpper(testCommit) }, commitMsg},
		{"commit with a newline", "intoto-ci-run", true, func(v values) { v["commit"] = testCommit + "\n" + otherCommit }, commitMsg},
		{"commit of 41 chars", "intoto-ci-run", true, func(v values) { v["commit"] = testCommit + "0" }, commitMsg},
		{"verify: non-hex commit", "intoto-ci-verify", false, func(v values) { v["commit"] = "main" }, commitMsg},
		{"verify: commit of 63 chars", "intoto-ci-verify", false, func(v values) { v["commit"] = strings.Repeat("a", 63) }, commitMsg},
		{"verify: bad attach", "intoto-ci-verify", false, func(v values) { v["attach"] = "yes" }, "param attach must be true or false, got 'yes'"},
		{"verify: attach without image", "intoto-ci-verify", false, func(v values) { v["attach"] = "true" }, "param attach is true but param image is empty"},
		{"verify: no layout, no image", "intoto-ci-verify", false, func(v values) { v["layout"] = "" }, "param layout is empty"},
		{"verify: attach without layout", "intoto-ci-verify", false, func(v values) {
			v["layout"], v["image"], v["attach"] = "", "127.0.0.1:1/a@sha256:"+strings.Repeat("0", 64), "true"
		}, "param layout is empty"},
		{"verify: docker-config without config.json", "intoto-ci-verify", false, func(v values) { v["docker-config"] = "/nonexistent" }, "param docker-config: no config.json in '/nonexistent'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			binVol := t.TempDir()
			h := host{volumes: map[string]string{"intoto-ci-bin": binVol, "sigstore-oidc": t.TempDir()}}
			if c.install {
				// A stand-in binary: these checks must fire before intoto-ci is ever called.
				if err := os.WriteFile(filepath.Join(binVol, "intoto-ci"), []byte("#!/bin/sh\nexit 99\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			v := base()
			if c.sa == "intoto-ci-verify" {
				v = values{"layout": "root.layout"}
			}
			c.edit(v)
			sa := r.stepActions[c.sa]
			if sa == nil {
				sa = run
			}
			res := runStepAction(t, h, sa, v)
			if res.code != 2 || !strings.Contains(res.stderr, c.want) {
				t.Fatalf("got exit %d, stderr %q; want exit 2 and %q", res.code, res.stderr, c.want)
			}
		})
	}
}

// TestCommitFlag: a valid commit (40 or 64 hex) reaches intoto-ci as --commit in both StepActions,
// and an empty one adds no flag.
func TestCommitFlag(t *testing.T) {
	t.Parallel()
	r := loadResources(t)
	sha256Commit := strings.Repeat("ab", 32)
	for _, sa := range []string{"intoto-ci-run", "intoto-ci-verify"} {
		for _, commit := range []string{"", testCommit, sha256Commit} {
			t.Run(sa+"/"+fmt.Sprint(len(commit)), func(t *testing.T) {
				t.Parallel()
				// A stand-in binary, both installed and in the "image", that prints its arguments.
				binVol := t.TempDir()
				if err := os.WriteFile(filepath.Join(binVol, "intoto-ci"), []byte("#!/bin/sh\necho \"args: $*\"\n"), 0o755); err != nil {
					t.Fatal(err)
				}
				h := host{imageBin: binVol, volumes: map[string]string{"intoto-ci-bin": binVol, "sigstore-oidc": t.TempDir()}}
				v := values{"step": "build", "image": "alpine", "command": []string{"true"}, "commit": commit}
				if sa == "intoto-ci-verify" {
					v = values{"layout": "root.layout", "commit": commit}
				}
				res := runStepAction(t, h, r.stepActions[sa], v)
				if res.code != 0 {
					t.Fatalf("exit %d, stderr %q", res.code, res.stderr)
				}
				has := strings.Contains(res.stdout, "--commit "+commit+" ")
				if commit == "" {
					has = strings.Contains(res.stdout, "--commit")
				}
				if has != (commit != "") {
					t.Errorf("commit %q: intoto-ci got %q", commit, strings.TrimSpace(res.stdout))
				}
			})
		}
	}
}

// TestInstall copies the binary from the step image into the shared volume and runs it from there.
func TestInstall(t *testing.T) {
	t.Parallel()
	bin := binaryDir(t)
	r := loadResources(t)
	vol := t.TempDir()
	res := runStepAction(t, host{imageBin: bin, volumes: map[string]string{"intoto-ci-bin": vol}},
		r.stepActions["intoto-ci-install"], values{})
	if res.code != 0 {
		t.Fatalf("install exited %d\n%s", res.code, res.stderr)
	}
	for _, name := range []string{"intoto-ci", "intoto-ci-sigstore"} {
		fi, err := os.Stat(filepath.Join(vol, name))
		if err != nil || fi.Mode().Perm()&0o111 == 0 {
			t.Fatalf("installed %s: %v, mode %v; want an executable", name, err, fi)
		}
	}
	if !strings.Contains(res.stderr, "intoto-ci ") {
		t.Errorf("install did not run the installed binary's version: %q", res.stderr)
	}
}

func copyTree(tb testing.TB, src, dst string) {
	tb.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		tb.Fatalf("copy %s: %v", src, err)
	}
}

// signLayout compiles and signs testdata/layout.yaml (issuer pinned to the stack's) into
// source/.intoto/root.layout with a fresh key whose public half goes to source/.intoto/layout.pub.
func signLayout(tb testing.TB, bin, source, issuer string) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "layout.yaml"))
	if err != nil {
		tb.Fatal(err)
	}
	dir := filepath.Join(source, ".intoto")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	keys := tb.TempDir()
	layout := filepath.Join(keys, "layout.json")
	if err := os.WriteFile(layout, layouttest.Compile(tb, []byte(strings.Replace(string(b), "issuer: ISSUER", "issuer: "+issuer, 1)), keys), 0o644); err != nil {
		tb.Fatal(err)
	}
	run := func(args ...string) {
		tb.Helper()
		if out, err := exec.Command(bin, args...).CombinedOutput(); err != nil {
			tb.Fatalf("intoto-ci %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("key", "generate", "--type", "ed25519", "-o", filepath.Join(keys, "layout"))
	run("sign", "--file", layout, "--key", filepath.Join(keys, "layout"), "--output", filepath.Join(dir, "root.layout"))
	pub, err := os.ReadFile(filepath.Join(keys, "layout.pub"))
	if err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "layout.pub"), pub, 0o644); err != nil {
		tb.Fatal(err)
	}
}
