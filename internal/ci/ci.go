package ci

import (
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Kind names a CI platform.
type Kind string

// The platforms Detect knows.
const (
	Local  Kind = "local"
	GitHub Kind = "github"
	GitLab Kind = "gitlab"
	Tekton Kind = "tekton"
)

// PlatformEnv is the variable that selects a platform explicitly.
const PlatformEnv = "INTOTO_CI_PLATFORM"

// Platform is the small surface the CLI needs from the CI system it runs on.
type Platform interface {
	// Kind tells which platform this is.
	Kind() Kind
	// RunInfo identifies the current run and job.
	RunInfo() RunInfo
	// SetOutput makes name=value available to later steps (no-op where the platform has no outputs).
	SetOutput(name, value string) error
	// Summary appends markdown to the job summary (no-op where the platform has none).
	Summary(markdown string) error
	// Error annotates the job with a one-line error.
	Error(msg string)
	// Warning annotates the job with a one-line warning.
	Warning(msg string)
	// Mask hides secret from the rest of the job's log.
	Mask(secret string)
}

// RunInfo identifies a CI run and job. Empty fields are unknown.
type RunInfo struct {
	Platform   Kind
	Repository string // owner/name or group/project
	Commit     string
	Ref        string
	Workflow   string
	RunID      string // one per pipeline/workflow run; shared by all attempts on GitHub
	Attempt    string
	Job        string // job id (GitHub) or job name
	JobID      string // per-job numeric id where the platform has one (GitLab)
	ServerURL  string
}

// Key is a string unique to this job attempt within its repository, made of safe characters, for naming
// files and artifacts. It is "local" outside CI.
func (r RunInfo) Key() string {
	var parts []string
	for _, p := range []string{r.RunID, r.Attempt, r.Job, r.JobID} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		return "local"
	}
	return SafeName(strings.Join(parts, "-"))
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// SafeName replaces every run of characters outside [A-Za-z0-9._-] with one '-', so the result is usable
// in file and artifact names on every platform.
func SafeName(s string) string {
	return strings.Trim(unsafeName.ReplaceAllString(s, "-"), "-")
}

// Detect picks the platform from getenv, explicitly: see the package comment. Workflow commands and
// local annotations go to w.
func Detect(getenv func(string) string, w io.Writer) (Platform, error) {
	kind, err := DetectKind(getenv)
	if err != nil {
		return nil, err
	}
	return New(kind, getenv, w), nil
}

// DetectKind returns the platform kind named by the environment.
func DetectKind(getenv func(string) string) (Kind, error) {
	if v := getenv(PlatformEnv); v != "" {
		switch k := Kind(strings.ToLower(v)); k {
		case Local, GitHub, GitLab, Tekton:
			return k, nil
		default:
			return "", fmt.Errorf("%s=%q: want github, gitlab, tekton or local", PlatformEnv, v)
		}
	}
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		return GitHub, nil
	case getenv("GITLAB_CI") == "true":
		return GitLab, nil
	}
	return Local, nil
}

// KeyPasswordEnv holds the password of an encrypted private key, so it need not appear on a command line.
const KeyPasswordEnv = "INTOTO_CI_KEY_PASSWORD"

// KeyPassword returns the key password from the environment ("" when unset).
func KeyPassword(getenv func(string) string) string { return getenv(KeyPasswordEnv) }
