package runner

import (
	"slices"
	"testing"
)

// TestScrubEnvAndByProducts: what run hands the wrapped command and records of it (moved from cli).
func TestScrubEnvAndByProducts(t *testing.T) {
	t.Parallel()
	env := []string{"A=1", "TOKEN=secret", "B=TOKEN=x", "KEY=k"}
	if got := ScrubEnv(env, []string{"TOKEN", "KEY"}); !slices.Equal(got, []string{"A=1", "B=TOKEN=x"}) {
		t.Errorf("scrubbed %q", got)
	}
	if got := ScrubEnv(env, nil); !slices.Equal(got, env) {
		t.Errorf("nothing to drop: %q", got)
	}
	r := &Result{ExitCode: 3, Stdout: []byte("out"), Stderr: []byte("err")}
	bp := r.ByProducts()
	if bp["return-value"] != 3 || bp["stdout"] != "out" || bp["stderr"] != "err" || len(bp) != 3 {
		t.Errorf("byproducts %v", bp)
	}
	r.StderrTruncated = true
	if r.ByProducts()["truncated"] != true {
		t.Error("a truncated stream is not marked")
	}
}
