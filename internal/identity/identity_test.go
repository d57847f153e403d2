package identity

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const fakeJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"

// fastRetry keeps retry tests quick.
var fastRetry = Retry{Attempts: 3, Timeout: 500 * time.Millisecond, Backoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond}

func noK8s(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "absent-token")
}

func TestDetect(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tok")
	if err := os.WriteFile(tokFile, []byte(fakeJWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	gh := map[string]string{EnvGitHubRequestURL: "http://127.0.0.1:1/token?api-version=2.0", EnvGitHubRequestToken: "req"}
	all := map[string]string{EnvGitHubRequestURL: "http://127.0.0.1:1/token", EnvGitHubRequestToken: "req", EnvSigstoreIDToken: fakeJWT}
	tests := []struct {
		name     string
		env      map[string]string
		opts     Options
		wantName string
		wantErr  error
	}{
		{name: "explicit wins over all", env: all, opts: Options{Token: fakeJWT, TokenFile: tokFile}, wantName: "explicit"},
		{name: "token file wins over env", env: all, opts: Options{TokenFile: tokFile}, wantName: "token-file"},
		{name: "named variable", env: map[string]string{"MY_TOKEN": fakeJWT}, opts: Options{TokenEnv: "MY_TOKEN"}, wantName: "env:MY_TOKEN"},
		{name: "named variable missing", env: all, opts: Options{TokenEnv: "MY_TOKEN"}, wantErr: ErrNoToken},
		{name: "github before gitlab", env: all, wantName: "github-actions"},
		{name: "github", env: gh, wantName: "github-actions"},
		{name: "gitlab", env: map[string]string{EnvSigstoreIDToken: fakeJWT}, wantName: "gitlab"},
		{name: "github half set falls through to gitlab", env: map[string]string{EnvGitHubRequestURL: "http://x", EnvSigstoreIDToken: fakeJWT}, wantName: "gitlab"},
		{name: "kubernetes file", env: nil, opts: Options{KubernetesTokenPath: tokFile}, wantName: "kubernetes"},
		{name: "nothing", env: nil, wantErr: ErrNoToken},
		{name: "github half set", env: map[string]string{EnvGitHubRequestToken: "req"}, wantErr: ErrNoToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.opts.KubernetesTokenPath == "" {
				tt.opts.KubernetesTokenPath = noK8s(t)
			}
			src, err := Detect(MapEnv(tt.env), tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Detect() error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect() error = %v", err)
			}
			if src.Name() != tt.wantName {
				t.Errorf("Detect().Name() = %q, want %q", src.Name(), tt.wantName)
			}
		})
	}
}

func TestStaticAndFileTokens(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	f := filepath.Join(dir, "tok")
	if err := os.WriteFile(f, []byte("  "+fakeJWT+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, opts := range []Options{{Token: fakeJWT}, {TokenFile: f}} {
		src, err := Detect(MapEnv(nil), opts)
		if err != nil {
			t.Fatal(err)
		}
		tok, err := src.Token(ctx)
		if err != nil || tok != fakeJWT {
			t.Errorf("%s: Token() = %q, %v; want the token", src.Name(), tok, err)
		}
		if s := fmt.Sprintf("%v %+v %s", src, src, src); strings.Contains(s, fakeJWT) {
			t.Errorf("%s: formatting the source reveals the token: %s", src.Name(), s)
		}
	}
	// A rotated file is re-read.
	src, err := Detect(MapEnv(nil), Options{TokenFile: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, []byte("rotated"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := src.Token(ctx); err != nil || tok != "rotated" {
		t.Errorf("Token() after rotation = %q, %v; want rotated", tok, err)
	}
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Token(ctx); !errors.Is(err, ErrNoToken) {
		t.Errorf("Token() of empty file = %v, want ErrNoToken", err)
	}
}

// githubServer is a loopback stand-in for the GitHub Actions token endpoint. failures answers the
// first n requests with status fail.
func githubServer(t testing.TB, failures int32, fail int) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		if r.Header.Get("Authorization") != "bearer req-token" {
			http.Error(w, "bad request token", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("audience") != "sigstore" || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, "bad query "+r.URL.RawQuery, http.StatusBadRequest)
			return
		}
		if n <= failures {
			http.Error(w, "try again", fail)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"count":1,"value":%q}`, fakeJWT)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

func ghSource(t testing.TB, url, reqTok string) Source {
	t.Helper()
	src, err := Detect(MapEnv(map[string]string{
		EnvGitHubRequestURL:   url + "/token?api-version=2.0",
		EnvGitHubRequestToken: reqTok,
	}), Options{Retry: fastRetry, KubernetesTokenPath: noK8s(t)})
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func TestGitHubToken(t *testing.T) {
	t.Parallel()
	srv, calls := githubServer(t, 0, 0)
	tok, err := ghSource(t, srv.URL, "req-token").Token(context.Background())
	if err != nil || tok != fakeJWT {
		t.Fatalf("Token() = %q, %v; want the token", tok, err)
	}
	if calls.Load() != 1 {
		t.Errorf("got %d requests, want 1", calls.Load())
	}
}

func TestGitHubRetriesServerErrors(t *testing.T) {
	t.Parallel()
	srv, calls := githubServer(t, 2, http.StatusInternalServerError)
	tok, err := ghSource(t, srv.URL, "req-token").Token(context.Background())
	if err != nil || tok != fakeJWT {
		t.Fatalf("Token() = %q, %v; want the token after retries", tok, err)
	}
	if calls.Load() != 3 {
		t.Errorf("got %d requests, want 3 (500, 500, ok)", calls.Load())
	}
}

func TestGitHubGivesUp(t *testing.T) {
	t.Parallel()
	srv, calls := githubServer(t, 100, http.StatusBadGateway)
	_, err := ghSource(t, srv.URL, "req-token").Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "http 502") {
		t.Fatalf("Token() error = %v, want http 502", err)
	}
	if calls.Load() != int32(fastRetry.Attempts) {
		t.Errorf("got %d requests, want %d", calls.Load(), fastRetry.Attempts)
	}
}

func TestGitHubDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	srv, calls := githubServer(t, 0, 0)
	_, err := ghSource(t, srv.URL, "wrong").Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "http 401") {
		t.Fatalf("Token() error = %v, want http 401", err)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error reveals the request token: %v", err)
	}
	if calls.Load() != 1 {
		t.Errorf("got %d requests, want 1 (4xx is final)", calls.Load())
	}
}

func TestGitHubNetworkErrorRetried(t *testing.T) {
	t.Parallel()
	srv, _ := githubServer(t, 0, 0)
	url := srv.URL
	srv.Close() // connection refused on every attempt
	start := time.Now()
	_, err := ghSource(t, url, "req-token").Token(context.Background())
	if err == nil {
		t.Fatal("Token() = nil error against a closed server")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("gave up after %v, want bounded retries", time.Since(start))
	}
}

func TestGitHubHangingServerTimesOut(t *testing.T) {
	t.Parallel()
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
	start := time.Now()
	_, err := ghSource(t, srv.URL, "req-token").Token(context.Background())
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Token() error = %v, want a deadline", err)
	}
	if d := time.Since(start); d > time.Duration(fastRetry.Attempts)*fastRetry.Timeout+10*time.Second {
		t.Errorf("took %v, want about %d × %v", d, fastRetry.Attempts, fastRetry.Timeout)
	}
	if calls.Load() != int32(fastRetry.Attempts) {
		t.Errorf("got %d attempts, want %d", calls.Load(), fastRetry.Attempts)
	}
}

func TestGitHubMalformedAnswerHidesBody(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"value": "`+fakeJWT) // truncated JSON holding a token
	}))
	t.Cleanup(srv.Close)
	_, err := ghSource(t, srv.URL, "req-token").Token(context.Background())
	if err == nil {
		t.Fatal("Token() = nil error for malformed json")
	}
	if strings.Contains(err.Error(), fakeJWT) {
		t.Errorf("error reveals the token: %v", err)
	}
}

func TestGitHubCustomAudience(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"value":%q}`, r.URL.Query().Get("audience"))
	}))
	t.Cleanup(srv.Close)
	src, err := Detect(MapEnv(map[string]string{EnvGitHubRequestURL: srv.URL + "/t?x=1", EnvGitHubRequestToken: "r"}),
		Options{Audience: "other", KubernetesTokenPath: noK8s(t)})
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := src.Token(context.Background()); err != nil || tok != "other" {
		t.Errorf("audience sent = %q, %v; want other", tok, err)
	}
}
