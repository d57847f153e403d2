package keyless

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// execVerifier verifies bundles through one helper, started on the first bundle. Calls may be
// concurrent: their requests share the helper, which verifies them in parallel.
type execVerifier struct {
	x   Exec
	cfg VerifierConfig

	mu     sync.Mutex
	conn   *verifyConn
	broken error // sticky: the helper cannot be run, or answered nonsense
}

func (v *execVerifier) VerifyBundle(ctx context.Context, data []byte) (*verify.Verified, error) {
	c, err := v.connection()
	if err != nil {
		return nil, err
	}
	resp, err := c.call(ctx, &request{Proto: Proto, Op: "verify", LogLevel: slog.LevelWarn, Bundle: data})
	if err != nil {
		v.drop(c, nil) // a later call starts afresh
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", verify.ErrVerifierUnavailable, err)
	}
	if err := errorOf(resp); err != nil {
		return nil, err
	}
	if resp.Signer == nil {
		// A helper that answers nonsense is not trusted with the next bundle either.
		err := fmt.Errorf("%w: %s returned no signer", verify.ErrVerifierUnavailable, HelperName)
		v.drop(c, err)
		return nil, err
	}
	return &verify.Verified{PayloadType: resp.PayloadType, Payload: resp.Payload, Signer: resp.Signer, Time: resp.Time}, nil
}

// connection returns the running helper, starting it if there is none.
func (v *execVerifier) connection() (*verifyConn, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.broken != nil {
		return nil, v.broken
	}
	if v.conn == nil {
		p, err := v.x.path()
		var h *helper
		if err == nil {
			h, err = startHelper(p, v.x.Stderr)
		}
		if err != nil {
			v.broken = fmt.Errorf("%w: %w", verify.ErrVerifierUnavailable, err)
			return nil, v.broken
		}
		v.conn = newVerifyConn(h, v.cfg)
	}
	return v.conn, nil
}

// drop stops c, if it is still the running helper; broken, if set, refuses every later call.
func (v *execVerifier) drop(c *verifyConn, broken error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if broken != nil {
		v.broken = broken
		c.h.kill()
	}
	if v.conn == c {
		v.conn = nil
		c.close()
	}
}

func (v *execVerifier) Close() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.conn == nil {
		return nil
	}
	err := v.conn.close()
	v.conn = nil
	return err
}

// verifyConn is one verifying helper with its requests in flight: they are written one at a time,
// and one goroutine reads the responses and hands each to the call that waits for its id.
type verifyConn struct {
	h   *helper
	cfg VerifierConfig

	wmu        sync.Mutex // one request written at a time
	configured bool       // the first request, which carries cfg, was written (under wmu)

	mu      sync.Mutex
	next    uint64
	pending map[uint64]chan *response
	err     error         // why no more responses will come, once the reader stopped
	done    chan struct{} // closed when the reader stopped
}

func newVerifyConn(h *helper, cfg VerifierConfig) *verifyConn {
	c := &verifyConn{h: h, cfg: cfg, pending: map[uint64]chan *response{}, done: make(chan struct{})}
	go c.read()
	return c
}

// read hands out responses until the helper's output ends or goes wrong; then every call still
// waiting, and every later one, gets the reason.
func (c *verifyConn) read() {
	defer close(c.done)
	for {
		resp := &response{op: "verify"}
		err := readMessage(c.h.r, resp)
		var ch chan *response
		if err == nil {
			c.mu.Lock()
			ch = c.pending[resp.ID]
			delete(c.pending, resp.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- resp
				continue
			}
			err = fmt.Errorf("response to request %d, which is not waiting", resp.ID)
		}
		// The helper died or wrote garbage: its exit status says more than a broken pipe. Its output
		// ends when it exits (after Close, or a crash): then it is waited for, not killed.
		if !errors.Is(err, io.EOF) {
			c.h.kill()
		}
		<-c.h.done
		if c.h.err != nil {
			err = fmt.Errorf("%s failed: %w", HelperName, c.h.err)
		} else {
			err = fmt.Errorf("%s: %w", HelperName, err)
		}
		c.mu.Lock()
		c.err = err
		for id, ch := range c.pending {
			close(ch)
			delete(c.pending, id)
		}
		c.mu.Unlock()
		return
	}
}

// call sends req and waits for its response; when ctx ends first the helper is killed (the calls in
// flight then fail, as the helper's other work was for the same verification).
func (c *verifyConn) call(ctx context.Context, req *request) (*response, error) {
	ch := make(chan *response, 1)
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return nil, c.err
	}
	req.ID = c.next // from 0: the first request's response may leave out its id
	c.next++
	c.pending[req.ID] = ch
	c.mu.Unlock()
	wrote := make(chan error, 1)
	go func() {
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if !c.configured {
			req.Verifier = &c.cfg // the helper's first request configures it
			c.configured = true
		}
		wrote <- writeMessage(c.h.w, req)
	}()
	select {
	case resp, ok := <-ch:
		if !ok {
			c.mu.Lock()
			defer c.mu.Unlock()
			return nil, c.err
		}
		// A helper answers once it has read the request, so the write is over or failing.
		select {
		case <-wrote:
		case <-ctx.Done():
			c.h.kill()
			return nil, ctx.Err()
		}
		return resp, nil
	case <-ctx.Done():
		c.h.kill()
		return nil, ctx.Err()
	}
}

// close ends the helper's input, waits for it to exit and for the reader to stop.
func (c *verifyConn) close() error {
	err := c.h.close()
	<-c.done
	return err
}
