//go:build unix

package rules

import (
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuMetric reports process CPU time per op ("cpu-ms/op"): on a shared machine wall time
// measures the neighbours as much as the code.
func cpuMetric(b *testing.B) func() {
	b.Helper()
	runtime.GC() // do not bill this benchmark for the previous one's garbage
	start := cpuTime()
	return func() { b.ReportMetric(float64(cpuTime()-start)/float64(b.N)/1e6, "cpu-ms/op") }
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
