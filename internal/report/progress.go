package report

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// ProgressMode is how progress is drawn.
type ProgressMode int

// Progress modes.
const (
	// ProgressOff draws nothing (--quiet).
	ProgressOff ProgressMode = iota
	// ProgressBar redraws one line in place (a terminal).
	ProgressBar
	// ProgressLines prints a line now and then (CI logs, where \r redraws are noise).
	ProgressLines
)

// ProgressModeFor picks the mode for w: a bar on a terminal, lines otherwise, nothing when quiet.
func ProgressModeFor(w io.Writer, quiet bool) ProgressMode {
	if quiet || w == nil {
		return ProgressOff
	}
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			return ProgressBar
		}
	}
	return ProgressLines
}

// ProgressOptions tune a Progress.
type ProgressOptions struct {
	Mode ProgressMode
	// Every is the least time between two lines (ProgressLines, default 10s) or two redraws
	// (ProgressBar, default 100ms).
	Every time.Duration
	// Delay is how long an operation must have run before any progress shows, so that quick ones
	// stay silent (default 2s for lines, 300ms for a bar).
	Delay time.Duration
	// Now is the clock (default time.Now); tests pin it.
	Now func() time.Time
}

// Progress draws the progress of one long operation after another on w (stderr). It is safe for
// concurrent use. A zero or nil *Progress draws nothing.
type Progress struct {
	w    io.Writer
	opts ProgressOptions

	mu      sync.Mutex
	stage   string
	last    time.Time
	drawn   bool // a bar line is on screen
	started time.Time
}

// NewProgress returns a Progress writing to w.
func NewProgress(w io.Writer, opts ProgressOptions) *Progress {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Every <= 0 {
		opts.Every = 10 * time.Second
		if opts.Mode == ProgressBar {
			opts.Every = 100 * time.Millisecond
		}
	}
	if opts.Delay <= 0 {
		opts.Delay = 2 * time.Second
		if opts.Mode == ProgressBar {
			opts.Delay = 300 * time.Millisecond
		}
	}
	return &Progress{w: w, opts: opts}
}

// Update reports that stage has done of total items (total 0: unknown) and hashed files and bytes.
func (p *Progress) Update(stage string, done, total, files int, bytes int64) {
	if p == nil || p.opts.Mode == ProgressOff {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.opts.Now()
	if stage != p.stage {
		p.stage, p.started, p.last = stage, now, time.Time{}
	}
	if now.Sub(p.started) < p.opts.Delay || now.Sub(p.last) < p.opts.Every {
		return
	}
	p.last = now
	line := describe(stage, done, total, files, bytes)
	switch p.opts.Mode {
	case ProgressBar:
		fmt.Fprintf(p.w, "\r\x1b[K%s", line)
		p.drawn = true
	case ProgressLines:
		fmt.Fprintf(p.w, "progress: %s (%s)\n", line, now.Sub(p.started).Round(time.Second))
	}
}

// Hashing returns a callback for artifact.Options.Progress that reports under stage.
func (p *Progress) Hashing(stage string) func(files int, bytes int64) {
	if p == nil || p.opts.Mode == ProgressOff {
		return nil
	}
	return func(files int, bytes int64) { p.Update(stage, 0, 0, files, bytes) }
}

// Done clears the bar (a terminal) so that the report starts on a clean line.
func (p *Progress) Done() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.drawn = false
	}
	p.stage = ""
}

const barWidth = 24

func describe(stage string, done, total, files int, bytes int64) string {
	var b strings.Builder
	b.WriteString(stage)
	if total > 0 {
		n := barWidth * done / total
		fmt.Fprintf(&b, " [%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(".", barWidth-n), done, total)
	}
	if files > 0 || bytes > 0 {
		fmt.Fprintf(&b, " %d files, %s", files, humanBytes(bytes))
	}
	return b.String()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
