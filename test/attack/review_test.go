package attack

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
	"github.com/intoto-ci/intoto-ci/internal/wire"
	"github.com/intoto-ci/intoto-ci/test/attack/harness"
)

// The attacks of the held-out review (issue 12) and their classes.

// No variable of ci.Variables' hidden list (the key password, ID tokens and the means to get one, the
// platform's job tokens) nor the one named by --identity-token-env reaches the wrapped command, its
// recorded output or the link; the rest of the environment does (GITHUB_RUN_ID: the control). The key
// is encrypted, so its password really is in intoto-ci's environment: with it, the step could decrypt
// the functionary key named in intoto-ci's argv and sign anything.
func TestWrappedCommandSeesNoHiddenVariable(t *testing.T) {
	t.Parallel()
	enc, err := filepath.Abs("../../testdata/interop/in-toto-python/pems/ed25519_private_encrypted.pem")
	if err != nil {
		t.Fatal(err)
	}
	const password = "hunter2"
	for _, name := range append(ci.HiddenEnv(), "MY_TOKEN") {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := &chain{work: dir, links: dir}
			value := "s3cret-value-of-" + name
			if name == ci.KeyPasswordEnv {
				value = password
			}
			env := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "4242", ci.KeyPasswordEnv: password, name: value}
			r := harness.Run(t, harness.Cmd{Dir: c.work, Env: env, Args: []string{"run", "--step", "s", "--key", enc,
				"--identity-token-env", "MY_TOKEN", "--links-dir", c.links, "--base-path", c.work, "--", "env"}})
			if r.Code != 0 {
				t.Fatalf("run -- env: %s", r)
			}
			if !strings.Contains(r.Out, "GITHUB_RUN_ID=4242") {
				t.Fatalf("the wrapped env did not run or lost the visible variables: %q", r.Out)
			}
			links := harness.Glob(t, filepath.Join(c.links, "s.*.link"))
			if len(links) != 1 {
				t.Fatalf("links: %v", links)
			}
			l, err := wire.DecodeLink(harness.Payload(t, links[0]))
			if err != nil {
				t.Fatal(err)
			}
			stdout, _ := l.ByProducts["stdout"].(string)
			if !strings.Contains(stdout, "GITHUB_RUN_ID=4242") {
				t.Fatalf("the link did not record the command's output: %q", stdout)
			}
			for where, text := range map[string]string{"console": r.Out + r.Err, "link": string(harness.ReadFile(t, links[0])), "recorded stdout": stdout} {
				for _, secret := range []string{name + "=", value, ci.KeyPasswordEnv + "=", password} {
					if strings.Contains(text, secret) {
						t.Errorf("%q reaches the wrapped command (%s)", secret, where)
					}
				}
			}
		})
	}
}

// An inspection's children never outlive it, nor verify: each inspection runs in a process group of
// its own, killed on timeout, on verify's interruption and when the inspection exits. The grandchild
// ignores SIGINT and SIGTERM and would otherwise live on (it holds no pipe, so nothing waits for it).
func TestInspectionGrandchildDiesWithIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		tail      string
		extra     []string
		interrupt bool
		verified  bool
	}{
		{name: "timed out", tail: "wait", extra: []string{"--inspection-timeout", "2s"}},
		{name: "verify interrupted", tail: "wait", interrupt: true},
		{name: "left behind by a passing inspection", tail: "exit 0", verified: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChain(t)
			pidfile := filepath.Join(c.dir, "grandchild.pid")
			script := `(trap '' INT TERM; exec sleep 600 >/dev/null 2>&1) & echo $! > ` + pidfile + `; ` + tc.tail
			l := c.baseLayout()
			l.Inspections = []*intoto.Inspection{{Type: intoto.TypeInspection, Name: "check", Run: []string{"sh", "-c", script},
				ExpectedMaterials: []intoto.Rule{}, ExpectedProducts: []intoto.Rule{}}}
			c.writeLayout(t, l)
			c.honest(t)
			switch {
			case tc.interrupt:
				cmd := harness.Command(t, context.Background(), harness.Cmd{Args: []string{"verify", "--layout", c.layout,
					"--layout-key", c.keyPath("alice.pub"), "--links-dir", c.links, "--work-dir", c.work}})
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				readPid(t, pidfile)
				if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
					t.Fatal(err)
				}
				if err := cmd.Wait(); err == nil {
					t.Fatal("interrupted verify exited 0")
				}
			case tc.verified:
				c.mustVerify(t, tc.extra...)
			default:
				c.refused(t, "inspection", "check", []string{"timed out"}, tc.extra...)
			}
			pid := readPid(t, pidfile)
			deadline := time.Now().Add(5 * time.Second)
			for alive(pid) && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if alive(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("the inspection's grandchild (pid %d) outlived verify", pid)
			}
		})
	}
}

