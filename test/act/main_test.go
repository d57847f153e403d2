package act

import (
	"os"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/testutil/buildtest"
)

// TestMain removes the intoto-ci binary the tests share.
func TestMain(m *testing.M) { os.Exit(buildtest.Main(m)) }
