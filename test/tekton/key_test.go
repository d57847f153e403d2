package tekton

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunTaskKeyFromSecretWorkspace: the run Task signs with signing=key from its optional signing-key
// workspace (a Secret in a cluster, a directory here), the real intoto-ci writes the link named by that
// key's keyid into source, and the key is never in source. Unbound, the same Task reads key from source
// (the old way, still allowed), and a missing key file fails the step.
func TestRunTaskKeyFromSecretWorkspace(t *testing.T) {
	t.Parallel()
	bin := binaryDir(t)
	r := loadResources(t)
	secret := t.TempDir()
	if out, err := exec.Command(filepath.Join(bin, "intoto-ci"), "key", "generate", "-o", filepath.Join(secret, "key")).CombinedOutput(); err != nil {
		t.Fatalf("key generate: %v\n%s", err, out)
	}
	keyid, err := exec.Command(filepath.Join(bin, "intoto-ci"), "key", "id", filepath.Join(secret, "key.pub")).Output()
	if err != nil {
		t.Fatal(err)
	}
	given := values{"step": "build", "image": "alpine", "command": []string{"sh", "-c", "echo hi > out.txt"},
		"products": []string{"out.txt"}, "signing": "key", "key": "key"}

	source := t.TempDir()
	h := host{imageBin: bin, volumes: map[string]string{"sigstore-oidc": t.TempDir()}, workspaces: map[string]string{"signing-key": secret}}
	res := runTask(t, r, h, "intoto-ci-run", given, source)
	if res.code != 0 {
		t.Fatalf("run Task with the signing-key workspace: exit %d\n%s", res.code, res.stderr)
	}
	link := filepath.Join(source, "links", "build."+strings.TrimSpace(string(keyid))[:8]+".link")
	if _, err := os.Stat(link); err != nil {
		t.Fatalf("no link signed by the Secret's key: %v", err)
	}
	if _, err := os.Stat(filepath.Join(source, "key")); !os.IsNotExist(err) {
		t.Errorf("the key landed in source: %v", err)
	}

	// Unbound: key is a path in source; there is none, so the step fails naming it.
	res = runTask(t, r, host{imageBin: bin, volumes: map[string]string{"sigstore-oidc": t.TempDir()}}, "intoto-ci-run", given, t.TempDir())
	if res.code != 2 || !strings.Contains(res.stderr, "key") {
		t.Errorf("unbound signing-key and no key in source: exit %d %q, want 2 naming the key", res.code, res.stderr)
	}
}