// alive reports whether pid is a running process (a zombie left to a non-reaping init counts as dead).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	rest := string(data[strings.LastIndexByte(string(data), ')')+1:])
	return !strings.HasPrefix(strings.TrimSpace(rest), "Z")
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && strings.HasSuffix(string(data), "\n") {
			pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
			if err != nil {
				t.Fatal(err)
			}
			return pid
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no pid in %s", path)
	return 0
}

// recordArgs is record start|stop of the chain's build step, signed with key.
func (c *chain) recordArgs(phase, key string, paths ...string) []string {
	args := []string{"record", phase, "--step", "build", "--key", c.keyPath(key), "--base-path", c.work, "--links-dir", c.links}
	flag := "--materials"
	if phase == "stop" {
		flag = "--products"
	}
	for _, p := range paths {
		args = append(args, flag, filepath.Join(c.work, p))
	}
	return args
}

// The step that runs between record start and record stop can rewrite the unfinished link (rename the
// step, swap a material's digest). Start signs it with the step's key and stop refuses it unless that
// key's signature verifies: an unsigned file, one re-signed by another key the layout trusts (dave, the
// packager), and bob's own unfinished link of another step are refused (exit 1, naming the file, no
// link written). The honest record verifies.
func TestRecordUnfinishedLinkTampered(t *testing.T) {
	t.Parallel()
	unfinished := func(c *chain) string { return filepath.Join(c.links, ".build.link-unfinished.json") }
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, c *chain)
		why    string
	}{
		{name: "honest"},
		{name: "unsigned, material swapped", why: "not a signed unfinished link", tamper: func(t *testing.T, c *chain) {
			// The old format: the plain unfinished link, as the step would write it.
			payload := harness.Payload(t, unfinished(c))
			var u map[string]any
			mustUnmarshal(t, payload, &u)
			u["link"].(map[string]any)["materials"] = map[string]any{"src.txt": digest("evil source\n")}
			harness.WriteJSON(t, unfinished(c), u)
		}},
		{name: "re-signed by another trusted key", why: "not signed by key", tamper: func(t *testing.T, c *chain) {
			// dave's signature over an unfinished build link whose src.txt is the evil one.
			src := filepath.Join(c.work, "src.txt")
			honest := harness.ReadFile(t, src)
			harness.WriteFile(t, src, []byte("evil source\n"))
			harness.Must(t, c.recordArgs("start", "dave", "src.txt")...)
			harness.WriteFile(t, src, honest)
		}},
		{name: "bob's unfinished link of another step", why: `of step "release"`, tamper: func(t *testing.T, c *chain) {
			args := c.recordArgs("start", "bob")
			args[3] = "release"
			harness.Must(t, append(args, "--materials", filepath.Join(c.work, "src.txt"))...)
			if err := os.Rename(filepath.Join(c.links, ".release.link-unfinished.json"), unfinished(c)); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newChain(t)
			c.writeLayout(t, c.baseLayout())
			c.fetch(t)
			harness.Must(t, c.recordArgs("start", "bob", "src.txt")...)
			harness.WriteFile(t, filepath.Join(c.work, "out.txt"), []byte("SOURCE\n")) // the step
			if tc.tamper != nil {
				tc.tamper(t, c)
			}
			r := harness.IC(t, c.recordArgs("stop", "bob", ".")...)
			if tc.tamper == nil {
				if r.Code != 0 {
					t.Fatalf("honest record stop: %s", r)
				}
				c.pack(t)
				c.mustVerify(t)
				return
			}
			if r.Code != 1 || !strings.Contains(r.Err, unfinished(c)) || !strings.Contains(r.Err, tc.why) {
				t.Fatalf("record stop of a tampered unfinished link: got %s, want exit 1 naming the file and %q", r, tc.why)
			}
			if links := harness.Glob(t, filepath.Join(c.links, "build.*")); len(links) != 0 {
				t.Fatalf("record stop refused but wrote %v", links)
			}
		})
	}
}

