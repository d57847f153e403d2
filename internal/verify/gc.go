package verify

import (
	"os"
	"runtime/debug"
)

// GCPercent is the collector's GOGC during verify: the heap may grow to three times what the
// last collection found live before the next one.
const GCPercent = 200

// TuneGC sizes the collector for verify from what is live. Most of what verify allocates stays
// live until it exits (the links' artifact sets, about three times the link bytes), so collections find
// little to free: GOGC 200 (the heap grows to three times the live heap between collections) makes
// them rare on a growing heap while the peak follows the live heap, so a verification of many small
// links stays small. The memory limit (64 MiB plus four times the link bytes) caps the heap all the
// same, past it the runtime collects as often as it must. GOGC or GOMEMLIMIT set by the user win.
func TuneGC(getenv func(string) string, linksDir string) {
	if getenv("GOGC") != "" || getenv("GOMEMLIMIT") != "" {
		return
	}
	entries, err := os.ReadDir(linksDir)
	if err != nil {
		return // verify reports it
	}
	var total int64
	for _, d := range entries {
		if info, err := d.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
	}
	debug.SetGCPercent(GCPercent)
	debug.SetMemoryLimit(64<<20 + 4*total)
}
