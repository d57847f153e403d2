package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func TestCheckJSONDepth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		max  int
		ok   bool
	}{
		{`{"a":[1,{"b":2}]}`, 3, true},
		{`{"a":[1,{"b":2}]}`, 2, false},
		{`{"a":"[[[[[[[[[[["}`, 1, true},
		{`{"a":"\"[[[[["}`, 1, true},
		{strings.Repeat("[", 100) + strings.Repeat("]", 100), 64, false},
		{`not json [[`, 1, false},
	} {
		err := checkJSONDepth([]byte(tc.data), tc.max)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrLimit)) {
			t.Errorf("checkJSONDepth(%q, %d) = %v, want ok %v", tc.data, tc.max, err, tc.ok)
		}
	}
}

func TestCheckCandidateLimits(t *testing.T) {
	t.Parallel()
	l := Limits{MaxSignatures: 1, MaxArtifacts: 2}.withDefaults()
	c := &candidate{signed: &envelope.Signed{Signatures: []envelope.Signature{{}, {}}}}
	if err := l.checkCandidate(c); !errors.Is(err, ErrLimit) {
		t.Errorf("two signatures, max 1: got %v", err)
	}
	c = &candidate{signed: &envelope.Signed{}, link: &intoto.Link{},
		materials: intoto.NewArtifactSet(intoto.Artifacts{"a": {}, "b": {}}), products: intoto.NewArtifactSet(intoto.Artifacts{"c": {}})}
	if err := l.checkCandidate(c); !errors.Is(err, ErrLimit) {
		t.Errorf("three artifacts, max 2: got %v", err)
	}
}

// FuzzCheckJSONDepth: for valid JSON, checkJSONDepth agrees with the nesting the decoder sees.
func FuzzCheckJSONDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[[1]]`, `{"a":"[[["}`, `{"a":"\\\"["}`, `[{"a":[{"b":[]}]}]`, `"\"`, `[`} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 0 || max > 100 {
			return
		}
		err := checkJSONDepth(data, max)
		if !json.Valid(data) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		depth, deepest := 0, 0
		for {
			tok, terr := dec.Token()
			if terr != nil {
				break
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
				deepest = max2(deepest, depth)
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
		}
		if (err == nil) != (deepest <= max) {
			t.Fatalf("checkJSONDepth(%q, %d) = %v, decoder depth %d", data, max, err, deepest)
		}
	})
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// TestReadLimited reads files around the limit, and a stream with no size to go by.
func TestReadLimited(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const limit = 3000 // less than the read slack, more than it, and around it below
	for _, size := range []int{0, 1, 511, 512, 513, limit - 1, limit, limit + 1, 2 * limit, 5000} {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i * 7)
		}
		path := filepath.Join(dir, fmt.Sprint(size))
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readLimited(path, limit)
		switch {
		case size > limit && err == nil:
			t.Errorf("size %d: read %d bytes, want an error over the limit %d", size, len(got), limit)
		case size <= limit && err != nil:
			t.Errorf("size %d: %v", size, err)
		case size <= limit && !bytes.Equal(got, data):
			t.Errorf("size %d: read %d bytes that differ from the file", size, len(got))
		}
	}
	// A device that never ends: read up to one byte past the limit, then refused.
	if _, err := os.Stat("/dev/zero"); err == nil {
		if got, err := readLimited("/dev/zero", 100000); err == nil {
			t.Errorf("/dev/zero: read %d bytes, want an error over the limit", len(got))
		}
	}
}
