//go:build linux

package runner

import "golang.org/x/sys/unix"

// ProtectSelf makes this process non-dumpable. Scrubbing the wrapped command's environment (see
// internal/ci.HiddenEnv) does not stop the command from reading its parent's: /proc/PID/environ keeps
// the environment intoto-ci started with (the key password and token variables among it), and
// /proc/PID/mem the decrypted key, for any process of the same user. A non-dumpable process's /proc
// files belong to root and it cannot be attached to, so the command (its dumpable flag is reset when it
// execs) cannot read either. A command that runs as root, or may sudo, is not stopped by this.
func ProtectSelf() error { return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) }
