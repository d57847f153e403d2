// Package cli is the command table of intoto-ci: one flag.FlagSet per subcommand, usage text, and the
// translation of options into calls of the engine and keyless packages. It is the only package that turns
// errors into exit codes.
package cli
