package keyless

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// Serve answers the requests read from r with b, writing the responses to w, until r ends. Logs go to
// logs. It is the main loop of intoto-ci-sigstore started by Exec; errors of a request are answered,
// only a broken pipe ends the loop with an error.
func Serve(ctx context.Context, r io.Reader, w io.Writer, logs io.Writer, b Backend) error {
	in := bufio.NewReaderSize(r, 1<<16)
	out := bufio.NewWriterSize(w, 1<<16)
	var v Verifier
	defer func() {
		if v != nil {
			v.Close()
		}
	}()
	for {
		var req request
		if err := readMessage(in, &req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read request: %w", err)
		}
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
		case req.Op == "verify":
			if v == nil {
				if req.Verifier == nil {
					err = errors.New("first verify request without a verifier configuration")
					break
				}
				v = b.NewVerifier(*req.Verifier)
			}
			var got *verify.Verified
			got, err = v.VerifyBundle(ctx, req.Bundle)
			if err == nil && got == nil {
				err = errors.New("verifier returned no result")
			}
			if err == nil {
				resp.PayloadType, resp.Payload, resp.Signer, resp.Time = got.PayloadType, got.Payload, got.Signer, got.Time
			}
		default:
			err = fmt.Errorf("unknown request %q", req.Op)
		}
		if err != nil {
			resp = response{Error: err.Error(), Kinds: kindsOf(err)}
		}
		req.Payload, req.Bundle = nil, nil // garbage while the response is written
		resp.op = req.Op
		if err := writeMessage(out, &resp); err != nil {
			return fmt.Errorf("write response: %w", err)
		}
	}
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
