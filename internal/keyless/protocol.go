package keyless

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/verify"
)

// HelperName is the executable that does keyless work for intoto-ci, found beside it; ServeArg is the
// argument that makes it serve requests on stdin instead of acting as a command line.
const (
	HelperName = "intoto-ci-sigstore"
	ServeArg   = "__keyless-serve"
)

// The helper protocol: the client writes requests on the helper's stdin and reads responses from its
// stdout, each response carrying the id of its request. A signing helper serves one "sign"; a
// verifying helper serves any number of "verify" for the configuration of its first one, several at
// once (up to its GOMAXPROCS), so their responses may come in another order than the requests. Both
// ends are this package, built from one source tree, so the protocol is not versioned beyond Proto.
//
// A message (request or response) is one line of JSON, then, when its "raw" member is n > 0, n bytes:
// the message's one large field (see raw), as they are. A link of a million artifacts is a payload of
// some 120 MB: as base64 inside the JSON it would be encoded into a buffer a third larger than itself,
// and decoded from a buffer holding the whole JSON, on each side of the pipe.
const Proto = 4

// maxRaw bounds the bytes a message may announce, so a corrupt length is an error rather than an
// allocation of any size.
const maxRaw = 1 << 36

type request struct {
	Proto int    `json:"proto"`
	Op    string `json:"op"` // "sign", "verify", "trusted-root", "resolve" or "signer"
	// ID is the client's number for the request, which its response carries.
	ID uint64 `json:"id,omitempty"`
	// LogLevel is the client's slog level: the helper logs what the client would have logged.
	LogLevel slog.Level `json:"log_level"`

	// sign: the token travels here, never in the helper's arguments or environment.
	Services    *Services     `json:"services,omitempty"`
	Token       string        `json:"token,omitempty"`
	TokenSource string        `json:"token_source,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	PayloadType string        `json:"payload_type,omitempty"`
	Payload     []byte        `json:"-"` // raw

	// trusted-root
	TrustedRoot *TrustedRootRequest `json:"trusted_root,omitempty"`

	// resolve
	Resolve *Options `json:"resolve,omitempty"`

	// verify (and signer: the bundle whose certificate is read)
	Verifier *VerifierConfig `json:"verifier,omitempty"`
	Bundle   []byte          `json:"-"` // raw

	Raw int64 `json:"raw,omitempty"` // the length of the raw field, which follows the JSON line
}

// raw is the request's large field: the payload to sign or the bundle to verify.
func (q *request) raw() (*[]byte, *int64) {
	if q.Op == "verify" || q.Op == "signer" {
		return &q.Bundle, &q.Raw
	}
	return &q.Payload, &q.Raw
}

type response struct {
	// ID is the request's.
	ID    uint64 `json:"id,omitempty"`
	Error string `json:"error,omitempty"`
	// Kinds name the sentinel errors Error wraps (see kinds), so errors.Is works on the client.
	Kinds []string `json:"kinds,omitempty"`

	Bundle []byte `json:"-"` // sign (and trusted-root: the trusted_root.json), raw

	PayloadType string                 `json:"payload_type,omitempty"` // verify
	Payload     []byte                 `json:"-"`                      // raw
	Signer      *intoto.SignerIdentity `json:"signer,omitempty"`       // verify, signer

	Services *Services `json:"services,omitempty"` // resolve
	Time     time.Time `json:"time"`

	Raw int64 `json:"raw,omitempty"` // the length of the raw field, which follows the JSON line

	op string // the request's: which field is raw (both ends know it, it is not sent)
}

// raw is the response's large field: the bundle signed or the payload verified.
func (p *response) raw() (*[]byte, *int64) {
	if p.op == "verify" {
		return &p.Payload, &p.Raw
	}
	return &p.Bundle, &p.Raw
}

// message is a request or a response.
type message interface {
	raw() (field *[]byte, length *int64)
}

// writeMessage writes m's JSON line, then its raw field, and flushes w. The raw bytes are written as
// they are (a write this large goes past w's buffer), never copied.
func writeMessage(w *bufio.Writer, m message) error {
	field, n := m.raw()
	*n = int64(len(*field))
	line, err := json.Marshal(m)
	if err != nil {
		return err
	}
	if _, err := w.Write(append(line, '\n')); err != nil {
		return err
	}
	if _, err := w.Write(*field); err != nil {
		return err
	}
	return w.Flush()
}

// readMessage reads one message into m: its JSON line, then the raw bytes it announces, into a buffer
// of exactly their size. It returns io.EOF only when r ends before a message starts.
func readMessage(r *bufio.Reader, m message) error {
	var line []byte
	for len(bytes.TrimSpace(line)) == 0 {
		var err error
		line, err = r.ReadBytes('\n')
		if err == io.EOF && len(bytes.TrimSpace(line)) > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			return err
		}
	}
	if err := json.Unmarshal(line, m); err != nil {
		return err
	}
	field, n := m.raw()
	if *n < 0 || *n > maxRaw {
		return fmt.Errorf("message announces %d raw bytes", *n)
	}
	*field = nil
	if *n > 0 {
		buf := make([]byte, *n)
		if _, err := io.ReadFull(r, buf); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return fmt.Errorf("read %d raw bytes: %w", *n, err)
		}
		*field = buf
	}
	return nil
}

// kinds are the errors a caller branches on, by wire name.
var kinds = []struct {
	name string
	err  error
}{
	{"token", ErrToken},
	{"fulcio", ErrFulcio},
	{"tsa", ErrTSA},
	{"rekor", ErrRekor},
	{"malformed", ErrMalformedBundle},
	{"verification", ErrVerification},
	{"unavailable", verify.ErrVerifierUnavailable},
	{"canceled", context.Canceled},
	{"deadline", context.DeadlineExceeded},
}

func kindsOf(err error) []string {
	var out []string
	for _, k := range kinds {
		if errors.Is(err, k.err) {
			out = append(out, k.name)
		}
	}
	return out
}

// remoteError is an error of the helper, with its message unchanged and its sentinels restored.
type remoteError struct {
	msg  string
	errs []error
}

func (e *remoteError) Error() string   { return e.msg }
func (e *remoteError) Unwrap() []error { return e.errs }

func errorOf(r *response) error {
	if r.Error == "" {
		return nil
	}
	e := &remoteError{msg: r.Error}
	for _, name := range r.Kinds {
		for _, k := range kinds {
			if k.name == name {
				e.errs = append(e.errs, k.err)
			}
		}
	}
	return e
}
