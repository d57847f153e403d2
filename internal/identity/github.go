package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
)

// github fetches a token from the GitHub Actions OIDC endpoint:
// GET $ACTIONS_ID_TOKEN_REQUEST_URL&audience=sigstore with "Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN",
// answered with {"value": "<jwt>"}.
type github struct {
	url          string
	requestToken string
	client       *http.Client
	retry        Retry
	log          *slog.Logger
}

func newGitHub(reqURL, reqToken string, opts Options) (*github, error) {
	u, err := url.Parse(reqURL)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", EnvGitHubRequestURL, err)
	}
	aud := opts.Audience
	if aud == "" {
		aud = DefaultAudience
	}
	q := u.Query()
	q.Set("audience", aud)
	u.RawQuery = q.Encode()
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &github{url: u.String(), requestToken: reqToken, client: client, retry: opts.Retry.Or(retryDefaults()), log: log}, nil
}

func (g *github) Name() string { return "github-actions" }

// String keeps the request token out of %v formatting.
func (g *github) String() string { return "identity source github-actions" }

// permanent marks an answer that retrying cannot change (4xx, malformed body).
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

func (g *github) Token(ctx context.Context) (string, error) {
	var last error
	for n := 0; n < g.retry.Attempts; n++ {
		if n > 0 {
			d := g.retry.Delay(n - 1)
			g.log.Debug("retrying github oidc token request", "attempt", n+1, "backoff", d, "error", last)
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return "", fmt.Errorf("github actions oidc token request: %w (after: %w)", ctx.Err(), last)
			case <-t.C:
			}
		}
		tok, err := g.once(ctx)
		if err == nil {
			return tok, nil
		}
		last = err
		if errors.As(err, new(permanent)) || ctx.Err() != nil {
			break
		}
	}
	return "", fmt.Errorf("github actions oidc token request: %w", last)
}

func (g *github) once(ctx context.Context) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, g.retry.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.url, nil)
	if err != nil {
		return "", permanent{err}
	}
	req.Header.Set("Authorization", "bearer "+g.requestToken)
	req.Header.Set("Accept", "application/json")
	resp, err := g.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", fmt.Errorf("read response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		// An error body holds no token; keep a short excerpt for diagnosis.
		err := fmt.Errorf("http %d: %s", resp.StatusCode, excerpt(body))
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return "", err
		}
		return "", permanent{err}
	}
	var v struct {
		Value string `json:"value"`
	}
	// A successful body holds the token: never quote it in an error.
	if err := json.Unmarshal(body, &v); err != nil {
		return "", permanent{errors.New("response is not json")}
	}
	if v.Value == "" {
		return "", permanent{errors.New("response has no token value")}
	}
	return v.Value, nil
}

// excerpt quotes the start of a server's reply in an error, with anything unprintable (newlines, escape
// sequences that could forge log lines or CI workflow commands) replaced.
func excerpt(b []byte) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(b), "?"))
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsPrint(r) {
			return r
		}
		return '?'
	}, s)
}
