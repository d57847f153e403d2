package verify

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// candidateSeeds are files at the edges of decodeCandidate's one-pass path.
var candidateSeeds = []string{
	`{"signatures":[{"keyid":"k","sig":"00"}],"signed":{"_type":"link","name":"a","materials":{"m":{"sha256":"ab"}}}}`,
	`{"signatures":[{"keyid":"k","sig":"0g"}],"signed":{"_type":"link","name":"a"}}`,
	`{"signatures":[{"keyid":"k","sig":"00","cert":""}],"signed":{"_type":"link","name":"a","byproducts":{"stdout":"a\nb"}}}`,
	`{"signatures":[],"signed":{"_type":"link","name":"a","byproducts":{"stdout":"a\nb","stdout":"c"}}}`,
	`{"signatures":[],"signed":{"_type":"link","name":"a","environment":{"x":"\u00e9","y":[[[[[[[[1]]]]]]]]}}}`,
	`{"signatures":[],"signed":{"_type":"link","name":"a","environment":{"y":[[[[[[[[1]]]]]]]]}}}`,
	`{"signatures":[],"signed":{"_type":"link","name":"a","materials":{"b":{"sha256":"ab"},"a":{"sha512":"cd"}}}}`,
	`{"signatures":[],"signed":{"_type":"link","name":"a","materials":{"a":{"sha256":"ab"},"a":{"sha256":"cd"}}}}`,
	`{"signatures":[],"signed":{"_type":"layout","name":"a"}}`,
	`{"payload":"eyJfdHlwZSI6ImxpbmsiLCJuYW1lIjoiYSIsIm1hdGVyaWFscyI6eyJtIjp7InNoYTI1NiI6ImFiIn19fQ==","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k","sig":"AA=="}]}`,
	`{"payload":"eyJfdHlwZSI6ImxpbmsiLCJuYW1lIjoiYSIsImJ5cHJvZHVjdHMiOnsic3Rkb3V0IjoiYVxuYiIsInN0ZG91dCI6ImMifX0=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k","sig":"AA=="}]}`,
	`{"payload":"eyJfdHlwZSI6ImxpbmsiLCJuYW1lIjoiYSIsImVudmlyb25tZW50Ijp7InkiOltbW1tbW1tbMV1dXV1dXV1dfX0=","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k","sig":"AA=="}]}`,
	`{"payload":"eyJfdHlwZSI6ImxpbmsiLCJuYW1lIjoiYSIsIm1hdGVyaWFscyI6eyJhIjp7InNoYTI1NiI6ImFiIn0sImEiOnsic2hhMjU2IjoiY2QifX19","payloadType":"application/vnd.in-toto+json","signatures":[{"keyid":"k","sig":"AA=="}]}`,
}

// checkOnePass fails when decodeCandidate, which tries the one-pass path first, answers differently
// from the general path for the file.
func checkOnePass(t *testing.T, name string, data []byte, maxJSONDepth int) {
	t.Helper()
	got, gotErr := decodeFile(name, name, data, maxJSONDepth, true)
	want, wantErr := decodeFile(name, name, data, maxJSONDepth, false)
	if (gotErr == nil) != (wantErr == nil) || (gotErr != nil && gotErr.Error() != wantErr.Error()) {
		t.Fatalf("%q (depth %d): error %v, general path %v", data, maxJSONDepth, gotErr, wantErr)
	}
	if gotErr != nil {
		return
	}
	if got.file != want.file || got.stepName != want.stepName || got.isLayout != want.isLayout ||
		!reflect.DeepEqual(got.link, want.link) {
		t.Fatalf("%q: candidate %+v, general path %+v", data, got, want)
	}
	gs, ws := got.signed, want.signed
	if gs.Kind != ws.Kind || gs.PayloadType != ws.PayloadType || !bytes.Equal(gs.Payload, ws.Payload) ||
		!bytes.Equal(gs.Raw, ws.Raw) || !reflect.DeepEqual(gs.Signatures, ws.Signatures) {
		t.Fatalf("%q: envelope %+v, general path %+v", data, gs, ws)
	}
	gb, gerr := gs.SignedBytes()
	wb, werr := ws.SignedBytes()
	if !bytes.Equal(gb, wb) || (gerr == nil) != (werr == nil) {
		t.Fatalf("%q: signed bytes %q (%v), general path %q (%v)", data, gb, gerr, wb, werr)
	}
}

func TestOnePassMatchesGeneral(t *testing.T) {
	t.Parallel()
	files := append([]string{}, candidateSeeds...)
	for _, dir := range []string{golangDir, filepath.Join(pythonDir, "demo_files"), filepath.Join(pythonDir, "demo_dsse_files")} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.link"))
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files = append(files, string(data))
		}
	}
	onePass, onePassDSSE := 0, 0
	for _, f := range files {
		for depth := 1; depth <= 10; depth++ {
			checkOnePass(t, "x.12345678.link", []byte(f), depth)
		}
		if _, _, ok := envelope.ParsePlainLegacyLink([]byte(f)); ok {
			onePass++
		}
		if s, err := envelope.Parse([]byte(f)); err == nil && s.Kind == envelope.DSSE {
			if _, ok := wire.DecodePlainLinkChecked(s.Payload); ok {
				onePassDSSE++
			}
		}
	}
	// The comparison means something only if the one pass answers: for the peers' seven legacy
	// links and six of the seeds, and the payloads of their five DSSE links and three of the seeds.
	if onePass != 13 || onePassDSSE != 8 {
		t.Errorf("the one pass answered for %d files and %d DSSE payloads, want 13 and 8", onePass, onePassDSSE)
	}
}

// FuzzDecodeCandidate feeds arbitrary files to the links-directory decoder: it must never panic,
// whatever it accepts must name a step and carry a link or be a sublayout, and its one-pass path
// must answer as the general one.
func FuzzDecodeCandidate(f *testing.F) {
	seeds, err := filepath.Glob(filepath.Join(golangDir, "*.link"))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range seeds {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(filepath.Base(p), data)
	}
	for _, s := range candidateSeeds {
		f.Add("x.12345678.link", []byte(s))
	}
	f.Add("x.12345678.link.sigstore.json", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		maxDepth := Limits{}.withDefaults().MaxJSONDepth
		c, err := decodeCandidate(name, name, data, maxDepth)
		checkOnePass(t, name, data, maxDepth)
		checkOnePass(t, name, data, 4)
		if err != nil {
			return
		}
		if c.stepName == "" {
			t.Errorf("accepted %q without a step name", name)
		}
		if !c.isLayout && c.link == nil {
			t.Errorf("accepted %q with neither a link nor a layout", name)
		}
	})
}
