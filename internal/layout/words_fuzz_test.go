package layout

import (
	"slices"
	"testing"
)

// FuzzSplitWords: SplitWords never panics, and what JoinWords writes splits back to the same words.
func FuzzSplitWords(f *testing.F) {
	for _, s := range []string{"", "MATCH * WITH PRODUCTS FROM build", `sh -c "cp a b"`, `a\ b 'c d' "e\"f"`, "'", `"`, `\`, "a\tb\nc"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		words, err := SplitWords(s)
		if err != nil {
			return
		}
		again, err := SplitWords(JoinWords(words))
		if err != nil {
			t.Fatalf("SplitWords(JoinWords(%q)) = %v", words, err)
		}
		if !slices.Equal(words, again) && !(len(words) == 0 && len(again) == 0) {
			t.Fatalf("round trip: %q -> %q -> %q", words, JoinWords(words), again)
		}
	})
}
