package cli

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set with -ldflags "-X github.com/intoto-ci/intoto-ci/internal/cli.version=v1.2.3".
var version = ""

// Version reports the build's version: the ldflags value, else the module version, else "devel".
func Version() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func versionCommand() *command {
	c := &command{name: "version", summary: "print the version", usage: ""}
	c.run = func(ctx context.Context, e *env, args []string) error {
		fs := newFlagSet(e, c)
		if err := parseFlags(fs, args); err != nil {
			return err
		}
		fmt.Fprintf(e.stdio.Out, "intoto-ci %s %s/%s %s\n", Version(), runtime.GOOS, runtime.GOARCH, runtime.Version())
		return nil
	}
	return c
}
