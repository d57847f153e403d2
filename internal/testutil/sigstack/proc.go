package sigstack

import (
	"context"
	"errors"
	"fmt"
	"go/build"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// binaries are the servers .ci/setup installs.
var binaries = []string{"fulcio", "timestamp-server", "posix"}

// errNoNetns: this process may not create a network namespace for a child.
var errNoNetns = errors.New("cannot create a network namespace")

// binPath finds a server binary on PATH, in GOBIN or in GOPATH/bin.
func binPath(name string) (string, error) {
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	var dirs []string
	if gobin := os.Getenv("GOBIN"); gobin != "" {
		dirs = append(dirs, gobin)
	}
	for _, gp := range filepath.SplitList(build.Default.GOPATH) {
		dirs = append(dirs, filepath.Join(gp, "bin"))
	}
	for _, d := range dirs {
		p := filepath.Join(d, name)
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s not found on PATH or in %s (run .ci/setup)", name, strings.Join(dirs, ", "))
}

// proc is a server child process.
type proc struct {
	name    string
	cmd     *exec.Cmd
	log     string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
}

// launch starts a server binary with its output in Dir/<name>.log. The child gets SIGKILL when the
// test binary dies, so no stack outlives its tests. With netns it runs in a new, empty network
// namespace. A process of the same name started earlier (a failed attempt) is killed first.
func (s *Stack) launch(name string, netns bool, args ...string) (*proc, error) {
	s.mu.Lock()
	old := s.procs[name]
	delete(s.procs, name)
	s.mu.Unlock()
	if old != nil {
		if err := old.kill(); err != nil {
			return nil, err
		}
	}
	bin, err := binPath(name)
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(s.Dir, name+".log")
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s log: %w", name, err)
	}
	defer logf.Close() //nolint:errcheck // the child holds its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if netns {
		cmd.SysProcAttr.Cloneflags = syscall.CLONE_NEWNET
	}
	if err := cmd.Start(); err != nil {
		if netns && (errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EINVAL)) {
			return nil, fmt.Errorf("start %s: %w: %w", name, errNoNetns, err)
		}
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	s.mu.Lock()
	s.procs[name] = p
	s.mu.Unlock()
	return p, nil
}

// kill sends SIGKILL to the process by its PID and waits for it to exit.
func (p *proc) kill() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, p.cmd.Process.Pid, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("%s (pid %d) did not exit after SIGKILL", p.name, p.cmd.Process.Pid)
	}
}

// tail returns the last lines of a log file.
func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

// unixProxy exposes an HTTP server listening on a unix socket at a loopback URL.
type unixProxy struct {
	URL string
	srv *http.Server
	ln  net.Listener
}

func newUnixProxy(sock string) (*unixProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for unix socket proxy: %w", err)
	}
	target := &url.URL{Scheme: "http", Host: "unix"}
	rp := &httputil.ReverseProxy{
		// Until the server creates its socket, readiness polls fail; the proxy answers 502 quietly.
		ErrorLog: log.New(io.Discard, "", 0),
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = r.In.Host
		},
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			},
		},
	}
	px := &unixProxy{URL: "http://" + ln.Addr().String(), ln: ln, srv: &http.Server{Handler: rp, ReadHeaderTimeout: 10 * time.Second}}
	go px.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed after Close
	return px, nil
}

// Close stops the proxy: later connections are refused.
func (p *unixProxy) Close() error {
	if err := p.srv.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close unix socket proxy: %w", err)
	}
	return nil
}
