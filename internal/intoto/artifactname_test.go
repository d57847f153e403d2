package intoto

import (
	"errors"
	"path"
	"strconv"
	"strings"
	"testing"
)

func TestCheckArtifactName(t *testing.T) {
	t.Parallel()
	good := []string{"a", "a/b", "src/main.go", ".hidden", "a/.b", "..a", "a..", "a/..b/c", "日本/ä", "a b", "*", "a:b"}
	bad := []string{"", ".", "..", "/a", "a/", "./a", "a/./b", "a//b", "src/../dist/app", "../x", "a/..",
		"a\x00b", "a\r", "a\nb", `a\b`, `..\x`, "//", "/"}
	for _, n := range good {
		if err := CheckArtifactName(n); err != nil {
			t.Errorf("CheckArtifactName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range bad {
		err := CheckArtifactName(n)
		if !errors.Is(err, ErrArtifactName) {
			t.Errorf("CheckArtifactName(%q) = %v, want ErrArtifactName", n, err)
		} else if !strings.Contains(err.Error(), strings.Trim(quote(n), `"`)) {
			t.Errorf("error %q does not name %q", err, n)
		}
	}
}

func quote(s string) string { return strconv.Quote(s) }

// FuzzCheckArtifactName holds the check equal to its definition: what path.Clean leaves unchanged,
// not absolute, no ".." segment, no NUL/CR/LF/backslash, not empty or ".".
func FuzzCheckArtifactName(f *testing.F) {
	for _, s := range []string{"a", "a/b", "../a", "a//b", "./a", "/a", "a\\b", ".", "", "a/.", "a\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		want := name != "" && name != "." && path.Clean(name) == name && !path.IsAbs(name) &&
			!strings.ContainsAny(name, "\x00\r\n\\") && name != ".." && !strings.HasPrefix(name, "../")
		if got := CheckArtifactName(name) == nil; got != want {
			t.Errorf("CheckArtifactName(%q) accepts: %v, want %v", name, got, want)
		}
	})
}