// Keyless record: start signs the unfinished link with a bundle, and stop refuses it unless that bundle
// verifies against the trusted root and its signer (issuer and SAN) is the identity stop signs as. The
// attack: the step replaces the unfinished link with one it signed as its own Fulcio identity (another
// workflow of the repository) over a swapped material. The control: start and stop as the same
// identity make a link that verifies.
func TestKeylessRecordUnfinishedLinkResigned(t *testing.T) {
	k := newKeyless(t)
	k.writeLayout(t, k.gh(), k.gl())
	honest := k.ghEnv(oidc.GitHubOptions{})
	evil := k.ghEnv(oidc.GitHubOptions{WorkflowPath: ".github/workflows/other.yml"})
	record := func(env map[string]string, phase string, paths ...string) harness.Result {
		args := []string{"record", phase, "--step", "build", "--signing", "keyless", "--fulcio-url", k.s.FulcioURL,
			"--rekor-url", k.s.RekorURL, "--rekor-version", "2", "--tsa-url", k.s.TSAURL, "--trusted-root", k.s.TrustedRootPath,
			"--base-path", k.work, "--links-dir", k.links}
		for _, p := range paths {
			flag := "--materials"
			if phase == "stop" {
				flag = "--products"
			}
			args = append(args, flag, filepath.Join(k.work, p))
		}
		return harness.Run(t, harness.Cmd{Args: args, Env: env, Dir: k.work})
	}
	unfinished := filepath.Join(k.links, ".build.link-unfinished.json")

	// The attack.
	if r := record(honest, "start"); r.Code != 0 {
		t.Fatalf("record start: %s", r)
	}
	harness.WriteFile(t, filepath.Join(k.work, "evil.txt"), []byte("evil\n"))
	if r := record(evil, "start", "evil.txt"); r.Code != 0 { // the step re-signs as its own identity
		t.Fatalf("record start as the step's identity: %s", r)
	}
	harness.WriteFile(t, filepath.Join(k.work, "out.txt"), []byte("built\n"))
	r := record(honest, "stop", "out.txt")
	if r.Code != 1 || !strings.Contains(r.Err, unfinished) || !strings.Contains(r.Err, "other.yml") {
		t.Fatalf("record stop after the step re-signed the unfinished link: got %s, want exit 1 naming the file and the other identity", r)
	}
	if links := harness.Glob(t, filepath.Join(k.links, "build.*")); len(links) != 0 {
		t.Fatalf("record stop refused but wrote %v", links)
	}

	// The control: the same identity at start and stop.
	if err := os.Remove(filepath.Join(k.work, "evil.txt")); err != nil {
		t.Fatal(err)
	}
	if r := record(honest, "start"); r.Code != 0 {
		t.Fatalf("record start: %s", r)
	}
	if r := record(honest, "stop", "out.txt"); r.Code != 0 {
		t.Fatalf("honest keyless record stop: %s", r)
	}
	k.pack(t, k.glEnv(oidc.GitLabOptions{}))
	k.mustVerify(t, "--trusted-root", k.s.TrustedRootPath)
}

// run never writes a link holding a name verify would refuse: a file whose name is not representable
// (a backslash, a newline), or what --lstrip-paths makes of a name (an absolute one), is an error naming
// the file, and no link is written. The control: the same tree with plain names records.
func TestRunRefusesUnrepresentableNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, file string
		flag       string
		lstrip     string
		code       int
	}{
		{name: "backslash material", file: `src/a\b`, flag: "--materials", code: 2},
		{name: "newline product", file: "src/a\nb", flag: "--products", code: 3},
		{name: "lstrip makes it absolute", file: "src/a", flag: "--materials", lstrip: "src", code: 2},
		{name: "control", file: "src/a", flag: "--materials", lstrip: "src/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			work, links := filepath.Join(dir, "work"), filepath.Join(dir, "links")
			harness.WriteFile(t, filepath.Join(work, tc.file), []byte("x\n"))
			harness.Key(t, dir, "bob")
			args := []string{"run", "--step", "s", "--key", filepath.Join(dir, "bob"), "--base-path", work, "--links-dir", links,
				tc.flag, filepath.Join(work, "src")}
			if tc.lstrip != "" {
				args = append(args, "--lstrip-paths", tc.lstrip)
			}
			r := harness.Run(t, harness.Cmd{Args: append(args, "--", "true"), Dir: work})
			written := harness.Glob(t, filepath.Join(links, "s.*"))
			if tc.code == 0 {
				if r.Code != 0 || len(written) != 1 {
					t.Fatalf("control: got %s, links %v", r, written)
				}
				return
			}
			if r.Code != tc.code || !strings.Contains(r.Err, strconv.Quote(tc.file)) || !strings.Contains(r.Err, "artifact name") {
				t.Fatalf("got %s, want exit %d naming %q", r, tc.code, tc.file)
			}
			if len(written) != 0 {
				t.Fatalf("refused, but wrote %v", written)
			}
		})
	}
}

