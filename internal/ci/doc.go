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
// Contract for the CLI (internal/cli): build a Platform once with Detect(getenv, stdout) and
//
//   - run/record: SetOutput("link-path", path) for every link written (the last one wins);
//   - verify: Summary(markdown report), Error(line) for each refusal reason, SetOutput("result",
//     "verified"|"refused"), SetOutput("report-path", path) when --report-file is given;
//   - Mask(token) for any OIDC token obtained, before anything could print it;
//   - SecretEnv() lists the variables to remove from a wrapped command's environment.
package ci
