package sigstack

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	_ "embed" // the Fulcio config
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/testutil/oidc"
)

//go:embed testdata/fulcio-config.yaml
var fulcioConfig string

// The issuer URLs written in testdata/fulcio-config.yaml; Start replaces them with the real ones.
const (
	configGitHubIssuer = "http://127.0.0.1:8090"
	configGitLabIssuer = "http://127.0.0.1:8091"
)

// RekorOrigin is the Rekor v2 log's hostname: the checkpoint origin its log id is derived from.
// sigstore-go verifies a Rekor v2 checkpoint against the hostname of the log's baseUrl in the trusted
// root, so the origin must be the host the log is served on.
const RekorOrigin = "127.0.0.1"

// AllowHostEnv set to 1 lets the stack start outside an isolated network namespace (local development).
const AllowHostEnv = "INTOTO_CI_ALLOW_HOST_STACK"

// startTimeout bounds the wait for every server to answer.
const startTimeout = 60 * time.Second

// Stack is a running loopback Sigstore stack.
type Stack struct {
	FulcioURL string // Fulcio base URL (sign.FulcioOptions.BaseURL)
	RekorURL  string // Rekor v2 base URL (sign.RekorOptions.BaseURL, Version 2)
	TSAURL    string // full timestamp endpoint, …/api/v1/timestamp (sign.TimestampAuthorityOptions.URL)

	TrustedRootPath   string // trusted_root.json: Fulcio CA, TSA chain, Rekor v2 key; no CT log
	SigningConfigPath string // signing_config.json, media type v0.2
	// RekorPublicKeyPath is the Rekor v2 log's public key (PKIX PEM), as its operator would publish it.
	RekorPublicKeyPath string

	GitHub *oidc.Issuer // treated by Fulcio as GitHub Actions
	GitLab *oidc.Issuer // treated by Fulcio as GitLab CI

	Dir string // working directory: configs, keys, logs (<name>.log), Rekor tiles

	shared bool
	tsa    *unixProxy

	mu    sync.Mutex
	procs map[string]*proc
}

// Start starts a stack of the test's own and stops it when the test ends. Only one stack can run per
// network namespace at a time when the TSA cannot be put in a namespace of its own (see doc); prefer
// Shared unless the test stops services.
func Start(tb testing.TB) *Stack {
	tb.Helper()
	requireEnvironment(tb)
	t0 := time.Now()
	s, err := start()
	if err != nil {
		tb.Fatalf("start sigstore stack: %v", err)
	}
	tb.Logf("sigstore stack up in %s (dir %s)", time.Since(t0).Round(time.Millisecond), s.Dir)
	tb.Cleanup(func() {
		if err := s.stop(); err != nil {
			tb.Errorf("stop sigstore stack: %v", err)
		}
	})
	return s
}

var shared struct {
	once  sync.Once
	stack *Stack
	err   error
}

// Shared returns the stack shared by all tests of this test binary, starting it on first use. It is never
// stopped: its servers die with the test binary (they run with Pdeathsig SIGKILL). Tests must not stop
// its services; use Start for fault tests.
func Shared(tb testing.TB) *Stack {
	tb.Helper()
	requireEnvironment(tb)
	shared.once.Do(func() {
		t0 := time.Now()
		shared.stack, shared.err = start()
		if shared.stack != nil {
			shared.stack.shared = true
			tb.Logf("shared sigstore stack up in %s (dir %s)", time.Since(t0).Round(time.Millisecond), shared.stack.Dir)
		}
	})
	if shared.err != nil {
		tb.Fatalf("start shared sigstore stack: %v", shared.err)
	}
	return shared.stack
}

// requireEnvironment skips the test (fails it when CI=true) when the stack cannot or must not run here.
func requireEnvironment(tb testing.TB) {
	tb.Helper()
	reason := unavailable()
	if reason == "" {
		return
	}
	if ci, err := strconv.ParseBool(os.Getenv("CI")); err == nil && ci {
		tb.Fatalf("sigstore stack unavailable under CI: %s", reason)
	}
	tb.Skipf("sigstore stack unavailable: %s", reason)
}

func unavailable() string {
	for _, b := range binaries {
		if _, err := binPath(b); err != nil {
			return err.Error()
		}
	}
	ifaces, err := net.Interfaces()
	if err != nil {
		return fmt.Sprintf("list network interfaces: %v", err)
	}
	loUp := false
	var others []string
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagLoopback != 0 {
			loUp = loUp || ifc.Flags&net.FlagUp != 0
			continue
		}
		others = append(others, ifc.Name)
	}
	if !loUp {
		return "loopback interface is down (run `ip link set lo up` in the namespace)"
	}
	if len(others) > 0 && os.Getenv(AllowHostEnv) != "1" {
		return fmt.Sprintf("not inside an isolated network namespace (interfaces %s); run the tests under "+
			"`unshare -n sh -c 'ip link set lo up; go test …'` or set %s=1",
			strings.Join(others, ", "), AllowHostEnv)
	}
	return ""
}