// A VSA's subjects are what its writer names: bob's build link, re-signed with an extra product that
// the loose rule "ALLOW src/*" lets through ("src/evil", the digest of a backdoor), verifies; the
// default VSA covers only what the last step made (app.tar), not src/evil. And verify-vsa matches a
// subject by name and digest: a VSA that does cover src/evil (named with --vsa-subject) does not cover
// a backdoored app.tar with the same content. The control: the honest app.tar is covered.
func TestVSASubjectsAreNamed(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	l := c.baseLayout()
	l.Steps[1].ExpectedProducts = []intoto.Rule{{"CREATE", "out.txt"}, {"ALLOW", "src/*"}, {"ALLOW", "src.txt"}, {"DISALLOW", "*"}}
	c.writeLayout(t, l)
	c.honest(t)
	backdoor := "BACKDOOR\n"
	c.resign(t, c.linkPath(t, "build", "bob"), "bob", c.linkPath(t, "build", "bob"), func(l *intoto.Link) {
		l.Products = withArtifact(l.Products, "src/evil", digest(backdoor))
	})
	subjects := func(vsa string) []string {
		var stmt struct {
			Subject []struct {
				Name   string         `json:"name"`
				Digest intoto.Digests `json:"digest"`
			} `json:"subject"`
		}
		mustUnmarshal(t, harness.Payload(t, vsa), &stmt)
		var names []string
		for _, s := range stmt.Subject {
			names = append(names, s.Name)
		}
		return names
	}
	vsaArgs := func(vsa string, extra ...string) []string {
		return append([]string{"--vsa", vsa, "--key", c.keyPath("alice"), "--vsa-resource-uri", "pkg:generic/app"}, extra...)
	}

	def := filepath.Join(c.dir, "default.vsa.json")
	c.mustVerify(t, vsaArgs(def)...)
	if got := subjects(def); strings.Join(got, ",") != "app.tar" {
		t.Errorf("default VSA subjects %q, want app.tar only", got)
	}
	named := filepath.Join(c.dir, "named.vsa.json")
	c.mustVerify(t, vsaArgs(named, "--vsa-subject", "src/*", "--vsa-subject", "app.tar")...)
	if got := subjects(named); strings.Join(got, ",") != "app.tar,src/evil" {
		t.Errorf("named VSA subjects %q, want app.tar,src/evil", got)
	}
	if r := harness.IC(t, append([]string{"verify", "--layout", c.layout, "--layout-key", c.keyPath("alice.pub"),
		"--links-dir", c.links, "--work-dir", c.work}, vsaArgs(filepath.Join(c.dir, "none.json"), "--vsa-subject", "dist/*")...)...); r.Code != 2 ||
		!strings.Contains(r.Err, `"dist/*" matches no final product`) {
		t.Errorf("--vsa-subject matching nothing: got %s, want exit 2 naming the pattern", r)
	}

	verifyVSA := func(vsa, file string) harness.Result {
		return harness.IC(t, "verify-vsa", "--vsa", vsa, "--key", c.keyPath("alice.pub"), "--base-path", c.work, "--subject", file)
	}
	app := filepath.Join(c.work, "app.tar")
	for _, vsa := range []string{def, named} {
		if r := verifyVSA(vsa, app); r.Code != 0 { // the control
			t.Fatalf("verify-vsa of the honest app.tar: %s", r)
		}
	}
	harness.WriteFile(t, filepath.Join(c.work, "src", "evil"), []byte(backdoor))
	if r := verifyVSA(def, filepath.Join(c.work, "src", "evil")); r.Code != 1 || !strings.Contains(r.Err, "not a subject") {
		t.Errorf("default VSA over src/evil: got %s, want exit 1", r)
	}
	harness.WriteFile(t, app, []byte(backdoor))
	if r := verifyVSA(named, app); r.Code != 1 || !strings.Contains(r.Err, `subject "app.tar" has sha256:`) {
		t.Errorf("backdoored app.tar against a VSA covering src/evil: got %s, want exit 1 (name and digest)", r)
	}
}

