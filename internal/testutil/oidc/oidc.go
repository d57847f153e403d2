package oidc

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Audience is the audience Mint puts in a token when the claims name none (Fulcio's client id).
const Audience = "sigstore"

// Lifetime is how long a minted token is valid when the claims set no "exp".
const Lifetime = 10 * time.Minute

// Issuer is a running OIDC issuer on loopback.
type Issuer struct {
	// URL is the issuer URL (the "iss" claim), e.g. http://127.0.0.1:8090.
	URL string

	key    *rsa.PrivateKey
	kid    string
	srv    *http.Server
	served chan error

	mu       sync.Mutex
	requests map[string]map[string]any // request bearer token -> claims served to it
}

// Start starts an issuer listening on addr ("127.0.0.1:0" for any free port) and stops it when the test
// ends.
func Start(tb testing.TB, addr string) *Issuer {
	tb.Helper()
	iss, err := New(addr)
	if err != nil {
		tb.Fatalf("start oidc issuer: %v", err)
	}
	tb.Cleanup(func() {
		if err := iss.Close(); err != nil {
			tb.Errorf("close oidc issuer: %v", err)
		}
	})
	return iss
}

// New starts an issuer listening on addr; the caller calls Close. Prefer Start in tests.
func New(addr string) (*Issuer, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate rsa key: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	sum := sha256.Sum256(key.N.Bytes())
	iss := &Issuer{
		URL:      "http://" + ln.Addr().String(),
		key:      key,
		kid:      hex.EncodeToString(sum[:8]),
		requests: map[string]map[string]any{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", iss.discovery)
	mux.HandleFunc("GET /jwks", iss.jwks)
	mux.HandleFunc("GET /token", iss.token)
	iss.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	iss.served = make(chan error, 1)
	go func() { iss.served <- iss.srv.Serve(ln) }()
	return iss, nil
}

// Close stops the issuer.
func (i *Issuer) Close() error {
	if err := i.srv.Close(); err != nil {
		return fmt.Errorf("close oidc issuer %s: %w", i.URL, err)
	}
	if err := <-i.served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("oidc issuer %s: %w", i.URL, err)
	}
	return nil
}

// Mint returns a signed RS256 JWT carrying claims. "iss", "aud" (Audience), "iat", "nbf" and "exp"
// (now+Lifetime) are added when absent; a claim whose value is nil is left out of the token, so
// Mint(map[string]any{"aud": nil}) gives a token without an audience.
func (i *Issuer) Mint(claims map[string]any) string {
	now := time.Now()
	all := map[string]any{
		"iss": i.URL,
		"aud": Audience,
		"iat": now.Unix(),
		"nbf": now.Add(-5 * time.Second).Unix(),
		"exp": now.Add(Lifetime).Unix(),
	}
	for k, v := range claims {
		if v == nil {
			delete(all, k)
			continue
		}
		all[k] = v
	}
	header := map[string]any{"alg": "RS256", "typ": "JWT", "kid": i.kid}
	signingInput := b64JSON(header) + "." + b64JSON(all)
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := rsa.SignPKCS1v15(rand.Reader, i.key, crypto.SHA256, digest[:])
	if err != nil {
		panic(fmt.Sprintf("sign jwt: %v", err)) // cannot happen with a valid in-memory key
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TokenRequest registers claims with the GitHub Actions style token endpoint and returns what a runner
// would put in ACTIONS_ID_TOKEN_REQUEST_URL (it already carries a query, so clients append
// "&audience=…") and ACTIONS_ID_TOKEN_REQUEST_TOKEN. A GET of url+"&audience=A" with header
// "Authorization: bearer TOKEN" answers {"value": jwt} where jwt is Mint(claims) with "aud" = A.
func (i *Issuer) TokenRequest(claims map[string]any) (url, token string) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(fmt.Sprintf("random request token: %v", err))
	}
	token = hex.EncodeToString(b[:])
	i.mu.Lock()
	i.requests[token] = claims
	i.mu.Unlock()
	return i.URL + "/token?api-version=2.0", token
}

func (i *Issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer":                                i.URL,
		"jwks_uri":                              i.URL + "/jwks",
		"authorization_endpoint":                i.URL + "/authorize",
		"token_endpoint":                        i.URL + "/token",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf"},
	})
}

func (i *Issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	pub := i.key.PublicKey
	writeJSON(w, map[string]any{"keys": []any{map[string]any{
		"kty": "RSA",
		"alg": "RS256",
		"use": "sig",
		"kid": i.kid,
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
	}}})
}

func (i *Issuer) token(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	scheme, bearer, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		http.Error(w, "missing bearer token", http.StatusUnauthorized)
		return
	}
	i.mu.Lock()
	claims, ok := i.requests[bearer]
	i.mu.Unlock()
	if !ok {
		http.Error(w, "unknown bearer token", http.StatusUnauthorized)
		return
	}
	all := map[string]any{}
	for k, v := range claims {
		all[k] = v
	}
	if aud := r.URL.Query().Get("audience"); aud != "" {
		all["aud"] = aud
	}
	writeJSON(w, map[string]any{"count": 1, "value": i.Mint(all)})
}

func b64JSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("marshal jwt part: %v", err)) // claims are test-provided JSON values
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		return // the client went away; nothing useful to do in a test server
	}
}
