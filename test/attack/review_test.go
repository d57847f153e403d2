package attack

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/ci"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
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
			l, err := intoto.DecodeLink(harness.Payload(t, links[0]))
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
