package ci

import (
	"fmt"
	"io"

	"github.com/intoto-ci/intoto-ci/internal/ci/github"
)

// New builds the platform of the given kind from getenv; messages go to w.
func New(kind Kind, getenv func(string) string, w io.Writer) Platform {
	if w == nil {
		w = io.Discard
	}
	switch kind {
	case GitHub:
		return &githubPlatform{a: github.New(getenv, w)}
	case GitLab:
		return &plain{kind: kind, w: w, info: gitlabRunInfo(getenv)}
	case Tekton:
		return &plain{kind: kind, w: w, info: RunInfo{Platform: Tekton}}
	default:
		return &plain{kind: Local, w: w, info: RunInfo{Platform: Local}}
	}
}

// githubPlatform adapts the github package to Platform.
type githubPlatform struct {
	a *github.Action
}

func (g *githubPlatform) Kind() Kind { return GitHub }

func (g *githubPlatform) RunInfo() RunInfo {
	c := g.a.Context()
	return RunInfo{
		Platform:   GitHub,
		Repository: c.Repository,
		Commit:     c.SHA,
		Ref:        c.Ref,
		Workflow:   c.Workflow,
		RunID:      c.RunID,
		Attempt:    c.RunAttempt,
		Job:        c.Job,
		ServerURL:  c.ServerURL,
	}
}

func (g *githubPlatform) SetOutput(name, value string) error { return g.a.SetOutput(name, value) }
func (g *githubPlatform) Summary(markdown string) error      { return g.a.Summary(markdown) }
func (g *githubPlatform) Error(msg string)                   { g.a.Error(msg) }
func (g *githubPlatform) Warning(msg string)                 { g.a.Warning(msg) }
func (g *githubPlatform) Mask(secret string)                 { g.a.Mask(secret) }

// plain serves platforms without workflow commands: annotations are plain lines, outputs and summaries are
// dropped (the CLI prints its report anyway).
type plain struct {
	kind Kind
	w    io.Writer
	info RunInfo
}

func (p *plain) Kind() Kind                  { return p.kind }
func (p *plain) RunInfo() RunInfo            { return p.info }
func (p *plain) SetOutput(_, _ string) error { return nil }
func (p *plain) Summary(string) error        { return nil }
func (p *plain) Error(msg string)            { fmt.Fprintf(p.w, "error: %s\n", oneLine(msg)) }
func (p *plain) Warning(msg string)          { fmt.Fprintf(p.w, "warning: %s\n", oneLine(msg)) }
func (p *plain) Mask(string)                 {}

func gitlabRunInfo(getenv func(string) string) RunInfo {
	return RunInfo{
		Platform:   GitLab,
		Repository: getenv("CI_PROJECT_PATH"),
		Commit:     getenv("CI_COMMIT_SHA"),
		Ref:        getenv("CI_COMMIT_REF_NAME"),
		RunID:      getenv("CI_PIPELINE_ID"),
		Job:        getenv("CI_JOB_NAME"),
		JobID:      getenv("CI_JOB_ID"),
		ServerURL:  getenv("CI_SERVER_URL"),
	}
}
