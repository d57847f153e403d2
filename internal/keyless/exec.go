package keyless

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Exec is the Backend of intoto-ci: it runs intoto-ci-sigstore (HelperName), which links sigstore-go,
// only when a keyless signature is made or a bundle is verified. A signature starts one helper; a
// verifier starts one on its first bundle and keeps it until Close.
type Exec struct {
	// Path is the helper executable; empty means HelperName beside the running executable.
	Path string
	// Stderr receives the helper's logs; nil means os.Stderr.
	Stderr io.Writer
}

var _ Backend = Exec{}

// HelperPath is HelperName in the directory of the running executable (symlinks resolved). Only there:
// a helper found on PATH could come from anywhere, and it is handed identity tokens.
func HelperPath() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("find %s: %w", HelperName, err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	name := HelperName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	p := filepath.Join(filepath.Dir(exe), name)
	if st, err := os.Stat(p); err != nil || st.IsDir() {
		return "", fmt.Errorf("keyless signing and verification need %s beside %s (not found: %s): "+
			"install both binaries of the release", HelperName, exe, p)
	}
	return p, nil
}

func (x Exec) path() (string, error) {
	if x.Path == "" {
		return HelperPath()
	}
	if st, err := os.Stat(x.Path); err != nil || st.IsDir() {
		return "", fmt.Errorf("keyless signing and verification need %s (not found: %s)", HelperName, x.Path)
	}
	return x.Path, nil
}

// NewSigner checks that the helper is there, so a step fails before it runs rather than after.
func (x Exec) NewSigner(cfg SignerConfig) (Signer, error) {
	if cfg.Token == nil {
		return nil, errors.New("keyless signing needs an identity token source")
	}
	if cfg.Services == nil {
		return nil, errors.New("keyless signing needs its services resolved")
	}
	p, err := x.path()
	if err != nil {
		return nil, err
	}
	return &execSigner{x: x, path: p, cfg: cfg}, nil
}

// NewVerifier returns a verifier that starts the helper on its first bundle.
func (x Exec) NewVerifier(cfg VerifierConfig) Verifier {
	return &execVerifier{x: x, cfg: cfg}
}

// TrustedRoot has a helper build or fetch the trusted root: the work needs sigstore-go.
func (x Exec) TrustedRoot(ctx context.Context, req TrustedRootRequest) ([]byte, error) {
	resp, err := x.once(ctx, &request{Op: "trusted-root", TrustedRoot: &req})
	if err != nil {
		return nil, err
	}
	if len(resp.Bundle) == 0 {
		return nil, fmt.Errorf("%s returned no trusted root", HelperName)
	}
	return resp.Bundle, nil
}

// Resolve resolves here when no signing config is named; reading one needs sigstore-go, so then a
// helper does it.
func (x Exec) Resolve(ctx context.Context, opts Options) (*Services, error) {
	if opts.SigningConfig == "" {
		return Resolve(opts, nil)
	}
	if opts.Now != nil {
		return nil, errors.New("resolve: a clock cannot be sent to " + HelperName)
	}
	resp, err := x.once(ctx, &request{Op: "resolve", Resolve: &opts})
	if err != nil {
		return nil, err
	}
	if resp.Services == nil {
		return nil, fmt.Errorf("%s resolved no services", HelperName)
	}
	return resp.Services, nil
}

// BundleSigner has a helper read the bundle's certificate.
func (x Exec) BundleSigner(ctx context.Context, bundle []byte) (*intoto.SignerIdentity, error) {
	resp, err := x.once(ctx, &request{Op: "signer", Bundle: bundle})
	if err != nil {
		return nil, err
	}
	if resp.Signer == nil {
		return nil, fmt.Errorf("%s read no signer", HelperName)
	}
	return resp.Signer, nil
}

// once starts a helper for one request and returns its response, or the error it reports. Failing to
// ask it at all is ErrUnavailable.
func (x Exec) once(ctx context.Context, req *request) (*response, error) {
	p, err := x.path()
	if err != nil {
		return nil, &unavailable{err}
	}
	h, err := startHelper(p, x.Stderr)
	if err != nil {
		return nil, &unavailable{err}
	}
	defer h.close()
	req.Proto, req.LogLevel = Proto, slog.LevelWarn
	resp, err := h.call(ctx, req)
	if err != nil {
		return nil, &unavailable{err}
	}
	if err := errorOf(resp); err != nil {
		return nil, err
	}
	return resp, nil
}

