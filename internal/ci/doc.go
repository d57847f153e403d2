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
// What the CLI does with it (internal/cli): build a Platform once with Detect(getenv, stdout), then
//
//   - Error(line) for each refusal reason of verify and for a run whose link could not be written (the
//     action.yml adds one summary ::error line of its own and writes the outputs link-path, bundle-path,
//     artifact-name and result itself; it passes --report-file "$GITHUB_STEP_SUMMARY" for the summary);
//   - Mask(token) for any OIDC token obtained, before anything could print it;
//   - SecretEnv() for the variables to remove from a wrapped command's environment;
//   - RunInfo() to name things per run and job (RunInfo.Key).
package ci
