package rules

import (
	"fmt"
	"testing"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

const benchN = 100_000

// benchArtifacts returns n names like src/pkg042/file000123.go (a tree of 500 directories)
// with distinct sha256 digests.
func benchArtifacts(prefix string, n int) intoto.ArtifactSet {
	a := make(map[string]intoto.Digests, n)
	for i := range n {
		a[fmt.Sprintf("%spkg%03d/file%06d.go", prefix, i%500, i)] = intoto.Digests{"sha256": fmt.Sprintf("%064x", i)}
	}
	return intoto.NewArtifactSet(a)
}

func benchVerify(b *testing.B, item *Item, kind Kind, rs []intoto.Rule, links map[string]*Item, refuse bool) {
	b.Helper()
	b.ReportAllocs()
	defer cpuMetric(b)()
	for b.Loop() {
		_, err := Verify(item, kind, rs, links, Options{})
		if (err != nil) != refuse {
			b.Fatalf("Verify: %v", err)
		}
	}
}

// BenchmarkMatchChain: 100k materials matched against the previous step's products, in two
// MATCH rules (one with a pattern, one catch-all), then DISALLOW *.
func BenchmarkMatchChain(b *testing.B) {
	src := benchArtifacts("src/", benchN)
	build := &Item{Name: "build", Materials: src, Products: src}
	item := &Item{Name: "test", Materials: src}
	links := map[string]*Item{"build": build, "test": item}
	benchVerify(b, item, Materials, rules(
		"MATCH src/pkg00* WITH PRODUCTS FROM build",
		"MATCH * WITH PRODUCTS FROM build",
		"DISALLOW *"), links, false)
}

// BenchmarkMatchPrefixes: MATCH … IN src WITH PRODUCTS IN vendor, 100k artifacts.
func BenchmarkMatchPrefixes(b *testing.B) {
	item := &Item{Name: "package", Products: benchArtifacts("src/", benchN)}
	fetch := &Item{Name: "fetch", Products: benchArtifacts("vendor/", benchN)}
	links := map[string]*Item{"fetch": fetch, "package": item}
	benchVerify(b, item, Products, rules("MATCH *.go IN src WITH PRODUCTS IN vendor FROM fetch", "DISALLOW *"), links, false)
}

// BenchmarkCreateAllow: 100k new products, CREATE with a prefix pattern, ALLOW the rest.
func BenchmarkCreateAllow(b *testing.B) {
	item := &Item{Name: "build", Materials: benchArtifacts("in/", 1000), Products: benchArtifacts("src/", benchN)}
	benchVerify(b, item, Products, rules("CREATE src/pkg1*", "MODIFY *", "ALLOW *", "DISALLOW *"), nil, false)
}

// BenchmarkDisallowAll: DISALLOW * refusing 100k artifacts (all reported, sorted).
func BenchmarkDisallowAll(b *testing.B) {
	item := &Item{Name: "build", Products: benchArtifacts("src/", benchN)}
	benchVerify(b, item, Products, rules("ALLOW *.c", "DISALLOW *"), nil, true)
}

// BenchmarkTrace: the MATCH chain with Options.Trace (what verify re-runs on a refusal).
func BenchmarkTrace(b *testing.B) {
	src := benchArtifacts("src/", benchN)
	build := NewItem("build", intoto.ArtifactSet{}, src)
	item := NewItem("test", src, intoto.ArtifactSet{})
	links := map[string]*Item{"build": build}
	rs := rules("MATCH src/pkg00* WITH PRODUCTS FROM build", "MATCH * WITH PRODUCTS FROM build", "DISALLOW *")
	b.ReportAllocs()
	defer cpuMetric(b)()
	for b.Loop() {
		if _, err := Verify(item, Materials, rs, links, Options{Trace: true}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkGlob(b *testing.B) {
	names := benchArtifacts("src/", 1000).Names()
	for _, p := range []string{"src/pkg001/file000001.go", "*", "src/*", "*.go", "src/*.go", "*pkg0*", "src/pkg??[0-4]/*.go"} {
		b.Run(p, func(b *testing.B) {
			g := CompileGlob(p)
			for b.Loop() {
				for _, n := range names {
					g.Match(n)
				}
			}
		})
	}
}