type execSigner struct {
	x    Exec
	path string
	cfg  SignerConfig
}

// Sign fetches the token here (the token source masks it in the CI log), then has the helper get the
// certificate, sign, timestamp and log.
func (s *execSigner) Sign(ctx context.Context, payloadType string, payload []byte) ([]byte, error) {
	if payloadType != intoto.PayloadType {
		return nil, fmt.Errorf("payload type %q: keyless bundles carry %s only", payloadType, intoto.PayloadType)
	}
	tok, err := s.cfg.Token.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (%s): %w", ErrToken, s.cfg.Token.Name(), err)
	}
	h, err := startHelper(s.path, s.x.Stderr)
	if err != nil {
		return nil, err
	}
	defer h.close()
	resp, err := h.call(ctx, &request{
		Proto:       Proto,
		Op:          "sign",
		LogLevel:    levelOf(ctx, s.cfg.Logger),
		Services:    s.cfg.Services,
		Token:       tok,
		TokenSource: s.cfg.Token.Name(),
		Timeout:     s.cfg.Timeout,
		PayloadType: payloadType,
		Payload:     payload,
	})
	if err != nil {
		return nil, err
	}
	if err := errorOf(resp); err != nil {
		return nil, err
	}
	if len(resp.Bundle) == 0 {
		return nil, fmt.Errorf("%s returned no bundle", HelperName)
	}
	return resp.Bundle, nil
}

// helper is one running intoto-ci-sigstore.
type helper struct {
	cmd  *exec.Cmd
	in   io.WriteCloser
	w    *bufio.Writer // over in
	r    *bufio.Reader // over the helper's stdout
	done chan struct{} // closed when the process has been waited for
	err  error         // its exit status, once done
}

func startHelper(path string, stderr io.Writer) (*helper, error) {
	if stderr == nil {
		stderr = os.Stderr
	}
	cmd := exec.Command(path, ServeArg)
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", HelperName, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", HelperName, err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", HelperName, err)
	}
	h := &helper{cmd: cmd, in: in, w: bufio.NewWriterSize(in, 1<<16), r: bufio.NewReaderSize(out, 1<<16), done: make(chan struct{})}
	go func() {
		h.err = cmd.Wait()
		close(h.done)
	}()
	return h, nil
}

// call sends req and reads the response; when ctx ends first the helper is killed. The response is
// read while the request is written: a helper that answers before it has read all of a request (one
// of another release, refusing the protocol) is heard rather than reported as a broken pipe.
func (h *helper) call(ctx context.Context, req *request) (*response, error) {
	type result struct {
		resp *response
		err  error
	}
	wrote := make(chan error, 1)
	go func() { wrote <- writeMessage(h.w, req) }()
	read := make(chan result, 1)
	go func() {
		resp := &response{op: req.Op}
		err := readMessage(h.r, resp)
		read <- result{resp, err}
	}()
	select {
	case r := <-read:
		if r.err == nil {
			// A helper answers once it has read the request, so the write is over or failing.
			select {
			case <-wrote:
			case <-ctx.Done():
				h.kill()
				return nil, ctx.Err()
			}
			return r.resp, nil
		}
		// The helper died or wrote garbage: its exit status says more than a broken pipe.
		h.kill()
		<-h.done
		if h.err != nil {
			return nil, fmt.Errorf("%s failed: %w", HelperName, h.err)
		}
		return nil, fmt.Errorf("%s: %w", HelperName, r.err)
	case <-ctx.Done():
		h.kill()
		return nil, ctx.Err()
	}
}

func (h *helper) kill() {
	select {
	case <-h.done:
	default:
		_ = h.cmd.Process.Kill()
	}
}

// close ends the helper's input, so it exits, and waits for it.
func (h *helper) close() error {
	_ = h.in.Close()
	<-h.done
	return h.err
}

// levelOf is the lowest level logger prints, so the helper logs as much as the caller would have.
func levelOf(ctx context.Context, logger *slog.Logger) slog.Level {
	if logger == nil {
		return slog.LevelError + 4
	}
	for _, l := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		if logger.Enabled(ctx, l) {
			return l
		}
	}
	return slog.LevelError + 4
}
