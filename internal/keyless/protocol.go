package keyless

import (
	"context"
	"errors"
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

// The helper protocol: the client writes one JSON request at a time on the helper's stdin and reads one
// JSON response from its stdout. A signing helper serves one "sign"; a verifying helper serves any
// number of "verify" for the configuration of its first one. Both ends are this package, built from one
// source tree, so the protocol is not versioned beyond Proto.
const Proto = 1

type request struct {
	Proto int    `json:"proto"`
	Op    string `json:"op"` // "sign" or "verify"
	// LogLevel is the client's slog level: the helper logs what the client would have logged.
	LogLevel slog.Level `json:"log_level"`

	// sign: the token travels here, never in the helper's arguments or environment.
	Services    *Services     `json:"services,omitempty"`
	Token       string        `json:"token,omitempty"`
	TokenSource string        `json:"token_source,omitempty"`
	Timeout     time.Duration `json:"timeout,omitempty"`
	PayloadType string        `json:"payload_type,omitempty"`
	Payload     []byte        `json:"payload,omitempty"`

	// verify
	Verifier *VerifierConfig `json:"verifier,omitempty"`
	Bundle   []byte          `json:"bundle,omitempty"`
}

type response struct {
	Error string `json:"error,omitempty"`
	// Kinds name the sentinel errors Error wraps (see kinds), so errors.Is works on the client.
	Kinds []string `json:"kinds,omitempty"`

	Bundle []byte `json:"bundle,omitempty"` // sign

	PayloadType string                 `json:"payload_type,omitempty"` // verify
	Payload     []byte                 `json:"payload,omitempty"`
	Signer      *intoto.SignerIdentity `json:"signer,omitempty"`
	Time        time.Time              `json:"time"`
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
