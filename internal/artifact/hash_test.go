package artifact

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

// FuzzNormalize checks streamed line-ending normalisation, with the input cut into chunks at
// arbitrary points, against the whole-content reference (CRLF → LF, then CR → LF).
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"", "\r", "\r\n", "\r\r\n", "a\rb\r\nc\n\r", "this\r\nis\ra\ntest\n"} {
		f.Add([]byte(s), uint8(1), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut1, cut2 uint8) {
		ref := bytes.ReplaceAll(bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n")), []byte("\r"), []byte("\n"))
		sum := sha256.Sum256(ref)
		want := hex.EncodeToString(sum[:])
		a := min(int(cut1), len(data))
		b := min(a+int(cut2), len(data))
		h := newHasher([]string{SHA256}, true)
		h.reset()
		h.update(data[:a])
		h.update(data[a:b])
		h.update(data[b:])
		if got := h.digests()[SHA256]; got != want {
			t.Errorf("%q cut at %d,%d: got %s, want %s", data, a, b, got, want)
		}
		// The hasher is reused between files: a CR left pending must not leak into the next one.
		h.reset()
		h.update([]byte("x"))
		x := sha256.Sum256([]byte("x"))
		if got := h.digests()[SHA256]; got != hex.EncodeToString(x[:]) {
			t.Errorf("reused hasher: got %s, want sha256 of x", got)
		}
	})
}
