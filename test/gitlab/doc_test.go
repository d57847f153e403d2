// Package gitlab tests the GitLab CI templates under gitlab/ with gitlab-ci-local 4.73.0: the example
// pipeline under examples/gitlab/ (build → package → verify) run with --shell-isolation, keyless against
// the loopback Sigstore stack; include-time rejection of bad inputs; a --preview golden file.
//
// Tools come from .ci/setup: gitlab-ci-local in $INTOTO_CI_TOOLS (default ~/.cache/intoto-ci-tools),
// rsync and git on PATH. Missing tools skip the tests, or fail them when CI=true.
package gitlab
