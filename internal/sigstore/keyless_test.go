package sigstore

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigstore/sigstore-go/pkg/sign"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keyless"
)

const fakeJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmFjbWUvYXBwIn0.c2ln"

type tokenFunc func(context.Context) (string, error)

func (f tokenFunc) Token(ctx context.Context) (string, error) { return f(ctx) }
func (tokenFunc) Name() string                                { return "test" }

func staticToken(tok string) TokenSource {
	return tokenFunc(func(context.Context) (string, error) { return tok, nil })
}

var fastRetry = Retry{Attempts: 3, Timeout: 500 * time.Millisecond, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func writeSigningConfig(t testing.TB) string {
	t.Helper()
	cfg := `{
  "mediaType": "application/vnd.dev.sigstore.signingconfig.v0.2+json",
  "caUrls": [{"url": "https://fulcio.example", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "x"}],
  "rekorTlogUrls": [
    {"url": "https://rekor-v1.example", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "x"},
    {"url": "https://rekor-v2.example", "majorApiVersion": 2, "validFor": {"start": "2021-01-01T00:00:00Z"}, "operator": "x"}],
  "tsaUrls": [{"url": "https://tsa.example/api/v1/timestamp", "majorApiVersion": 1, "validFor": {"start": "2020-01-01T00:00:00Z"}, "operator": "x"}],
  "rekorTlogConfig": {"selector": "ANY"},
  "tsaConfig": {"selector": "ANY"}
}`
	p := filepath.Join(t.TempDir(), "signing_config.json")
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestNewKeylessResolvesServices(t *testing.T) {
	t.Parallel()
	cfg := writeSigningConfig(t)
	type services struct {
		Fulcio string
		Rekors []string
		TSAs   []string
	}
	tests := []struct {
		name    string
		opts    KeylessOptions
		want    services
		wantErr string
	}{
		{name: "public good defaults", want: services{Fulcio: PublicGoodFulcioURL, Rekors: []string{PublicGoodRekorURL + " (v1)"}}},
		{name: "explicit", opts: KeylessOptions{FulcioURL: "http://f", RekorURL: "http://r", RekorVersion: 2, TSAURLs: []string{"http://t"}},
			want: services{Fulcio: "http://f", Rekors: []string{"http://r (v2)"}, TSAs: []string{"http://t"}}},
		{name: "signing config prefers newest api", opts: KeylessOptions{SigningConfig: cfg},
			want: services{Fulcio: "https://fulcio.example", Rekors: []string{"https://rekor-v2.example (v2)"}, TSAs: []string{"https://tsa.example/api/v1/timestamp"}}},
		{name: "signing config with rekor version 1", opts: KeylessOptions{SigningConfig: cfg, RekorVersion: 1},
			want: services{Fulcio: "https://fulcio.example", Rekors: []string{"https://rekor-v1.example (v1)"}, TSAs: []string{"https://tsa.example/api/v1/timestamp"}}},
		{name: "flags override signing config", opts: KeylessOptions{SigningConfig: cfg, FulcioURL: "http://f", TSAURLs: []string{"http://t"}},
			want: services{Fulcio: "http://f", Rekors: []string{"https://rekor-v2.example (v2)"}, TSAs: []string{"http://t"}}},
		{name: "private", opts: KeylessOptions{Private: true, FulcioURL: "http://f", TSAURLs: []string{"http://t"}},
			want: services{Fulcio: "http://f", TSAs: []string{"http://t"}}},
		{name: "private from signing config drops rekor", opts: KeylessOptions{Private: true, SigningConfig: cfg},
			want: services{Fulcio: "https://fulcio.example", TSAs: []string{"https://tsa.example/api/v1/timestamp"}}},
		{name: "private needs tsa", opts: KeylessOptions{Private: true, FulcioURL: "http://f"}, wantErr: "timestamp authority"},
		{name: "private needs explicit fulcio", opts: KeylessOptions{Private: true, TSAURLs: []string{"http://t"}}, wantErr: "explicit fulcio"},
		{name: "private refuses rekor", opts: KeylessOptions{Private: true, RekorURL: "http://r"}, wantErr: "no transparency log"},
		{name: "rekor v2 needs tsa", opts: KeylessOptions{RekorURL: "http://r", RekorVersion: 2}, wantErr: "timestamp authority is required"},
		{name: "bad rekor version", opts: KeylessOptions{RekorVersion: 3}, wantErr: "want 1 or 2"},
		{name: "missing signing config", opts: KeylessOptions{SigningConfig: "/nonexistent.json"}, wantErr: "load signing config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Token = staticToken(fakeJWT)
			k, err := NewKeyless(tt.opts)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("NewKeyless() = %v, want error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewKeyless() = %v", err)
			}
			var got services
			got.Fulcio, got.Rekors, got.TSAs = k.Services()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("services mismatch (-want +got):\n%s", diff)
			}
		})
	}
	if _, err := NewKeyless(KeylessOptions{}); err == nil {
		t.Error("NewKeyless() without a token source = nil error")
	}
}

