package report

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestProgressModes(t *testing.T) {
	t.Parallel()
	run := func(mode ProgressMode) string {
		var b bytes.Buffer
		c := &fakeClock{t: time.Unix(0, 0)}
		p := NewProgress(&b, ProgressOptions{Mode: mode, Now: c.now})
		hash := p.Hashing("hashing")
		for i := 0; i < 100; i++ { // 100 updates over 50 s
			if hash != nil {
				hash(i, int64(i)<<20)
			}
			c.t = c.t.Add(500 * time.Millisecond)
		}
		p.Update("reading links", 1, 2, 0, 0)
		p.Done()
		return b.String()
	}
	if got := run(ProgressOff); got != "" {
		t.Errorf("quiet: got %q, want nothing", got)
	}
	lines := run(ProgressLines)
	if n := strings.Count(lines, "\n"); n < 3 || n > 6 {
		t.Errorf("CI lines: got %d lines over 50 s, want one every 10 s:\n%s", n, lines)
	}
	if strings.Contains(lines, "\r") || strings.Contains(lines, "reading links") {
		t.Errorf("CI lines: carriage returns or a quick stage shown:\n%q", lines)
	}
	bar := run(ProgressBar)
	if !strings.Contains(bar, "\r\x1b[K") || !strings.HasSuffix(bar, "\r\x1b[K") {
		t.Errorf("terminal: want redraws in place and a cleared line at the end, got %q", bar)
	}
	if !strings.Contains(bar, "MiB") {
		t.Errorf("terminal: want sizes, got %q", bar)
	}
}

func TestProgressBarTotal(t *testing.T) {
	t.Parallel()
	if got := describe("reading links", 12, 24, 0, 0); got != "reading links [############............] 12/24" {
		t.Errorf("got %q", got)
	}
}
