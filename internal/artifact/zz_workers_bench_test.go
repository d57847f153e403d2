package artifact

import (
	"fmt"
	"testing"
)

func BenchmarkRecordDirWorkers(b *testing.B) {
	for _, w := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprint(w), func(b *testing.B) { benchmarkRecord(b, "env", Options{Workers: w}) })
	}
}
