package cli

import "github.com/intoto-ci/intoto-ci/internal/linkfile"

// writeFileAtomic is linkfile.WriteFile: through a temporary file and a rename.
func writeFileAtomic(path string, data []byte) error { return linkfile.WriteFile(path, data) }
