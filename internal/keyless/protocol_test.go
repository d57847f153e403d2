package keyless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// echoBackend signs by returning "bundle:" and the payload, and verifies by returning the bundle as the
// payload: what crossed the pipe comes back unchanged.
type echoBackend struct{ signed [][]byte }

func (b *echoBackend) NewSigner(SignerConfig) (Signer, error) { return echoSigner{b}, nil }

func (b *echoBackend) TrustedRoot(context.Context, TrustedRootRequest) ([]byte, error) {
	return nil, errors.New("echo backend makes no trusted roots")
}
func (b *echoBackend) NewVerifier(VerifierConfig) Verifier { return echoVerifier{} }

// Resolve echoes the signing config path and the explicit Fulcio URL it was sent.
func (b *echoBackend) Resolve(_ context.Context, opts Options) (*Services, error) {
	if opts.SigningConfig == "" {
		return nil, errors.New("echo backend resolves signing configs only")
	}
	return &Services{Fulcio: opts.FulcioURL, TSAs: []string{opts.SigningConfig}}, nil
}

// BundleSigner names the bundle's bytes as the subject.
func (b *echoBackend) BundleSigner(_ context.Context, bundle []byte) (*intoto.SignerIdentity, error) {
	if len(bundle) == 0 {
		return nil, ErrMalformedBundle
	}
	return &intoto.SignerIdentity{Subject: string(bundle)}, nil
}

type echoSigner struct{ b *echoBackend }

func (s echoSigner) Sign(_ context.Context, _ string, payload []byte) ([]byte, error) {
	s.b.signed = append(s.b.signed, payload)
	return append([]byte("bundle:"), payload...), nil
}

type echoVerifier struct{}

func (echoVerifier) VerifyBundle(_ context.Context, data []byte) (*verify.Verified, error) {
	if len(data) == 0 {
		return nil, ErrMalformedBundle
	}
	return &verify.Verified{PayloadType: intoto.PayloadType, Payload: data, Signer: &intoto.SignerIdentity{Subject: "s"}}, nil
}
func (echoVerifier) Close() error { return nil }

// serve runs Serve on a pipe and returns the client's ends.
func serve(t *testing.T, b Backend) (*bufio.Writer, *bufio.Reader, func() error) {
	t.Helper()
	reqR, reqW := io.Pipe()
	respR, respW := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := Serve(context.Background(), reqR, respW, io.Discard, b)
		respW.Close()
		done <- err
	}()
	return bufio.NewWriter(reqW), bufio.NewReader(respR), func() error {
		reqW.Close()
		return <-done
	}
}

func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 3))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32()) // newlines, quotes, anything: raw bytes are not JSON
	}
	return b
}

