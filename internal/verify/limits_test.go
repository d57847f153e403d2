package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/testutil/shapes"
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
	c = &candidate{signed: &envelope.Signed{}, link: &intoto.Link{
		Materials: intoto.NewArtifactSet(map[string]intoto.Digests{"a": {}, "b": {}}), Products: intoto.NewArtifactSet(map[string]intoto.Digests{"c": {}})}}
	if err := l.checkCandidate(c); !errors.Is(err, ErrLimit) {
		t.Errorf("three artifacts, max 2: got %v", err)
	}
}

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

// hostileDir writes a layout whose one step has n functionary keys (threshold 1) and a links
// directory of n files, the --max-link-files limit: one honest DSSE link by the first key, and n-1
// hostile ones, each carrying sigs signatures (the --max-signatures limit) that name keyids of the
// step with bytes that verify under none. It returns the options and the bytes of the input.
func hostileDir(t *testing.T, n, sigs int) (Options, int64) {
	t.Helper()
	dir := t.TempDir()
	links := filepath.Join(dir, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		t.Fatal(err)
	}
	owner := testKey(t, "alice")
	layout := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2099-01-01T00:00:00Z", Keys: map[string]*intoto.Key{}}
	step := &intoto.Step{Type: intoto.TypeStep, Name: "test", Threshold: 1}
	layout.Steps = []*intoto.Step{step}
	var ks []*keys.Key
	for i := range n {
		k, err := shapes.Key(fmt.Sprintf("hostile-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		ks = append(ks, k)
		step.PubKeys = append(step.PubKeys, layout.AddKey(k.Record()))
	}
	payload, err := json.Marshal(&intoto.Link{Type: intoto.TypeLink, Name: "test",
		Materials: intoto.ArtifactSet{}, Products: artifacts(map[string]string{"out/a": "a"})})
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(links, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		size += int64(len(data))
	}
	honest, err := envelope.SignDSSE(intoto.PayloadType, payload, ks[0])
	if err != nil {
		t.Fatal(err)
	}
	write(intoto.LinkFileName("test", ks[0].ID()), honest)
	type sig struct {
		KeyID string `json:"keyid"`
		Sig   string `json:"sig"`
	}
	for f := 1; f < n; f++ {
		env := struct {
			PayloadType string `json:"payloadType"`
			Payload     string `json:"payload"`
			Signatures  []sig  `json:"signatures"`
		}{PayloadType: intoto.PayloadType, Payload: base64.StdEncoding.EncodeToString(payload)}
		for s := range sigs {
			bad := sha256.Sum256(fmt.Appendf(nil, "%d/%d", f, s))
			env.Signatures = append(env.Signatures, sig{KeyID: ks[(f+s)%n].ID(),
				Sig: base64.StdEncoding.EncodeToString(append(bad[:], bad[:]...))})
		}
		data, err := json.Marshal(env)
		if err != nil {
			t.Fatal(err)
		}
		write(fmt.Sprintf("test.hostile%05d.link", f), data)
	}
	doc, err := json.Marshal(layout)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := envelope.SignLegacy(doc, owner)
	if err != nil {
		t.Fatal(err)
	}
	return Options{Layout: signed, LayoutKeys: []*intoto.Key{owner.Record()}, LinksDir: links, WorkDir: dir,
		Limits: Limits{MaxFiles: n, MaxSignatures: sigs}}, size + int64(len(signed))
}

// TestHostileLinksLinear: a links directory at the file limit, of links at the signature limit each
// naming keyids of the step, verifies with the honest link and rejects every hostile one, and the
// work (allocations) grows with the input's bytes, not with links × keys: doubling the files and
// the step's keys doubles the bytes, and must not much more than double the allocations (checking
// every link with every key, as verify once did, quadruples them).
func TestHostileLinksLinear(t *testing.T) {
	const sigs = 32
	run := func(n int) (allocs float64, size int64) {
		opts, size := hostileDir(t, n, sigs)
		var res *Result
		allocs = testing.AllocsPerRun(1, func() {
			var err error
			if res, err = Verify(context.Background(), opts); err != nil {
				t.Fatal(err)
			}
		})
		if !res.Verified {
			t.Fatalf("n=%d: refused (%+v), want verified by the honest link", n, res.Failure)
		}
		sr := res.step(KindStep, "test")
		if len(sr.Links) != 1 || len(sr.Rejected) != n-1 {
			t.Fatalf("n=%d: %d links kept and %d rejected, want 1 and %d", n, len(sr.Links), len(sr.Rejected), n-1)
		}
		for _, r := range sr.Rejected {
			if !strings.HasPrefix(r.Reason, "bad signature: ") {
				t.Fatalf("n=%d: %s rejected for %q, want a bad signature", n, r.File, r.Reason)
			}
		}
		return allocs, size
	}
	a1, s1 := run(60)
	a2, s2 := run(120)
	bytesRatio, allocRatio := float64(s2)/float64(s1), a2/a1
	t.Logf("bytes %d → %d (×%.2f), allocations %.0f → %.0f (×%.2f)", s1, s2, bytesRatio, a1, a2, allocRatio)
	if allocRatio > 1.3*bytesRatio {
		t.Errorf("allocations grew ×%.2f for ×%.2f the bytes: more than linear in the input", allocRatio, bytesRatio)
	}
}
