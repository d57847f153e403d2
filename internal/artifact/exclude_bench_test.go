package artifact

import "testing"

func BenchmarkExcludeDefaults(b *testing.B) {
	e := newExcluder(defaultExcludePatterns)
	parts := []string{"src", "internal", "artifact", "record_test.go"}
	anc := e.ancestorsOf(parts[:3])
	for b.Loop() {
		if e.matchIn(anc, parts, false) {
			b.Fatal("excluded")
		}
	}
}
