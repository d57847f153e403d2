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

func TestCheckStepName(t *testing.T) {
	t.Parallel()
	for _, n := range []string{"build", "build-1", "v1.2", ".hidden", "日本"} {
		if err := CheckStepName(n); err != nil {
			t.Errorf("CheckStepName(%q) = %v, want nil", n, err)
		}
	}
	for _, n := range []string{"", ".", "..", "../x", "a/b", `a\b`, "a\nb", "a\rb", "a\x00", "/a"} {
		if err := CheckStepName(n); err == nil {
			t.Errorf("CheckStepName(%q) = nil, want an error", n)
		}
		l := &Layout{Type: TypeLayout, Expires: "2030-01-01T00:00:00Z", Keys: map[string]*Key{},
			Steps: []*Step{{Type: TypeStep, Name: n, Threshold: 1}}}
		if err := l.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("a layout with step %q: Validate() = %v, want ErrInvalid", n, err)
		}
	}
}

// BenchmarkCheckArtifactName: the check runs once per recorded and per verified artifact.
func BenchmarkCheckArtifactName(b *testing.B) {
	names := []string{"src/internal/verify/links.go", "dist/app-linux-amd64.tar.gz", "a", "node_modules/@scope/pkg/lib/index.d.ts"}
	for i := 0; b.Loop(); i++ {
		if err := CheckArtifactName(names[i%len(names)]); err != nil {
			b.Fatal(err)
		}
	}
}
