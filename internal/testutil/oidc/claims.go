package oidc

import (
	"fmt"
	"strings"
)

// GitHubOptions shape a GitHub Actions token. Zero fields take the defaults shown.
type GitHubOptions struct {
	Repository        string // "octo-org/app"
	RepositoryID      string // "123456"
	OwnerID           string // "7890"
	Ref               string // "refs/heads/main"
	SHA               string // "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c"
	Workflow          string // "build"
	WorkflowPath      string // ".github/workflows/build.yml"
	JobWorkflowRef    string // Repository+"/"+WorkflowPath+"@"+Ref (a reusable workflow's ref if set)
	JobWorkflowSHA    string // SHA
	EventName         string // "push"
	RunID             string // "4242"
	RunAttempt        string // "1"
	RunnerEnvironment string // "github-hosted"
	Visibility        string // "public"
	Environment       string // "" (no deployment environment claim)
	Actor             string // "octocat"
}

// GitHubClaims returns the claims of a GitHub Actions OIDC token (as documented by GitHub and read by
// Fulcio's github-workflow templates) for Issuer.Mint or Issuer.TokenRequest.
func GitHubClaims(o GitHubOptions) map[string]any {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Repository, "octo-org/app")
	def(&o.RepositoryID, "123456")
	def(&o.OwnerID, "7890")
	def(&o.Ref, "refs/heads/main")
	def(&o.SHA, "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c")
	def(&o.Workflow, "build")
	def(&o.WorkflowPath, ".github/workflows/build.yml")
	def(&o.JobWorkflowRef, o.Repository+"/"+o.WorkflowPath+"@"+o.Ref)
	def(&o.JobWorkflowSHA, o.SHA)
	def(&o.EventName, "push")
	def(&o.RunID, "4242")
	def(&o.RunAttempt, "1")
	def(&o.RunnerEnvironment, "github-hosted")
	def(&o.Visibility, "public")
	def(&o.Actor, "octocat")
	owner, _, _ := strings.Cut(o.Repository, "/")
	refType := "branch"
	if strings.HasPrefix(o.Ref, "refs/tags/") {
		refType = "tag"
	}
	sub := "repo:" + o.Repository + ":ref:" + o.Ref
	c := map[string]any{
		"jti":                   "gh-" + o.RunID + "-" + o.RunAttempt,
		"sub":                   sub,
		"ref":                   o.Ref,
		"ref_type":              refType,
		"ref_protected":         "false",
		"sha":                   o.SHA,
		"repository":            o.Repository,
		"repository_id":         o.RepositoryID,
		"repository_owner":      owner,
		"repository_owner_id":   o.OwnerID,
		"repository_visibility": o.Visibility,
		"actor":                 o.Actor,
		"actor_id":              "1",
		"workflow":              o.Workflow,
		"workflow_ref":          o.Repository + "/" + o.WorkflowPath + "@" + o.Ref,
		"workflow_sha":          o.SHA,
		"job_workflow_ref":      o.JobWorkflowRef,
		"job_workflow_sha":      o.JobWorkflowSHA,
		"event_name":            o.EventName,
		"head_ref":              "",
		"base_ref":              "",
		"run_id":                o.RunID,
		"run_number":            o.RunID,
		"run_attempt":           o.RunAttempt,
		"runner_environment":    o.RunnerEnvironment,
	}
	if o.Environment != "" {
		c["environment"] = o.Environment
		c["sub"] = "repo:" + o.Repository + ":environment:" + o.Environment
	}
	return c
}

// GitLabOptions shape a GitLab CI token. Zero fields take the defaults shown.
type GitLabOptions struct {
	ProjectPath       string // "grp/app"
	ProjectID         string // "4711"
	NamespaceID       string // "42"
	Ref               string // "main" (a branch or tag name, not a refs/ path)
	RefType           string // "branch"
	SHA               string // "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c"
	CIConfigPath      string // ".gitlab-ci.yml"
	CIConfigRefURI    string // "gitlab.com/"+ProjectPath+"//"+CIConfigPath+"@refs/heads/"+Ref
	PipelineSource    string // "push"
	PipelineID        string // "1001"
	JobID             string // "2002"
	RunnerEnvironment string // "gitlab-hosted"
	Visibility        string // "public"
	Environment       string // ""
	UserLogin         string // "alice"
}

// GitLabClaims returns the claims of a GitLab CI id_token (as documented by GitLab and read by Fulcio's
// gitlab-pipeline templates) for Issuer.Mint.
func GitLabClaims(o GitLabOptions) map[string]any {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.ProjectPath, "grp/app")
	def(&o.ProjectID, "4711")
	def(&o.NamespaceID, "42")
	def(&o.Ref, "main")
	def(&o.RefType, "branch")
	def(&o.SHA, "8f5b0b7c5e1d7a9c3b2a1f0e9d8c7b6a5f4e3d2c")
	def(&o.CIConfigPath, ".gitlab-ci.yml")
	refPath := "refs/heads/" + o.Ref
	if o.RefType == "tag" {
		refPath = "refs/tags/" + o.Ref
	}
	def(&o.CIConfigRefURI, "gitlab.com/"+o.ProjectPath+"//"+o.CIConfigPath+"@"+refPath)
	def(&o.PipelineSource, "push")
	def(&o.PipelineID, "1001")
	def(&o.JobID, "2002")
	def(&o.RunnerEnvironment, "gitlab-hosted")
	def(&o.Visibility, "public")
	def(&o.UserLogin, "alice")
	namespace := o.ProjectPath
	if i := strings.LastIndex(namespace, "/"); i >= 0 {
		namespace = namespace[:i]
	}
	c := map[string]any{
		"jti":                fmt.Sprintf("gl-%s-%s", o.PipelineID, o.JobID),
		"sub":                "project_path:" + o.ProjectPath + ":ref_type:" + o.RefType + ":ref:" + o.Ref,
		"namespace_id":       o.NamespaceID,
		"namespace_path":     namespace,
		"project_id":         o.ProjectID,
		"project_path":       o.ProjectPath,
		"project_visibility": o.Visibility,
		"user_id":            "1",
		"user_login":         o.UserLogin,
		"user_email":         o.UserLogin + "@example.com",
		"user_access_level":  "developer",
		"pipeline_id":        o.PipelineID,
		"pipeline_source":    o.PipelineSource,
		"job_id":             o.JobID,
		"ref":                o.Ref,
		"ref_type":           o.RefType,
		"ref_path":           refPath,
		"ref_protected":      "true",
		"sha":                o.SHA,
		"runner_id":          "1",
		"runner_environment": o.RunnerEnvironment,
		"ci_config_ref_uri":  o.CIConfigRefURI,
		"ci_config_sha":      o.SHA,
	}
	if o.Environment != "" {
		c["environment"] = o.Environment
		c["environment_protected"] = "false"
		c["deployment_tier"] = "production"
	}
	return c
}