// fakeFulcio issues certificates for the posted public key from a throwaway CA; failures answers
// the first n requests with 500.
func fakeFulcio(t testing.TB, failures int32) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "fake fulcio"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) <= failures {
			http.Error(w, "injected", http.StatusInternalServerError)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+fakeJWT {
			http.Error(w, "no token", http.StatusUnauthorized)
			return
		}
		var req struct {
			PublicKeyRequest struct {
				PublicKey struct{ Content string } `json:"publicKey"`
			} `json:"publicKeyRequest"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		blk, _ := pem.Decode([]byte(req.PublicKeyRequest.PublicKey.Content))
		if blk == nil {
			http.Error(w, "no pem", http.StatusBadRequest)
			return
		}
		pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		leaf := &x509.Certificate{SerialNumber: big.NewInt(2), EmailAddresses: []string{"a@example.com"},
			NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(10 * time.Minute)}
		der, err := x509.CreateCertificate(rand.Reader, leaf, caTmpl, pub, caKey)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		p := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
		fmt.Fprintf(w, `{"signedCertificateEmbeddedSct":{"chain":{"certificates":[%q]}}}`, p)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// statusServer answers every request with code.
func statusServer(t testing.TB, code int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "injected", code)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func hangingServer(t testing.TB) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	release := make(chan struct{})
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); srv.Close() })
	return srv, &calls
}

func signWith(t testing.TB, opts KeylessOptions) ([]byte, error) {
	t.Helper()
	if opts.Token == nil {
		opts.Token = staticToken(fakeJWT)
	}
	opts.Retry = fastRetry
	k, err := NewKeyless(opts)
	if err != nil {
		t.Fatal(err)
	}
	return k.Sign(context.Background(), intoto.PayloadType, []byte(statement))
}

func TestSignFulcioRetriedThenOK(t *testing.T) {
	t.Parallel()
	fulcio, calls := fakeFulcio(t, 2)
	tsa, _ := statusServer(t, http.StatusInternalServerError)
	_, err := signWith(t, KeylessOptions{FulcioURL: fulcio.URL, TSAURLs: []string{tsa.URL}, Private: true})
	// Fulcio answered on the third attempt; the TSA then fails: the error names it, not Fulcio.
	if !errors.Is(err, ErrTSA) || errors.Is(err, ErrFulcio) {
		t.Fatalf("Sign() = %v, want a timestamp authority error", err)
	}
	if !strings.HasPrefix(err.Error(), "timestamp authority: ") {
		t.Errorf("error %q does not start with the service name", err)
	}
	if calls.Load() != 3 {
		t.Errorf("fulcio got %d requests, want 3 (500, 500, ok)", calls.Load())
	}
}

func TestSignNamesFailingService(t *testing.T) {
	t.Parallel()
	fulcio, _ := fakeFulcio(t, 0)
	down := func() string { s, _ := statusServer(t, 200); u := s.URL; s.Close(); return u }
	tests := []struct {
		name      string
		opts      func() (KeylessOptions, *atomic.Int32)
		wantErr   error
		wantCalls int32
	}{
		{name: "fulcio 500", wantErr: ErrFulcio, wantCalls: int32(fastRetry.Attempts), opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := statusServer(t, 500)
			return KeylessOptions{FulcioURL: s.URL, RekorURL: "http://127.0.0.1:1"}, c
		}},
		{name: "fulcio 401 not retried", wantErr: ErrFulcio, wantCalls: 1, opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := statusServer(t, 401)
			return KeylessOptions{FulcioURL: s.URL, RekorURL: "http://127.0.0.1:1"}, c
		}},
		{name: "fulcio down", wantErr: ErrFulcio, opts: func() (KeylessOptions, *atomic.Int32) {
			return KeylessOptions{FulcioURL: down(), RekorURL: "http://127.0.0.1:1"}, nil
		}},
		{name: "fulcio hangs", wantErr: ErrFulcio, wantCalls: int32(fastRetry.Attempts), opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := hangingServer(t)
			return KeylessOptions{FulcioURL: s.URL, RekorURL: "http://127.0.0.1:1"}, c
		}},
		{name: "tsa hangs", wantErr: ErrTSA, wantCalls: int32(fastRetry.Attempts), opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := hangingServer(t)
			return KeylessOptions{FulcioURL: fulcio.URL, TSAURLs: []string{s.URL}, Private: true}, c
		}},
		{name: "rekor v1 500", wantErr: ErrRekor, wantCalls: int32(fastRetry.Attempts), opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := statusServer(t, 500)
			return KeylessOptions{FulcioURL: fulcio.URL, RekorURL: s.URL}, c
		}},
		{name: "rekor v2 503", wantErr: ErrRekor, wantCalls: int32(fastRetry.Attempts), opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := statusServer(t, 503)
			tsa, _ := fakeTSA(t)
			return KeylessOptions{FulcioURL: fulcio.URL, RekorURL: s.URL, RekorVersion: 2, TSAURLs: []string{tsa.URL}}, c
		}},
		{name: "rekor v2 hangs", wantErr: ErrRekor, wantCalls: int32(fastRetry.Attempts), opts: func() (KeylessOptions, *atomic.Int32) {
			s, c := hangingServer(t)
			tsa, _ := fakeTSA(t)
			return KeylessOptions{FulcioURL: fulcio.URL, RekorURL: s.URL, RekorVersion: 2, TSAURLs: []string{tsa.URL}}, c
		}},
		{name: "rekor v1 down", wantErr: ErrRekor, opts: func() (KeylessOptions, *atomic.Int32) {
			return KeylessOptions{FulcioURL: fulcio.URL, RekorURL: down()}, nil
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts, calls := tt.opts()
			start := time.Now()
			_, err := signWith(t, opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Sign() = %v, want %v", err, tt.wantErr)
			}
			if !strings.HasPrefix(err.Error(), tt.wantErr.Error()+": ") {
				t.Errorf("error %q does not start with %q", err, tt.wantErr.Error()+": ")
			}
			if strings.Contains(err.Error(), fakeJWT) {
				t.Errorf("error reveals the token: %v", err)
			}
			if calls != nil && tt.wantCalls != 0 && calls.Load() != tt.wantCalls {
				t.Errorf("service got %d requests, want %d", calls.Load(), tt.wantCalls)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("Sign() took %v, want bounded retries", d)
			}
		})
	}
}

// fakeTSA answers with a syntactically valid RFC 3161 response from a VirtualSigstore (not over the
// request's digest: enough for sign.TimestampAuthority, which only parses it).
func fakeTSA(t testing.TB) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	vs := virtualSigstore(t)
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if _, err := io.Copy(io.Discard, r.Body); err != nil {
			return
		}
		resp, err := vs.TimestampResponse([]byte("sig"))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/timestamp-reply")
		w.Write(resp) //nolint:errcheck // test server
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func TestSignTokenErrorNamed(t *testing.T) {
	t.Parallel()
	fail := tokenFunc(func(context.Context) (string, error) { return "", errors.New("boom") })
	_, err := signWith(t, KeylessOptions{Token: fail, FulcioURL: "http://127.0.0.1:1"})
	if !errors.Is(err, ErrToken) || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Sign() = %v, want ErrToken wrapping boom", err)
	}
}

func TestSignRefusesOtherPayloadTypes(t *testing.T) {
	t.Parallel()
	k, err := NewKeyless(KeylessOptions{Token: staticToken(fakeJWT)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Sign(context.Background(), "text/plain", []byte("x")); err == nil {
		t.Error("Sign(text/plain) = nil error")
	}
}

func TestSignCancelledContextStopsRetries(t *testing.T) {
	t.Parallel()
	s, _ := hangingServer(t)
	k, err := NewKeyless(KeylessOptions{Token: staticToken(fakeJWT), FulcioURL: s.URL, RekorURL: "http://127.0.0.1:1",
		Retry: Retry{Attempts: 10, Timeout: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = k.Sign(ctx, intoto.PayloadType, []byte(statement))
	if !errors.Is(err, ErrFulcio) {
		t.Fatalf("Sign() = %v, want a fulcio error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Sign() took %v after the context ended", d)
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	r := Retry{Attempts: 5, Timeout: time.Second, Backoff: time.Second, MaxBackoff: 3 * time.Second}
	var got []time.Duration
	for n := 0; n < 4; n++ {
		got = append(got, r.Delay(n))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("delays mismatch (-want +got):\n%s", diff)
	}
}

// keyless chooses signing-config services by the API versions sigstore-go speaks, without linking its
// sign package; the lists must stay sigstore-go's.
func TestAPIVersionsAreSigstoreGos(t *testing.T) {
	for _, c := range []struct {
		name       string
		ours, them []uint32
	}{
		{"fulcio", keyless.FulcioAPIVersions, sign.FulcioAPIVersions},
		{"tsa", keyless.TimestampAuthorityAPIVersions, sign.TimestampAuthorityAPIVersions},
		{"rekor", keyless.RekorAPIVersions, sign.RekorAPIVersions},
	} {
		if !slices.Equal(c.ours, c.them) {
			t.Errorf("%s api versions: keyless has %v, sigstore-go %v", c.name, c.ours, c.them)
		}
	}
}
