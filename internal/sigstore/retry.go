package sigstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
	"unicode"

	"github.com/intoto-ci/intoto-ci/internal/backoff"
)

// Retry bounds the requests to one service: Attempts tries in all, each limited to Timeout (headers
// and body), separated by a backoff starting at Backoff and doubling up to MaxBackoff. Network errors,
// HTTP 5xx and 429 are retried; other answers are final. Zero fields take retryDefaults.
type Retry = backoff.Policy

// retryDefaults fill the fields of an Options.Retry left zero.
func retryDefaults() backoff.Policy {
	return backoff.Policy{Attempts: 4, Timeout: 30 * time.Second, Backoff: time.Second, MaxBackoff: 8 * time.Second}
}

// maxBody bounds a request body kept in memory for replay.
const maxBody = 64 << 20

// retryTransport retries one service's requests. sigstore-go's Fulcio and TSA clients build their
// requests without the caller's context, so the transport is made per Sign call and holds that
// call's context (call) to abort attempts and backoffs when the caller gives up; it must not outlive
// the call.
type retryTransport struct {
	base    http.RoundTripper
	retry   Retry
	service string
	call    context.Context
	log     *slog.Logger
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(io.LimitReader(req.Body, maxBody+1))
		req.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("read request body: %w", err)
		}
		if len(b) > maxBody {
			return nil, errors.New("request body too large")
		}
		body = b
	}
	for n := 0; ; n++ {
		if n > 0 {
			d := t.retry.Delay(n - 1)
			timer := time.NewTimer(d)
			select {
			case <-t.call.Done():
				timer.Stop()
				return nil, t.call.Err()
			case <-req.Context().Done():
				timer.Stop()
				return nil, req.Context().Err()
			case <-timer.C:
			}
		}
		ctx, cancel := context.WithTimeout(req.Context(), t.retry.Timeout)
		stop := context.AfterFunc(t.call, cancel)
		r := req.Clone(ctx)
		if body != nil {
			r.Body = io.NopCloser(bytes.NewReader(body))
			r.ContentLength = int64(len(body))
			r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		}
		resp, err := t.base.RoundTrip(r)
		if err != nil && ctx.Err() == context.DeadlineExceeded && req.Context().Err() == nil && t.call.Err() == nil {
			err = fmt.Errorf("no answer within %s: %w", t.retry.Timeout, err)
		}
		last := n+1 >= t.retry.Attempts || t.call.Err() != nil || req.Context().Err() != nil
		if err == nil && !retryableStatus(resp.StatusCode) {
			// The attempt's deadline keeps covering the body; reading it to the end or closing it
			// releases the timer.
			resp.Body = &cancelBody{ReadCloser: resp.Body, cancel: func() { stop(); cancel() }}
			return resp, nil
		}
		if err == nil {
			t.log.Debug("service answered with a retryable status", "service", t.service, "status", resp.StatusCode, "attempt", n+1)
			b, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
			resp.Body.Close()
			// The last 5xx becomes an error here: sigstore-go's own retry loops would otherwise sleep
			// and then read the closed body.
			err = fmt.Errorf("http %d: %s", resp.StatusCode, excerpt(b))
			if rerr != nil {
				err = fmt.Errorf("http %d", resp.StatusCode)
			}
		} else {
			t.log.Debug("service request failed", "service", t.service, "error", err, "attempt", n+1)
		}
		stop()
		cancel()
		if last {
			return nil, fmt.Errorf("giving up after %d attempts: %w", n+1, err)
		}
	}
}

func retryableStatus(code int) bool {
	return code >= 500 || code == http.StatusTooManyRequests
}

type cancelBody struct {
	io.ReadCloser
	cancel func()
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// excerpt is a short, printable rendering of a server's answer for an error message (a hostile or
// broken server must not write control sequences to the user's terminal).
func excerpt(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}
