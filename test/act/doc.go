// Package act holds the end-to-end tests of the GitHub front-end: action.yml and the example release
// workflow (examples/github) run under act in host mode (no Docker), with act's artifact server on
// loopback, stand-in upload/download actions written with @actions/artifact (test/actions), and, for the
// keyless runs, the loopback Sigstore stack of internal/testutil/sigstack. It also lints action.yml and the
// example workflows. Tests skip when a tool is missing, and fail instead under CI=true.
package act
