package keyless

import (
	"context"
	"io"
	"strings"
	"testing"
)

// TestRunCommandWithoutHelper: with no intoto-ci-sigstore beside the executable (the test binary has
// none) nothing runs and the error says what to install. cli's TestRegistryCommandsRunInHelper runs
// the built intoto-ci through its helper.
func TestRunCommandWithoutHelper(t *testing.T) {
	t.Parallel()
	code, err := RunCommand(context.Background(), []string{"version"}, nil, io.Discard, io.Discard, nil)
	if err == nil || code != 0 || !strings.Contains(err.Error(), "need "+HelperName+" beside") {
		t.Errorf("code %d, err %v", code, err)
	}
}
