// Package ci knows which CI platform a process runs on and talks to it: run identifiers for naming
// artifacts, step outputs, job summaries, annotations and secret masking. It knows nothing of in-toto.
//
// The platform is chosen explicitly by Detect from the environment the caller passes in (this package and
// internal/identity are the only places that read environment variables):
//
//	INTOTO_CI_PLATFORM=github|gitlab|tekton|local  chosen as written (Tekton sets no marker of its own)
//	GITHUB_ACTIONS=true                            GitHub Actions
//	GITLAB_CI=true                                 GitLab CI
//	otherwise                                      local
//
// What the CLI does with it (internal/cli): run, record and sign build a Platform with Detect(getenv,
// stdout), then use
//
//   - Mask(token) for any OIDC token obtained, before anything could print it;
//   - HiddenEnv() (from Variables, the one list of variables intoto-ci reads) for the variables to
//     remove from a wrapped command's environment;
//   - RunInfo() to bind kept unsigned and unfinished links to the job that recorded them (RunInfo.Key).
//
// Error, Warning, SetOutput and Summary are not called by the CLI today: on GitHub the action.yml writes
// the ::error annotation and the outputs link-path, bundle-path, artifact-name and result itself, and
// passes --report-file "$GITHUB_STEP_SUMMARY" for the summary.
package ci
