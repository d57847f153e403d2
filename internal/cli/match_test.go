package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMatchProducts: match-products compares a link's products with the files as they are now: exit 0
// when they agree, 1 with one line per difference when they do not, 2 for an unreadable link or a bad
// --hash.
func TestMatchProducts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newKey(t, dir, "k")
	w := filepath.Join(dir, "w")
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(w, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(w, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a", "a")
	write("b", "b")
	r := invoke(t, nil, "run", "--step", "s", "--key", filepath.Join(dir, "k"), "--base-path", w, "--links-dir", filepath.Join(dir, "links"),
		"--products", w, "--no-command", "--quiet")
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.err)
	}
	link := strings.TrimSpace(r.out)
	match := func(extra ...string) result {
		return invoke(t, nil, append([]string{"match-products", "--link", link, "--base-path", w, "--paths", w, "--quiet"}, extra...)...)
	}
	if r := match(); r.code != 0 || r.out != "" {
		t.Fatalf("unchanged: exit %d, out %q, err %s", r.code, r.out, r.err)
	}
	write("b", "changed")
	write("new", "n")
	if err := os.Remove(filepath.Join(w, "a")); err != nil {
		t.Fatal(err)
	}
	r = match()
	if r.code != ExitRefused || r.out != "only-in-link a\nonly-local new\ndiffer b\n" ||
		!strings.Contains(r.err, "do not match: 1 only in link, 1 only local, 1 differ") {
		t.Errorf("changed: exit %d, out %q, err %s", r.code, r.out, r.err)
	}
	if r := match("--hash", "md5"); r.code != ExitUsage {
		t.Errorf("--hash md5: exit %d", r.code)
	}
	if r := invoke(t, nil, "match-products", "--link", filepath.Join(dir, "missing.link")); r.code != ExitUsage {
		t.Errorf("missing link: exit %d", r.code)
	}
}
