package github

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"

	"github.com/sethvargo/go-githubactions"
)

// ErrUnsafe is returned for an output or environment name or value that cannot be written safely.
var ErrUnsafe = errors.New("unsafe for a GitHub environment file")

// Action is the current step's view of GitHub Actions.
type Action struct {
	gha    *githubactions.Action
	getenv func(string) string
	// delimiter returns a fresh heredoc delimiter; tests replace it.
	delimiter func() (string, error)
}

// New returns an Action that reads the environment through getenv and writes workflow commands to w.
func New(getenv func(string) string, w io.Writer) *Action {
	return &Action{
		gha:       githubactions.New(githubactions.WithGetenv(githubactions.GetenvFunc(getenv)), githubactions.WithWriter(w)),
		getenv:    getenv,
		delimiter: randomDelimiter,
	}
}

// Context is the part of the GitHub run context intoto-ci uses. Numbers stay strings: they name things.
type Context struct {
	Repository string
	SHA        string
	Ref        string
	Workflow   string
	RunID      string
	RunAttempt string
	Job        string
	ServerURL  string
}

// Context reads the run context from the environment.
func (a *Action) Context() Context {
	c := Context{
		Repository: a.getenv("GITHUB_REPOSITORY"),
		SHA:        a.getenv("GITHUB_SHA"),
		Ref:        a.getenv("GITHUB_REF"),
		Workflow:   a.getenv("GITHUB_WORKFLOW"),
		RunID:      a.getenv("GITHUB_RUN_ID"),
		RunAttempt: a.getenv("GITHUB_RUN_ATTEMPT"),
		Job:        a.getenv("GITHUB_JOB"),
		ServerURL:  a.getenv("GITHUB_SERVER_URL"),
	}
	if c.ServerURL == "" {
		c.ServerURL = "https://github.com"
	}
	return c
}

// Input returns the action input name (INPUT_NAME), trimmed, as the runner passes it to JavaScript and
// Docker actions. Composite actions must pass inputs explicitly.
func (a *Action) Input(name string) string { return a.gha.GetInput(name) }

// Error writes an ::error annotation.
func (a *Action) Error(msg string) { a.gha.Errorf("%s", msg) }

// Warning writes a ::warning annotation.
func (a *Action) Warning(msg string) { a.gha.Warningf("%s", msg) }

// Mask hides secret from the rest of the job's log. Each line is masked on its own, as the runner matches
// masks line by line.
func (a *Action) Mask(secret string) {
	for _, line := range strings.Split(secret, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			a.gha.AddMask(line)
		}
	}
}

// SetOutput appends name=value to the GITHUB_OUTPUT file.
func (a *Action) SetOutput(name, value string) error {
	return a.appendKeyValue("GITHUB_OUTPUT", name, value)
}

// SetEnv appends name=value to the GITHUB_ENV file, for later steps of the job.
func (a *Action) SetEnv(name, value string) error {
	return a.appendKeyValue("GITHUB_ENV", name, value)
}

// Summary appends markdown to the step's GITHUB_STEP_SUMMARY file.
func (a *Action) Summary(markdown string) error {
	path := a.getenv("GITHUB_STEP_SUMMARY")
	if path == "" {
		return errors.New("write job summary: GITHUB_STEP_SUMMARY is not set")
	}
	if !strings.HasSuffix(markdown, "\n") {
		markdown += "\n"
	}
	if err := appendFile(path, markdown); err != nil {
		return fmt.Errorf("write job summary: %w", err)
	}
	return nil
}

var validName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_-]*$`)

func (a *Action) appendKeyValue(fileEnv, name, value string) error {
	path := a.getenv(fileEnv)
	if path == "" {
		return fmt.Errorf("set %s: %s is not set", name, fileEnv)
	}
	rec, err := a.record(name, value)
	if err != nil {
		return fmt.Errorf("set %s in %s: %w", strconv.Quote(name), fileEnv, err)
	}
	if err := appendFile(path, rec); err != nil {
		return fmt.Errorf("set %s in %s: %w", name, fileEnv, err)
	}
	return nil
}

// record formats one heredoc record, refusing anything that could end it early or start another.
func (a *Action) record(name, value string) (string, error) {
	if !validName.MatchString(name) {
		return "", fmt.Errorf("%w: name %q", ErrUnsafe, name)
	}
	delim, err := a.delimiter()
	if err != nil {
		return "", err
	}
	if strings.Contains(name, delim) || strings.Contains(value, delim) {
		return "", fmt.Errorf("%w: value contains the delimiter", ErrUnsafe)
	}
	return name + "<<" + delim + "\n" + value + "\n" + delim + "\n", nil
}

func randomDelimiter() (string, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random delimiter: %w", err)
	}
	return "ghadelimiter_" + hex.EncodeToString(b), nil
}

func appendFile(path, s string) (err error) {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	_, err = io.WriteString(f, s)
	return err
}
