// Package backoff is the retry policy shared by everything that talks to a service: the OIDC token
// request and the signing services. It holds numbers only; each caller does its own requests.
package backoff

import "time"

// Policy bounds a request: Attempts tries in all, each limited to Timeout, separated by a wait that
// starts at Backoff and doubles up to MaxBackoff.
type Policy struct {
	Attempts   int
	Timeout    time.Duration
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// Or returns p with every field left zero (or negative) taken from def.
func (p Policy) Or(def Policy) Policy {
	if p.Attempts <= 0 {
		p.Attempts = def.Attempts
	}
	if p.Timeout <= 0 {
		p.Timeout = def.Timeout
	}
	if p.Backoff <= 0 {
		p.Backoff = def.Backoff
	}
	if p.MaxBackoff <= 0 {
		p.MaxBackoff = def.MaxBackoff
	}
	return p
}

// Delay is the wait after failed attempt n (0-based).
func (p Policy) Delay(n int) time.Duration {
	d := p.Backoff
	for i := 0; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, p.MaxBackoff)
}

// Budget is the longest all attempts may take, waits included, plus a second of slack.
func (p Policy) Budget() time.Duration {
	total := time.Duration(p.Attempts) * p.Timeout
	for n := 0; n < p.Attempts-1; n++ {
		total += p.Delay(n)
	}
	return total + time.Second
}
