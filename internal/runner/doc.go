// Package runner runs the command a step wraps: its standard output and error stream live to the console
// and into capped byproduct buffers at the same time, stdin is passed through, SIGINT and SIGTERM sent to
// this process are forwarded to the child, and the exit status is reported the way shells do.
package runner
