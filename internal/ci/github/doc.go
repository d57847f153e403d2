// Package github talks to GitHub Actions from inside a step: the run context, inputs, annotations,
// masking (through github.com/sethvargo/go-githubactions), and the GITHUB_OUTPUT, GITHUB_ENV and
// GITHUB_STEP_SUMMARY files, which it writes itself: go-githubactions uses a fixed heredoc delimiter, so a
// value containing it could inject further outputs or environment variables. Here every write uses a fresh
// random delimiter and a value that contains it is refused.
package github
