package backoff

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPolicy(t *testing.T) {
	t.Parallel()
	def := Policy{Attempts: 4, Timeout: 20 * time.Second, Backoff: 500 * time.Millisecond, MaxBackoff: 2 * time.Second}
	p := Policy{Timeout: time.Second}.Or(def)
	if want := (Policy{Attempts: 4, Timeout: time.Second, Backoff: 500 * time.Millisecond, MaxBackoff: 2 * time.Second}); p != want {
		t.Fatalf("Or: got %+v, want %+v", p, want)
	}
	var delays []time.Duration
	for n := range 5 {
		delays = append(delays, p.Delay(n))
	}
	want := []time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second}
	if d := cmp.Diff(want, delays); d != "" {
		t.Errorf("Delay (-want +got):\n%s", d)
	}
	// 4 attempts of 1 s, waits of 0.5 + 1 + 2 s, and a second of slack.
	if got, want := p.Budget(), 4*time.Second+3500*time.Millisecond+time.Second; got != want {
		t.Errorf("Budget: got %v, want %v", got, want)
	}
}