func start() (s *Stack, err error) {
	dir, err := makeDir()
	if err != nil {
		return nil, err
	}
	s = &Stack{Dir: dir, procs: map[string]*proc{}}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.stop())
			s = nil
		}
	}()

	// The issuers and the Rekor key come first: Fulcio's config and the trusted root need them.
	if s.GitHub, err = oidc.New("127.0.0.1:0"); err != nil {
		return s, err
	}
	if s.GitLab, err = oidc.New("127.0.0.1:0"); err != nil {
		return s, err
	}
	rekorPub, rekorKeyPath, err := writeRekorKey(dir)
	if err != nil {
		return s, err
	}
	s.RekorPublicKeyPath = filepath.Join(dir, "rekor-ed25519.pub")

	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Add(3)
	go func() { defer wg.Done(); errs[0] = s.startFulcio() }()
	go func() { defer wg.Done(); errs[1] = s.startTSA() }()
	go func() { defer wg.Done(); errs[2] = s.startRekor(rekorKeyPath) }()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return s, err
	}
	if err := s.writeTrust(rekorPub); err != nil {
		return s, err
	}
	return s, nil
}

// makeDir creates the stack's working directory under the system temp dir (short: Fulcio's unix socket
// path must fit in 108 bytes) and removes those left behind by test binaries that have exited.
func makeDir() (string, error) {
	const prefix = "intoto-ci-sigstack-"
	old, err := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	if err != nil {
		return "", fmt.Errorf("list old stack dirs: %w", err)
	}
	for _, d := range old {
		pid, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(d), prefix), "-")
		if _, err := os.Stat(filepath.Join("/proc", pid)); errors.Is(err, os.ErrNotExist) {
			if err := os.RemoveAll(d); err != nil {
				return "", fmt.Errorf("remove stale stack dir: %w", err)
			}
		}
	}
	dir, err := os.MkdirTemp("", prefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return "", fmt.Errorf("create stack dir: %w", err)
	}
	return dir, nil
}

func writeRekorKey(dir string) (ed25519.PublicKey, string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, "", fmt.Errorf("generate rekor key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, "", fmt.Errorf("marshal rekor key: %w", err)
	}
	path := filepath.Join(dir, "rekor-ed25519.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		return nil, "", fmt.Errorf("write rekor key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, "", fmt.Errorf("marshal rekor public key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rekor-ed25519.pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, "", fmt.Errorf("write rekor public key: %w", err)
	}
	return pub, path, nil
}

func (s *Stack) startFulcio() error {
	cfg := strings.NewReplacer(configGitHubIssuer, s.GitHub.URL, configGitLabIssuer, s.GitLab.URL).Replace(fulcioConfig)
	cfgPath := filepath.Join(s.Dir, "fulcio-config.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		return fmt.Errorf("write fulcio config: %w", err)
	}
	return retry(func() error {
		ports, err := freePorts(3)
		if err != nil {
			return err
		}
		sock := filepath.Join(s.Dir, "fulcio-legacy.sock")
		if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale fulcio socket: %w", err)
		}
		url := "http://127.0.0.1:" + ports[0]
		p, err := s.launch("fulcio", false, "serve", "--ca", "ephemeralca", "--config-path", cfgPath,
			"--ct-log-url", "", "--host", "127.0.0.1", "--port", ports[0],
			"--grpc-host", "127.0.0.1", "--grpc-port", ports[1], "--metrics-port", ports[2],
			"--legacy-unix-domain-socket", sock, "--log_type", "prod")
		if err != nil {
			return err
		}
		if err := waitReady(p, url+"/api/v2/trustBundle"); err != nil {
			return err
		}
		s.FulcioURL = url
		return nil
	})
}

func (s *Stack) startRekor(keyPath string) error {
	return retry(func() error {
		ports, err := freePorts(3)
		if err != nil {
			return err
		}
		storage := filepath.Join(s.Dir, "rekor-tiles")
		if err := os.RemoveAll(storage); err != nil {
			return fmt.Errorf("reset rekor storage: %w", err)
		}
		if err := os.MkdirAll(storage, 0o700); err != nil {
			return fmt.Errorf("create rekor storage: %w", err)
		}
		url := "http://127.0.0.1:" + ports[0]
		// An upload waits for the next checkpoint; rekor-tiles polls for it every second (hard-wired),
		// so an entry takes about 1 s whatever the interval; a short one keeps it from taking 2.
		p, err := s.launch("posix", false, "serve", "--http-address", "127.0.0.1", "--http-port", ports[0],
			"--grpc-address", "127.0.0.1", "--grpc-port", ports[1], "--http-metrics-port", ports[2],
			"--hostname", RekorOrigin, "--storage-dir", storage, "--signer-filepath", keyPath,
			"--checkpoint-interval", "200ms", "--batch-max-age", "50ms", "--log-level", "warn")
		if err != nil {
			return err
		}
		if err := waitReady(p, url+"/healthz"); err != nil {
			return err
		}
		s.RekorURL = url
		return nil
	})
}

