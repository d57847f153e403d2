package sigstack

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"
)

// FaultMode is how a fault proxy answers.
type FaultMode int

const (
	Pass      FaultMode = iota // forward every request to the target
	Refuse                     // refuse connections (nothing listens on the port)
	Status500                  // answer 500 Internal Server Error
	Hang                       // accept and never answer (until the client gives up or the test ends)
	Garbage                    // answer 200 with a body that is neither JSON nor DER
)

func (m FaultMode) String() string {
	switch m {
	case Pass:
		return "pass"
	case Refuse:
		return "refuse"
	case Status500:
		return "status500"
	case Hang:
		return "hang"
	case Garbage:
		return "garbage"
	}
	return fmt.Sprintf("FaultMode(%d)", int(m))
}

// GarbageBody is what a Garbage proxy answers.
const GarbageBody = "\x00\xffnot json, not DER\x1b[0m{"

// FaultProxy returns a URL standing in for target (a base URL such as Stack.FulcioURL, or the TSA's
// full URL; the path of the request is kept) that misbehaves as mode says. It lives until the test ends.
func FaultProxy(tb testing.TB, target string, mode FaultMode) string {
	tb.Helper()
	if mode == Refuse {
		// A port nothing listens on: connections are refused by the kernel, as when a server is down.
		ports, err := freePorts(1)
		if err != nil {
			tb.Fatalf("fault proxy: %v", err)
		}
		p := &Proxy{base: "http://127.0.0.1:" + ports[0]}
		return p.URL(target)
	}
	return StartProxy(tb, target, mode).URL(target)
}

// Proxy is a fault proxy whose mode can change during a test.
type Proxy struct {
	base    string // http://127.0.0.1:PORT
	target  *url.URL
	mu      sync.Mutex
	mode    FaultMode
	srv     *http.Server
	release chan struct{} // closed at the end of the test to free hanging handlers
	seen    []string      // "METHOD /path" of every request received, in order
}

// StartProxy starts a fault proxy in front of target's scheme and host.
func StartProxy(tb testing.TB, target string, mode FaultMode) *Proxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatalf("fault proxy target %q: %v", target, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("fault proxy listen: %v", err)
	}
	p := &Proxy{
		base:    "http://" + ln.Addr().String(),
		target:  &url.URL{Scheme: u.Scheme, Host: u.Host},
		mode:    mode,
		release: make(chan struct{}),
	}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) { r.SetURL(p.target) }}
	p.srv = &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.seen = append(p.seen, r.Method+" "+r.URL.Path)
		p.mu.Unlock()
		switch p.Mode() {
		case Pass:
			rp.ServeHTTP(w, r)
		case Status500:
			http.Error(w, "injected fault", http.StatusInternalServerError)
		case Hang:
			select {
			case <-r.Context().Done():
			case <-p.release:
			}
		case Garbage:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, GarbageBody) //nolint:errcheck // the client may hang up
		case Refuse:
			// Only reached by a connection accepted before the mode changed.
			if hj, ok := w.(http.Hijacker); ok {
				if c, _, err := hj.Hijack(); err == nil {
					c.Close() //nolint:errcheck // dropping it is the point
				}
			}
		}
	})}
	ln = &refusingListener{Listener: ln, p: p}
	go p.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed after Close
	tb.Cleanup(func() {
		close(p.release)
		if err := p.srv.Close(); err != nil {
			tb.Errorf("close fault proxy: %v", err)
		}
	})
	return p
}

// URL returns the proxy's URL for target: target with its scheme and host replaced by the proxy's.
func (p *Proxy) URL(target string) string {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return p.base
	}
	return p.base + u.EscapedPath()
}

// Mode returns the current mode.
func (p *Proxy) Mode() FaultMode {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.mode
}

// Requests returns "METHOD /path" of every request the proxy has received so far, in order (a
// refused connection is no request).
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.seen)
}

// SetMode changes how later requests are answered.
func (p *Proxy) SetMode(m FaultMode) {
	p.mu.Lock()
	p.mode = m
	p.mu.Unlock()
}

// refusingListener closes connections at once (a reset, like a refused connection) in Refuse mode.
type refusingListener struct {
	net.Listener
	p *Proxy
}

func (l *refusingListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.p.Mode() != Refuse {
			return c, nil
		}
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) //nolint:errcheck // best effort: send RST rather than FIN
		}
		c.Close() //nolint:errcheck // refusing is the point
	}
}
