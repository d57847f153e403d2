package github

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func testAction(t testing.TB, env map[string]string) (*Action, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	a := New(func(k string) string { return env[k] }, &buf)
	return a, &buf
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSetOutputRandomDelimiter(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "output")
	a, _ := testAction(t, map[string]string{"GITHUB_OUTPUT": out})
	if err := a.SetOutput("link-path", "links/build.abcd1234.link\nsecond line"); err != nil {
		t.Fatal(err)
	}
	if err := a.SetOutput("result", "verified"); err != nil {
		t.Fatal(err)
	}
	got := readFile(t, out)
	lines := strings.Split(got, "\n")
	if !strings.HasPrefix(lines[0], "link-path<<ghadelimiter_") {
		t.Fatalf("got first line %q, want link-path<<ghadelimiter_…", lines[0])
	}
	d1 := strings.TrimPrefix(lines[0], "link-path<<")
	d2 := strings.TrimPrefix(lines[4], "result<<")
	if d1 == d2 {
		t.Errorf("got the same delimiter twice (%q), want a fresh one per write", d1)
	}
	want := "link-path<<" + d1 + "\nlinks/build.abcd1234.link\nsecond line\n" + d1 + "\nresult<<" + d2 + "\nverified\n" + d2 + "\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("GITHUB_OUTPUT (-want +got):\n%s", diff)
	}
}

func TestSetOutputRefusesInjection(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := filepath.Join(dir, "output")
	env := filepath.Join(dir, "env")
	a, _ := testAction(t, map[string]string{"GITHUB_OUTPUT": out, "GITHUB_ENV": env})
	a.delimiter = func() (string, error) { return "ghadelimiter_fixed", nil }
	for name, tc := range map[string]struct{ name, value string }{
		"value holds delimiter":    {"x", "a\nghadelimiter_fixed\nPATH<<ghadelimiter_fixed\n/evil"},
		"name with newline":        {"x\ny", "v"},
		"name with heredoc marker": {"x<<EOF", "v"},
		"name with equals":         {"x=y", "v"},
		"empty name":               {"", "v"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := a.SetOutput(tc.name, tc.value); !errors.Is(err, ErrUnsafe) {
				t.Errorf("SetOutput: got %v, want ErrUnsafe", err)
			}
			if err := a.SetEnv(tc.name, tc.value); !errors.Is(err, ErrUnsafe) {
				t.Errorf("SetEnv: got %v, want ErrUnsafe", err)
			}
		})
	}
	for _, p := range []string{out, env} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: got %v, want nothing written", p, err)
		}
	}
}

func TestSetOutputNoFile(t *testing.T) {
	t.Parallel()
	a, _ := testAction(t, nil)
	if err := a.SetOutput("x", "y"); err == nil {
		t.Error("got nil, want an error when GITHUB_OUTPUT is unset")
	}
	if err := a.Summary("x"); err == nil {
		t.Error("got nil, want an error when GITHUB_STEP_SUMMARY is unset")
	}
}

func TestSummaryAppends(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "summary")
	a, _ := testAction(t, map[string]string{"GITHUB_STEP_SUMMARY": p})
	for _, s := range []string{"# one", "two\n"} {
		if err := a.Summary(s); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := readFile(t, p), "# one\ntwo\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestWorkflowCommands(t *testing.T) {
	t.Parallel()
	a, buf := testAction(t, nil)
	a.Error("step build: no link\nfound 100%")
	a.Warning("careful")
	a.Mask("tok1\n tok2 \n")
	want := "::error::step build: no link%0Afound 100%25\n::warning::careful\n::add-mask::tok1\n::add-mask::tok2\n"
	if diff := cmp.Diff(want, buf.String()); diff != "" {
		t.Errorf("workflow commands (-want +got):\n%s", diff)
	}
}

func TestContextAndInput(t *testing.T) {
	t.Parallel()
	a, _ := testAction(t, map[string]string{
		"GITHUB_REPOSITORY": "acme/app", "GITHUB_RUN_ID": "42", "GITHUB_RUN_ATTEMPT": "2", "GITHUB_JOB": "build",
		"GITHUB_SHA": "abc", "INPUT_LINKS-DIR": " links ",
	})
	c := a.Context()
	want := Context{Repository: "acme/app", RunID: "42", RunAttempt: "2", Job: "build", SHA: "abc", ServerURL: "https://github.com"}
	if diff := cmp.Diff(want, c); diff != "" {
		t.Errorf("Context (-want +got):\n%s", diff)
	}
	if got := a.Input("links-dir"); got != "links" {
		t.Errorf("Input: got %q, want %q", got, "links")
	}
}