// TestServeRawFields sends payloads and bundles of any bytes, large and empty, through Serve and back:
// one signature, then several verifications through the same helper, which stay in step.
func TestServeRawFields(t *testing.T) {
	t.Parallel()
	b := &echoBackend{}
	w, r, stop := serve(t, b)

	payload := randomBytes(3<<20 + 1)
	req := &request{Proto: Proto, Op: "sign", Services: &Services{Fulcio: "f"}, Token: "tok", PayloadType: intoto.PayloadType, Payload: payload}
	if err := writeMessage(w, req); err != nil {
		t.Fatal(err)
	}
	if req.Raw != int64(len(payload)) || &req.Payload[0] != &payload[0] {
		t.Errorf("the request's raw length is %d and its payload was replaced", req.Raw)
	}
	resp := &response{op: "sign"}
	if err := readMessage(r, resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != "" {
		t.Fatal(resp.Error)
	}
	if len(b.signed) != 1 || !bytes.Equal(b.signed[0], payload) {
		t.Fatal("the helper signed other bytes than the payload sent")
	}
	if cap(b.signed[0]) != len(payload) {
		t.Errorf("the helper read the payload into %d bytes of capacity for %d", cap(b.signed[0]), len(payload))
	}
	if want := append([]byte("bundle:"), payload...); !bytes.Equal(resp.Bundle, want) {
		t.Error("the bundle came back changed")
	}

	for i, bundle := range [][]byte{randomBytes(100), randomBytes(1 << 20), nil, []byte("\n\n{}\n")} {
		req := &request{Proto: Proto, Op: "verify", Bundle: bundle}
		if i == 0 {
			req.Verifier = &VerifierConfig{}
		}
		if err := writeMessage(w, req); err != nil {
			t.Fatal(err)
		}
		resp := &response{op: "verify"}
		if err := readMessage(r, resp); err != nil {
			t.Fatal(err)
		}
		if len(bundle) == 0 {
			if !strings.Contains(resp.Error, ErrMalformedBundle.Error()) || len(resp.Payload) != 0 {
				t.Errorf("empty bundle: %+v", resp)
			}
			continue
		}
		if resp.Error != "" || !bytes.Equal(resp.Payload, bundle) || resp.Signer.Subject != "s" {
			t.Errorf("verify #%d: error %q, %d bytes back for %d", i, resp.Error, len(resp.Payload), len(bundle))
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Serve() = %v at the end of its input", err)
	}
}

// TestServeResolveAndSigner: the options of a resolve and the bundle of a signer request cross the
// pipe unchanged, and so do the answers and a refusal's sentinel.
func TestServeResolveAndSigner(t *testing.T) {
	t.Parallel()
	w, r, stop := serve(t, &echoBackend{})
	call := func(req *request) *response {
		t.Helper()
		req.Proto = Proto
		if err := writeMessage(w, req); err != nil {
			t.Fatal(err)
		}
		resp := &response{op: req.Op}
		if err := readMessage(r, resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	resp := call(&request{Op: "resolve", Resolve: &Options{SigningConfig: "dir/sc.json", FulcioURL: "https://f", Private: true}})
	if resp.Error != "" || resp.Services == nil || resp.Services.Fulcio != "https://f" || len(resp.Services.TSAs) != 1 || resp.Services.TSAs[0] != "dir/sc.json" {
		t.Errorf("resolve: got %+v, want the options echoed", resp)
	}
	if resp := call(&request{Op: "resolve"}); !strings.Contains(resp.Error, "without its options") {
		t.Errorf("resolve without options: got %+v, want an error", resp)
	}
	bundle := bytes.Repeat([]byte("{\"bundle\"}\n"), 4096) // ASCII: the subject travels as JSON text
	if resp := call(&request{Op: "signer", Bundle: bundle}); resp.Error != "" || resp.Signer == nil || resp.Signer.Subject != string(bundle) {
		t.Errorf("signer: got error %q; want the bundle's %d bytes as subject", resp.Error, len(bundle))
	}
	resp = call(&request{Op: "signer"})
	if err := errorOf(resp); !errors.Is(err, ErrMalformedBundle) {
		t.Errorf("signer of no bundle: got %v, want ErrMalformedBundle", err)
	}
	if err := stop(); err != nil {
		t.Errorf("Serve() = %v at the end of its input", err)
	}
}

// TestServeRefusesOtherProtocol: a client of the base64 protocol (1) learns which protocol to speak.
func TestServeRefusesOtherProtocol(t *testing.T) {
	t.Parallel()
	b := &echoBackend{}
	w, r, stop := serve(t, b)
	line, _ := json.Marshal(map[string]any{"proto": 1, "op": "sign", "token": "t", "payload": []byte("{}")})
	w.Write(append(line, '\n'))
	w.Flush()
	resp := &response{op: "sign"}
	if err := readMessage(r, resp); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(resp.Error, "protocol 1") || len(b.signed) != 0 {
		t.Errorf("error %q, %d signatures; want a protocol refusal", resp.Error, len(b.signed))
	}
	if err := stop(); err != nil {
		t.Error(err)
	}
}

func TestReadMessageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name, in string
		want     error // nil: any error
	}{
		{"empty input", "", io.EOF},
		{"blank lines only", "\n \n", io.EOF},
		{"line cut short", `{"proto":2`, io.ErrUnexpectedEOF},
		{"raw bytes cut short", `{"proto":2,"op":"sign","raw":10}` + "\n12345", io.ErrUnexpectedEOF},
		{"negative length", `{"proto":2,"op":"sign","raw":-1}` + "\n", nil},
		{"absurd length", `{"proto":2,"op":"sign","raw":1099511627776000}` + "\n", nil},
		{"not json", "garbage\n", nil},
	} {
		var req request
		err := readMessage(bufio.NewReader(strings.NewReader(c.in)), &req)
		if err == nil || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	// Leading blank lines are allowed, and a message without raw bytes has none.
	var req request
	err := readMessage(bufio.NewReader(strings.NewReader("\n\n"+`{"proto":2,"op":"verify","verifier":{}}`+"\n")), &req)
	if err != nil || req.Op != "verify" || req.Bundle != nil || req.Verifier == nil {
		t.Errorf("got %+v, %v", req, err)
	}
}

// TestHelperCallHearsEarlyAnswer: a helper that answers before reading the request's raw bytes and
// exits (one of another release) is heard, not reported as a broken pipe, and the call does not hang.
func TestHelperCallHearsEarlyAnswer(t *testing.T) {
	t.Parallel()
	reqR, reqW := io.Pipe()
	respR, respW := io.Pipe()
	h := &helper{in: reqW, w: bufio.NewWriter(reqW), r: bufio.NewReader(respR), done: make(chan struct{})}
	go func() {
		line, _ := bufio.NewReader(reqR).ReadBytes('\n')
		var q request
		json.Unmarshal(line, &q)
		respW.Write([]byte(`{"error":"protocol 2, this helper speaks 1"}` + "\n"))
		reqR.CloseWithError(errors.New("helper exited")) // the rest of the payload is never read
		close(h.done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := h.call(ctx, &request{Proto: Proto, Op: "sign", Payload: randomBytes(1 << 20)})
	if err != nil || !strings.Contains(resp.Error, "speaks 1") {
		t.Errorf("call() = %+v, %v; want the helper's answer", resp, err)
	}
}

// barrierBackend verifies like echoBackend, but each verification waits until n of them are running
// at once (or gives up after a while), so that it answers only if Serve runs them in parallel.
type barrierBackend struct {
	echoBackend
	n       int
	mu      sync.Mutex
	running int
	all     chan struct{}
}

func (b *barrierBackend) NewVerifier(VerifierConfig) Verifier { return b }
func (b *barrierBackend) Close() error                        { return nil }

func (b *barrierBackend) VerifyBundle(ctx context.Context, data []byte) (*verify.Verified, error) {
	b.mu.Lock()
	if b.running++; b.running == b.n {
		close(b.all)
	}
	b.mu.Unlock()
	select {
	case <-b.all:
	case <-time.After(20 * time.Second):
		return nil, errors.New("verifications ran one at a time")
	}
	return echoVerifier{}.VerifyBundle(ctx, data)
}

// TestServeVerifiesInParallel: verifications sent without waiting run at once (up to GOMAXPROCS),
// and each response carries its request's id and its own result, an error's kinds included.
func TestServeVerifiesInParallel(t *testing.T) {
	t.Parallel()
	n := runtime.GOMAXPROCS(0)
	if n < 2 {
		t.Skip("GOMAXPROCS is 1: one verification at a time")
	}
	b := &barrierBackend{n: n, all: make(chan struct{})}
	w, r, stop := serve(t, b)
	bundles := map[uint64][]byte{}
	for i := range n {
		id := uint64(100 + i)
		bundles[id] = randomBytes(1000 + i)
		if i == n-1 {
			bundles[id] = nil // refused: ErrMalformedBundle
		}
		req := &request{Proto: Proto, Op: "verify", ID: id, Bundle: bundles[id]}
		if i == 0 {
			req.Verifier = &VerifierConfig{}
		}
		if err := writeMessage(w, req); err != nil {
			t.Fatal(err)
		}
	}
	for range n {
		resp := &response{op: "verify"}
		if err := readMessage(r, resp); err != nil {
			t.Fatal(err)
		}
		want, ok := bundles[resp.ID]
		if !ok {
			t.Fatalf("response to request %d, which was not sent or was answered already", resp.ID)
		}
		delete(bundles, resp.ID)
		if want == nil {
			if !errors.Is(errorOf(resp), ErrMalformedBundle) {
				t.Errorf("request %d: error %q (kinds %v), want ErrMalformedBundle", resp.ID, resp.Error, resp.Kinds)
			}
			continue
		}
		if resp.Error != "" || !bytes.Equal(resp.Payload, want) {
			t.Errorf("request %d: error %q, %d bytes back for %d", resp.ID, resp.Error, len(resp.Payload), len(want))
		}
	}
	if err := stop(); err != nil {
		t.Errorf("Serve() = %v at the end of its input", err)
	}
}
