package verify

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeCandidate feeds arbitrary files to the links-directory decoder: it must never panic, and
// whatever it accepts must name a step and carry a link or be a sublayout.
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
	f.Add("x.12345678.link.sigstore.json", []byte(`{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json","dsseEnvelope":{"payload":"e30=","payloadType":"application/vnd.in-toto+json","signatures":[]}}`))
	f.Fuzz(func(t *testing.T, name string, data []byte) {
		c, err := decodeCandidate(name, name, data, Limits{}.withDefaults().MaxJSONDepth)
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
