package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/testutil/shapes"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// benchChain writes a 3-step chain (fetch creates src/*; build MATCHes them, creates obj/*; package
// MATCHes build's products, creates dist/*) with n artifacts per step, links in the given envelope
// format, and returns the verification options. Names and rules are those of scripts/bench.
func benchChain(b *testing.B, n int, format string) Options {
	b.Helper()
	dir := b.TempDir()
	owner, fn := testKey(b, "alice"), testKey(b, "bob")
	arts := func(prefix string, from, to int) map[string]intoto.Digests {
		a := make(map[string]intoto.Digests, to-from)
		for i := from; i < to; i++ {
			name := fmt.Sprintf("%s/m%03d/file%07d.c", prefix, i%997, i)
			a[name] = digest(name)
		}
		return a
	}
	merge := func(as ...map[string]intoto.Digests) intoto.ArtifactSet {
		out := map[string]intoto.Digests{}
		for _, a := range as {
			for k, v := range a {
				out[k] = v
			}
		}
		return intoto.NewArtifactSet(out)
	}
	half := max(1, n/2)
	src := merge(arts("src", 0, n))
	build := merge(arts("src", 0, half), arts("obj", 0, n-half))
	pkg := merge(arts("src", 0, half), arts("obj", 0, n-half-n/10), arts("dist", 0, n/10))
	steps := []struct {
		name       string
		mat, prod  intoto.ArtifactSet
		matR, proR []intoto.Rule
	}{
		{"fetch", intoto.ArtifactSet{}, src, []intoto.Rule{{"DISALLOW", "*"}},
			[]intoto.Rule{{"CREATE", "src/*"}, {"DISALLOW", "*"}}},
		{"build", src, build, []intoto.Rule{{"MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"DISALLOW", "*"}},
			[]intoto.Rule{{"MATCH", "src/*", "WITH", "PRODUCTS", "FROM", "fetch"}, {"CREATE", "obj/*"}, {"DISALLOW", "*"}}},
		{"package", build, pkg, []intoto.Rule{{"MATCH", "*", "WITH", "PRODUCTS", "FROM", "build"}, {"DISALLOW", "*"}},
			[]intoto.Rule{{"MATCH", "obj/*", "WITH", "PRODUCTS", "FROM", "build"}, {"CREATE", "dist/*"}, {"ALLOW", "src/*"}, {"DISALLOW", "*"}}},
	}
	layout := &intoto.Layout{Type: intoto.TypeLayout, Expires: "2099-01-01T00:00:00Z",
		Keys: map[string]*intoto.Key{fn.ID(): fn.Record()}}
	links := filepath.Join(dir, "links")
	if err := os.Mkdir(links, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, s := range steps {
		layout.Steps = append(layout.Steps, &intoto.Step{Type: intoto.TypeStep, Name: s.name, Threshold: 1,
			ExpectedMaterials: s.matR, ExpectedProducts: s.proR, PubKeys: []string{fn.ID()}})
		l := &intoto.Link{Type: intoto.TypeLink, Name: s.name, Materials: s.mat, Products: s.prod,
			ByProducts: map[string]any{"return-value": 0}}
		payload, err := wire.MarshalLink(l)
		if err != nil {
			b.Fatal(err)
		}
		var env []byte
		if format == "dsse" {
			env, err = envelope.SignDSSE(intoto.PayloadType, payload, fn)
		} else {
			env, err = envelope.SignLegacy(payload, fn)
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(links, intoto.LinkFileName(s.name, fn.ID())), env, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	payload, err := json.Marshal(layout)
	if err != nil {
		b.Fatal(err)
	}
	signed, err := envelope.SignLegacy(payload, owner)
	if err != nil {
		b.Fatal(err)
	}
	return Options{Layout: signed, LayoutKeys: []*intoto.Key{owner.Record()}, LinksDir: links, WorkDir: dir}
}

func benchmarkVerify(b *testing.B, n int, format string) {
	opts := benchChain(b, n, format)
	b.ReportAllocs()
	for b.Loop() {
		res, err := Verify(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Verified {
			b.Fatalf("not verified: %+v", res.Failure)
		}
	}
}

// Benchmarks of the whole pipeline on the chain of scripts/bench: 100k and 10 artifacts per step.
func BenchmarkVerify100kLegacy(b *testing.B) { benchmarkVerify(b, 100_000, "legacy") }
func BenchmarkVerify100kDSSE(b *testing.B)   { benchmarkVerify(b, 100_000, "dsse") }
func BenchmarkVerify10Legacy(b *testing.B)   { benchmarkVerify(b, 10, "legacy") }

// benchmarkShape verifies the inputs gen writes (internal/testutil/shapes), which must verify.
func benchmarkShape(b *testing.B, gen func(dir string) (*shapes.Inputs, error)) {
	in, err := gen(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	layout, err := os.ReadFile(in.Layout)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Layout: layout, LayoutKeys: []*intoto.Key{in.Owner.Record()}, LinksDir: in.LinksDir, WorkDir: in.Dir}
	b.ReportAllocs()
	for b.Loop() {
		res, err := Verify(context.Background(), opts)
		if err != nil {
			b.Fatal(err)
		}
		if !res.Verified {
			b.Fatalf("not verified: %+v", res.Failure)
		}
	}
}

// Benchmarks of the shapes of issue 17: links per step (a CI matrix), steps, rules.
func BenchmarkShapes(b *testing.B) {
	for _, m := range []int{10, 100, 1000, 2000} {
		b.Run(fmt.Sprintf("matrix=%d", m), func(b *testing.B) {
			benchmarkShape(b, func(dir string) (*shapes.Inputs, error) { return shapes.Matrix(dir, m, 10) })
		})
	}
	for _, n := range []int{10, 100, 1000, 5000} {
		b.Run(fmt.Sprintf("chain=%d", n), func(b *testing.B) {
			benchmarkShape(b, func(dir string) (*shapes.Inputs, error) { return shapes.Chain(dir, n, 10) })
		})
	}
	b.Run("rules=10000", func(b *testing.B) {
		benchmarkShape(b, func(dir string) (*shapes.Inputs, error) { return shapes.Rules(dir, 10000, 10) })
	})
}
