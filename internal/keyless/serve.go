package keyless

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
)

// Serve answers the requests read from r with b, writing the responses to w, until r ends. Logs go to
// logs. It is the main loop of intoto-ci-sigstore started by Exec; errors of a request are answered,
// only a broken pipe ends the loop with an error. Verifications run concurrently, up to GOMAXPROCS at
// once, each answered when done under its request's id; other requests are answered in turn.
func Serve(ctx context.Context, r io.Reader, w io.Writer, logs io.Writer, b Backend) error {
	in := bufio.NewReaderSize(r, 1<<16)
	out := &responder{w: bufio.NewWriterSize(w, 1<<16)}
	var v Verifier
	var wg sync.WaitGroup
	slots := make(chan struct{}, runtime.GOMAXPROCS(0))
	defer func() {
		wg.Wait()
		if v != nil {
			v.Close()
		}
	}()
	for {
		var req request
		if err := readMessage(in, &req); err != nil {
			wg.Wait()
			if werr := out.failed(); werr != nil {
				return werr
			}
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
		if err := out.failed(); err != nil {
			return err
		}
		if req.Proto == Proto && req.Op == "verify" && (v != nil || req.Verifier != nil) {
			if v == nil {
				v = b.NewVerifier(*req.Verifier)
			}
			slots <- struct{}{}
			wg.Go(func() {
				defer func() { <-slots }()
				out.write(verifyOne(ctx, v, &req))
			})
			continue
		}
		out.write(serveOne(ctx, b, &req, logs))
	}
}

// verifyOne answers one verify request with v.
func verifyOne(ctx context.Context, v Verifier, req *request) *response {
	resp := &response{ID: req.ID, op: req.Op}
	got, err := v.VerifyBundle(ctx, req.Bundle)
	req.Bundle = nil // garbage while the response is written
	if err == nil && got == nil {
		err = errors.New("verifier returned no result")
	}
	if err != nil {
		return &response{ID: req.ID, op: req.Op, Error: err.Error(), Kinds: kindsOf(err)}
	}
	resp.PayloadType, resp.Payload, resp.Signer, resp.Time = got.PayloadType, got.Payload, got.Signer, got.Time
	return resp
}

// serveOne answers a request that is not a verification of a configured verifier: a signature, or
// an error.
func serveOne(ctx context.Context, b Backend, req *request, logs io.Writer) *response {
	var resp response
	var err error
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: req.LogLevel}))
	switch {
	case req.Proto != Proto:
		err = fmt.Errorf("protocol %d, this %s speaks %d: install intoto-ci and %s of the same release",
			req.Proto, HelperName, Proto, HelperName)
	case req.Op == "sign":
		var s Signer
		s, err = b.NewSigner(SignerConfig{
			Services: req.Services,
			Token:    fixedToken{token: req.Token, name: req.TokenSource},
			Timeout:  req.Timeout,
			Logger:   log,
		})
		if err == nil {
			resp.Bundle, err = s.Sign(ctx, req.PayloadType, req.Payload)
		}
	case req.Op == "trusted-root":
		if req.TrustedRoot == nil {
			err = errors.New("trusted-root request without its parameters")
			break
		}
		resp.Bundle, err = b.TrustedRoot(ctx, *req.TrustedRoot)
	case req.Op == "resolve":
		if req.Resolve == nil {
			err = errors.New("resolve request without its options")
			break
		}
		resp.Services, err = b.Resolve(ctx, *req.Resolve)
	case req.Op == "signer":
		resp.Signer, err = b.BundleSigner(ctx, req.Bundle)
	case req.Op == "verify":
		err = errors.New("first verify request without a verifier configuration")
	default:
		err = fmt.Errorf("unknown request %q", req.Op)
	}
	if err != nil {
		resp = response{Error: err.Error(), Kinds: kindsOf(err)}
	}
	req.Payload, req.Bundle = nil, nil // garbage while the response is written
	resp.ID, resp.op = req.ID, req.Op
	return &resp
}

// responder writes responses one at a time and keeps the first write error.
type responder struct {
	mu  sync.Mutex
	w   *bufio.Writer
	err error
}

func (o *responder) write(resp *response) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return
	}
	if err := writeMessage(o.w, resp); err != nil {
		o.err = fmt.Errorf("write response: %w", err)
	}
}

func (o *responder) failed() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// fixedToken hands out the token the client fetched (and masked in the CI log) for this signature.
type fixedToken struct{ token, name string }

func (t fixedToken) Token(context.Context) (string, error) {
	if t.token == "" {
		return "", errors.New("no identity token was passed to the helper")
	}
	return t.token, nil
}
func (t fixedToken) Name() string { return t.name }
