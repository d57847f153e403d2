package keyless

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
)

// RunCommand runs an intoto-ci command line (args, without the program name) in the helper
// intoto-ci-sigstore beside this executable, which links what intoto-ci leaves out (the registry
// client). It returns the helper's exit code; err only when the helper could not be found or run.
func RunCommand(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, environ []string) (code int, err error) {
	path, err := HelperPath()
	if err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, stderr
	cmd.Env = environ
	err = cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return 0, fmt.Errorf("run %s: %w", path, err)
	}
	return 0, nil
}
