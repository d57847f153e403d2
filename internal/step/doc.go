// Package step records one supply-chain step: `run` (materials, the wrapped command, products, the
// signed link) and `record start`/`record stop` (the same, split around work that is not one command).
// It owns the exit-code rules of a step: the wrapped command's own code survives anything that fails
// after it, a successful command whose link is lost is exit 3, and a command that never started writes
// no link and gets the shell's code (126 or 127).
package step
