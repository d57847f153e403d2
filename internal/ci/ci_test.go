package ci

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDetectKind(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		env     map[string]string
		want    Kind
		wantErr bool
	}{
		"nothing":          {env: nil, want: Local},
		"github":           {env: map[string]string{"GITHUB_ACTIONS": "true"}, want: GitHub},
		"gitlab":           {env: map[string]string{"GITLAB_CI": "true"}, want: GitLab},
		"explicit tekton":  {env: map[string]string{PlatformEnv: "tekton"}, want: Tekton},
		"explicit wins":    {env: map[string]string{PlatformEnv: "local", "GITHUB_ACTIONS": "true"}, want: Local},
		"explicit unknown": {env: map[string]string{PlatformEnv: "jenkins"}, wantErr: true},
		"github not true":  {env: map[string]string{"GITHUB_ACTIONS": "1"}, want: Local},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			got, err := DetectKind(envOf(tc.env))
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestGitHubPlatform(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	env := map[string]string{
		"GITHUB_ACTIONS": "true", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "1", "GITHUB_JOB": "build",
		"GITHUB_OUTPUT": filepath.Join(dir, "out"), "GITHUB_STEP_SUMMARY": filepath.Join(dir, "sum"),
	}
	var buf bytes.Buffer
	p, err := Detect(envOf(env), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind() != GitHub {
		t.Fatalf("got %q, want github", p.Kind())
	}
	if got, want := p.RunInfo().Key(), "42-1-build"; got != want {
		t.Errorf("Key: got %q, want %q", got, want)
	}
	if err := p.SetOutput("result", "verified"); err != nil {
		t.Fatal(err)
	}
	if err := p.Summary("## verified"); err != nil {
		t.Fatal(err)
	}
	p.Error("refused")
	p.Mask("s3cret")
	if got := buf.String(); got != "::error::refused\n::add-mask::s3cret\n" {
		t.Errorf("got %q", got)
	}
	b, err := os.ReadFile(env["GITHUB_OUTPUT"])
	if err != nil || !strings.Contains(string(b), "\nverified\n") {
		t.Errorf("GITHUB_OUTPUT: got %q, %v", b, err)
	}
}

func TestLocalPlatform(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p, err := Detect(envOf(nil), &buf)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SetOutput("a", "b"); err != nil {
		t.Error(err)
	}
	p.Error("two\nlines")
	if got, want := buf.String(), "error: two lines\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := p.RunInfo().Key(); got != "local" {
		t.Errorf("Key: got %q, want local", got)
	}
}

func TestSafeName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"build": "build", "a b/c": "a-b-c", "../x": "..-x", "{\"os\":\"linux\"}": "os-linux"} {
		if got := SafeName(in); got != want {
			t.Errorf("SafeName(%q): got %q, want %q", in, got, want)
		}
	}
}
