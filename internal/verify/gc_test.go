package verify

import (
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"testing"
)

// TestTuneGC (moved from cli): the collector paces from the live heap (GOGC GCPercent) under a limit sized
// from the links, with no floor, unless the user set GOGC or GOMEMLIMIT. It changes the test process's GC for a moment, so it does not run in parallel.
func TestTuneGC(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, 100<<20) // 100 MiB of links: limit 64 MiB + 4 × 100 MiB
	if err := os.WriteFile(filepath.Join(dir, "a.link"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	restore := func() (int, int64) {
		return debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
	}
	restore()
	defer restore()

	TuneGC(func(string) string { return "" }, dir)
	if pct, limit := restore(); pct != GCPercent || limit != 64<<20+400<<20 {
		t.Errorf("after tuning: GC percent %d, limit %d; want %d and %d", pct, limit, GCPercent, 64<<20+400<<20)
	}

	TuneGC(func(string) string { return "" }, t.TempDir())
	if pct, limit := restore(); pct != GCPercent || limit != 64<<20 {
		t.Errorf("no links: GC percent %d, limit %d; want %d and 64 MiB", pct, limit, GCPercent)
	}

	for _, v := range []string{"GOGC", "GOMEMLIMIT"} {
		TuneGC(func(k string) string {
			if k == v {
				return "200"
			}
			return ""
		}, dir)
		if pct, limit := restore(); pct != 100 || limit != math.MaxInt64 {
			t.Errorf("with %s set: GC percent %d, limit %d; want the user's settings left alone", v, pct, limit)
		}
	}
}