// startTSA runs the timestamp-server in a network namespace of its own, serving on a unix socket that an
// in-process proxy exposes on a loopback port: its metrics listener is hard-wired to :2112 on every
// interface, which would otherwise clash between test binaries running at once (and leave loopback).
// Without the privilege to create a namespace it falls back to plain TCP.
func (s *Stack) startTSA() error {
	return retry(func() error {
		sock := filepath.Join(s.Dir, "tsa.sock")
		if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale tsa socket: %w", err)
		}
		common := []string{"serve", "--timestamp-signer", "memory", "--disable-ntp-monitoring",
			"--log-type", "prod"}
		p, err := s.launch("timestamp-server", true, append(common, "--scheme", "unix", "--socket-path", sock)...)
		if err == nil {
			px, err := newUnixProxy(sock)
			if err != nil {
				return err
			}
			base := px.URL
			if err := waitReady(p, base+"/api/v1/timestamp/certchain"); err != nil {
				return errors.Join(err, px.Close())
			}
			s.tsa = px
			s.TSAURL = base + "/api/v1/timestamp"
			return nil
		}
		if !errors.Is(err, errNoNetns) {
			return err
		}
		ports, err := freePorts(1)
		if err != nil {
			return err
		}
		base := "http://127.0.0.1:" + ports[0]
		p, err = s.launch("timestamp-server", false, append(common, "--host", "127.0.0.1", "--port", ports[0])...)
		if err != nil {
			return err
		}
		if err := waitReady(p, base+"/api/v1/timestamp/certchain"); err != nil {
			return err
		}
		s.TSAURL = base + "/api/v1/timestamp"
		return nil
	})
}

// StopFulcio kills the Fulcio server: later requests to FulcioURL are refused.
func (s *Stack) StopFulcio(tb testing.TB) { tb.Helper(); s.stopService(tb, "fulcio") }

// StopRekor kills the Rekor server: later requests to RekorURL are refused.
func (s *Stack) StopRekor(tb testing.TB) { tb.Helper(); s.stopService(tb, "posix") }

// StopTSA kills the timestamp authority: later requests to TSAURL are refused.
func (s *Stack) StopTSA(tb testing.TB) {
	tb.Helper()
	s.stopService(tb, "timestamp-server")
	if px := s.tsa; px != nil {
		s.tsa = nil
		if err := px.Close(); err != nil {
			tb.Fatalf("stop tsa proxy: %v", err)
		}
	}
}

func (s *Stack) stopService(tb testing.TB, name string) {
	tb.Helper()
	if s.shared {
		tb.Fatalf("stop %s: the shared stack is used by other tests; start one with sigstack.Start", name)
	}
	s.mu.Lock()
	p := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if p == nil {
		return
	}
	if err := p.kill(); err != nil {
		tb.Fatalf("stop %s: %v", name, err)
	}
}

// stop kills every process the stack started, closes the issuers and removes Dir.
func (s *Stack) stop() error {
	s.mu.Lock()
	procs := s.procs
	s.procs = map[string]*proc{}
	s.mu.Unlock()
	var errs []error
	for _, p := range procs {
		errs = append(errs, p.kill())
	}
	if s.tsa != nil {
		errs = append(errs, s.tsa.Close())
	}
	for _, iss := range []*oidc.Issuer{s.GitHub, s.GitLab} {
		if iss != nil {
			errs = append(errs, iss.Close())
		}
	}
	errs = append(errs, os.RemoveAll(s.Dir))
	return errors.Join(errs...)
}

// Logs returns the tail of a server's log ("fulcio", "timestamp-server", "posix") for failure messages.
func (s *Stack) Logs(name string) string {
	return tail(filepath.Join(s.Dir, name+".log"))
}

// retry runs a server start up to three times: free ports are picked before the child binds them, so
// another process may take one in between.
func retry(f func() error) error {
	var errs []error
	for range 3 {
		err := f()
		if err == nil {
			return nil
		}
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func freePorts(n int) ([]string, error) {
	var ports []string
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close() //nolint:errcheck // only reserving a number
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return ports, nil
}

// waitReady polls url until it answers 200, the process exits, or startTimeout passes.
func waitReady(p *proc, url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	var last error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("%s readiness request: %w", p.name, err)
		}
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close() //nolint:errcheck // status is all we need
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			last = fmt.Errorf("GET %s: %s", url, resp.Status)
		} else {
			last = err
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready (%w); log:\n%s", p.name, p.waitErr, tail(p.log))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %w; log:\n%s", p.name, startTimeout, last, tail(p.log))
		case <-tick.C:
		}
	}
}
