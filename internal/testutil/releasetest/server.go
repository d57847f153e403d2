package releasetest

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
)

// githubPath is where GitHub serves a repository's release assets: the action downloads from
// GITHUB_SERVER_URL/<action repository>/releases/download/<version>/<asset>.
const githubPath = "intoto-ci/intoto-ci/releases/download/"

// Server serves a release on loopback, as GitHub's release downloads or a mirror would, for the tests
// that install from it (test/act, test/gitlab). Paths, where <release> is either <version>/<asset>
// (a mirror's layout) or intoto-ci/intoto-ci/releases/download/<version>/<asset> (GitHub's):
//
//	/<release>           the release as built (checksums.txt included)
//	/tampered/<release>  the same, every intoto-ci archive replaced by the tampered one
//	/missing/<release>   checksums.txt only; every archive 404
//
// Anything else is 404.
type Server struct {
	// URL is http://releases.localhost:PORT: upload-artifact accepts a GITHUB_SERVER_URL on github.com,
	// *.ghe.com or *.localhost only, and curl resolves every *.localhost name to loopback (RFC 6761),
	// so no /etc/hosts entry is needed.
	URL string
	// IPURL is the same server as http://127.0.0.1:PORT, for clients that do not resolve *.localhost.
	IPURL           string
	Dist            *Dist
	ChecksumsSHA256 string // sha256 of the release's checksums.txt
	Tampered        []byte // what /tampered/ serves for intoto-ci's archives (nil: 404)

	mu   sync.Mutex
	gets []string
}

// NewServer starts a Server for dist on a free loopback port, stopped when the test ends. tampered is
// what /tampered/ serves in place of intoto-ci's archives (see TamperedArchive); nil serves nothing there.
func NewServer(tb testing.TB, dist *Dist, tampered []byte) *Server {
	tb.Helper()
	sums, err := os.ReadFile(dist.Asset("checksums.txt"))
	if err != nil {
		tb.Fatal(err)
	}
	sum := sha256.Sum256(sums)
	s := &Server{Dist: dist, ChecksumsSHA256: hex.EncodeToString(sum[:]), Tampered: tampered}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: s}
	go srv.Serve(l) //nolint:errcheck // returns when closed
	tb.Cleanup(func() { srv.Close() })
	port := strings.TrimPrefix(l.Addr().String(), "127.0.0.1:")
	s.URL = "http://releases.localhost:" + port
	s.IPURL = "http://127.0.0.1:" + port
	return s
}

// ServeHTTP serves the paths the type's comment lists.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.gets = append(s.gets, r.URL.Path)
	s.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/")
	mode := ""
	for _, m := range []string{"tampered/", "missing/"} {
		if rest, ok := strings.CutPrefix(path, m); ok {
			mode, path = m, rest
			break
		}
	}
	path = strings.TrimPrefix(path, githubPath)
	name, ok := strings.CutPrefix(path, s.Dist.Version+"/")
	if _, known := s.Dist.Sums[name]; !ok || (!known && name != "checksums.txt") || strings.Contains(name, "/") {
		http.NotFound(w, r)
		return
	}
	archive := strings.HasPrefix(name, "intoto-ci_")
	switch {
	case mode == "missing/" && name != "checksums.txt":
		http.NotFound(w, r)
	case mode == "tampered/" && archive && s.Tampered == nil:
		http.NotFound(w, r)
	case mode == "tampered/" && archive:
		w.Write(s.Tampered) //nolint:errcheck // the client sees a short body
	default:
		http.ServeFile(w, r, s.Dist.Asset(name))
	}
}

// Requests lists the paths requested so far, in order.
func (s *Server) Requests() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.gets...)
}