// Inspections run with an empty environment: none of the hidden variables in verify's environment
// reaches them (the inspection dumps its environment outside the work dir; the control is that it ran).
func TestInspectionSeesNoHiddenVariable(t *testing.T) {
	t.Parallel()
	c := newChain(t)
	dump := filepath.Join(c.dir, "inspection.env")
	l := c.baseLayout()
	l.Inspections = []*intoto.Inspection{{Type: intoto.TypeInspection, Name: "check", Run: []string{"sh", "-c", "env > " + dump + "; echo ran >> " + dump},
		ExpectedMaterials: []intoto.Rule{}, ExpectedProducts: []intoto.Rule{}}}
	c.writeLayout(t, l)
	c.honest(t)
	env := map[string]string{}
	for _, name := range ci.HiddenEnv() {
		env[name] = "s3cret-value-of-" + name
	}
	r := harness.Run(t, harness.Cmd{Env: env, Args: []string{"verify", "--layout", c.layout, "--layout-key", c.keyPath("alice.pub"),
		"--links-dir", c.links, "--work-dir", c.work}})
	if r.Code != 0 {
		t.Fatalf("verify: %s", r)
	}
	got := string(harness.ReadFile(t, dump))
	if !strings.Contains(got, "ran") {
		t.Fatalf("the inspection did not run: %q", got)
	}
	for name, value := range env {
		if strings.Contains(got, name+"=") || strings.Contains(got, value) {
			t.Errorf("%s reaches the inspection", name)
		}
	}
}

// Scrubbing the wrapped command's environment is not enough if the command can read its parent's:
// /proc/PPID/environ keeps the environment intoto-ci started with. intoto-ci makes itself
// non-dumpable, so a command of the same (non-root) user cannot. Run as nobody, since root reads every
// process's /proc files; the control is the same read of a dumpable parent (a shell), which works.
func TestWrappedCommandCannotReadParentEnviron(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the step as nobody")
	}
	if _, err := exec.LookPath("setpriv"); err != nil {
		harness.Need(t, false, "setpriv (util-linux) runs the step as nobody")
	}
	enc, err := filepath.Abs("../../testdata/interop/in-toto-python/pems/ed25519_private_encrypted.pem")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	// Everything nobody needs: the binary, the key, a links directory it may write.
	bin := filepath.Join(dir, "intoto-ci")
	harness.WriteFile(t, bin, harness.ReadFile(t, harness.Binary(t)))
	key := filepath.Join(dir, "key.pem")
	harness.WriteFile(t, key, harness.ReadFile(t, enc))
	links := filepath.Join(dir, "links")
	for _, p := range []string{filepath.Dir(dir), dir, bin, key} {
		if err := os.Chmod(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(links, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(links, 0o777); err != nil {
		t.Fatal(err)
	}
	asNobody := []string{"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"}
	const password = "hunter2"
	read := `tr '\0' '\n' < /proc/$PPID/environ`
	for _, tc := range []struct {
		name   string
		argv   []string
		leaked bool
	}{
		{name: "intoto-ci's environ", argv: []string{bin, "run", "--step", "s", "--key", key, "--links-dir", links, "--base-path", dir,
			"--", "sh", "-c", read + "; true"}},
		{name: "control: a shell's environ", argv: []string{"sh", "-c", `sh -c 'tr "\0" "\n" < /proc/$PPID/environ'`}, leaked: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(asNobody[0], append(asNobody[1:], tc.argv...)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), ci.KeyPasswordEnv + "=" + password, "HOME=" + dir}
			cmd.Dir = dir
			out, err := cmd.CombinedOutput()
			if err != nil && !tc.leaked {
				// run exits with the command's code; the command itself ends with true.
				t.Fatalf("%v: %v\n%s", tc.argv, err, out)
			}
			if got := strings.Contains(string(out), password); got != tc.leaked {
				t.Errorf("password read from the parent's /proc environ: %v, want %v\n%s", got, tc.leaked, out)
			}
		})
	}
}
