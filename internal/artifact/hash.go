package artifact

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// bufSize is the per-worker read buffer: large enough for few syscalls, small enough to stay in L2.
const bufSize = 256 << 10

// hasher hashes one file at a time with reused state; each worker owns one.
type hasher struct {
	algs      []string
	hs        []hash.Hash
	buf       []byte
	sum       []byte
	normalize bool
	pendingCR bool
}

var lf = []byte{'\n'}

func newHasher(algs []string, normalize bool) *hasher {
	h := &hasher{algs: algs, buf: make([]byte, bufSize), sum: make([]byte, 0, sha512.Size), normalize: normalize}
	for _, a := range algs {
		switch a {
		case SHA256:
			h.hs = append(h.hs, sha256.New())
		case SHA512:
			h.hs = append(h.hs, sha512.New())
		}
	}
	return h
}

func (h *hasher) reset() {
	for _, x := range h.hs {
		x.Reset()
	}
	h.pendingCR = false
}

func (h *hasher) write(p []byte) {
	for _, x := range h.hs {
		x.Write(p) // hash.Hash.Write never fails
	}
}

// update feeds one chunk, normalising line endings if asked: CRLF → LF, then lone CR → LF, exactly as
// securesystemslib's digest_fileobject (and in-toto-golang) do on the whole content. A CR at the end of
// a chunk waits for the next one.
func (h *hasher) update(p []byte) {
	if !h.normalize {
		h.write(p)
		return
	}
	if len(p) == 0 {
		return
	}
	if h.pendingCR {
		h.pendingCR = false
		if p[0] != '\n' {
			h.write(lf)
		}
	}
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\r')
		if i < 0 {
			h.write(p)
			return
		}
		h.write(p[:i])
		switch {
		case i+1 == len(p):
			h.pendingCR = true
			return
		case p[i+1] == '\n':
			// the LF is written with the next segment
		default:
			h.write(lf)
		}
		p = p[i+1:]
	}
}

// digest finishes the current file, in compact form.
func (h *hasher) digest() intoto.Digest {
	if len(h.algs) == 1 && h.algs[0] == "sha256" {
		if h.pendingCR {
			h.write(lf)
			h.pendingCR = false
		}
		h.sum = h.hs[0].Sum(h.sum[:0]) // into the reused buffer: a local array would escape through the interface
		return intoto.SHA256Digest([32]byte(h.sum))
	}
	return intoto.NewDigest(h.digests())
}

// digests finishes the current file.
func (h *hasher) digests() intoto.Digests {
	if h.pendingCR {
		h.write(lf)
		h.pendingCR = false
	}
	d := make(intoto.Digests, len(h.hs))
	for i, x := range h.hs {
		h.sum = x.Sum(h.sum[:0])
		d[h.algs[i]] = hex.EncodeToString(h.sum)
	}
	return d
}
