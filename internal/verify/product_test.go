package verify

import (
	"errors"
	"strings"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

func TestRequireProduct(t *testing.T) {
	t.Parallel()
	hexA, hexB := strings.Repeat("a", 64), strings.Repeat("b", 64)
	newResult := func() *Result {
		return &Result{Verified: true,
			Steps: []StepResult{
				{Name: "build", Kind: KindStep, Links: []LinkInfo{{File: "build.1234.link"}}},
				{Name: "image", Kind: KindStep, Links: []LinkInfo{{File: "image.5678.link"}}},
				{Name: "scan", Kind: KindInspection},
			},
			Evidence: map[string]*Evidence{
				"build": {Products: intoto.NewArtifactSet(map[string]intoto.Digests{"app": {"sha256": hexA}})},
				"image": {Products: intoto.NewArtifactSet(map[string]intoto.Digests{"manifest.json": {"sha256": hexB}})},
			}}
	}
	res := newResult()
	for _, tc := range []struct{ step, want string }{{"", "image"}, {"build", "build"}} {
		if got, err := res.ProducerStep(tc.step); err != nil || got != tc.want {
			t.Errorf("ProducerStep(%q) = %q, %v; want %q", tc.step, got, err, tc.want)
		}
	}
	for _, step := range []string{"scan", "nope"} {
		if _, err := res.ProducerStep(step); !errors.Is(err, ErrNoSuchStep) {
			t.Errorf("ProducerStep(%q) = %v, want ErrNoSuchStep (an inspection produces nothing)", step, err)
		}
	}
	if name := res.RequireProduct("image", "sha256:"+hexB); name != "manifest.json" || !res.Verified {
		t.Errorf("the image's own digest: %q, verified %v", name, res.Verified)
	}
	// The digest of another step's product does not make it the image step's product.
	if name := res.RequireProduct("image", "sha256:"+hexA); name != "" || res.Verified ||
		res.Failure.Stage != StageImage || !errors.Is(res.Err(), ErrNotProduced) {
		t.Errorf("another step's product: %q, verified %v, failure %+v", name, res.Verified, res.Failure)
	}
	files, err := newResult().LinkFiles()
	if err != nil || strings.Join(files, ",") != "build.1234.link,image.5678.link" {
		t.Errorf("LinkFiles = %q, %v", files, err)
	}
	sub := newResult()
	sub.Steps[1].Links[0].Layout = true
	if _, err := sub.LinkFiles(); !errors.Is(err, ErrSublayoutLinks) {
		t.Errorf("LinkFiles with a sublayout step = %v", err)
	}
}
