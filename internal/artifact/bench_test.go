package artifact

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// Benchmarks record a generated tree; b.SetBytes makes "go test -bench" report MB/s. Each has a
// "read" twin that only reads the same files (listed beforehand) with GOMAXPROCS goroutines: the floor
// Record is measured against. INTOTO_BENCH_SCALE=full makes the small-file tree 100k files / ~1 GB.

type benchTree struct {
	dir   string
	files []string
	bytes int64
}

func benchTreeFor(b *testing.B, kind string) *benchTree {
	b.Helper()
	full := os.Getenv("INTOTO_BENCH_SCALE") == "full"
	dir := b.TempDir() // b.Loop benchmarks run their body once, so each tree is built once
	switch kind {
	case "env":
		dir = os.Getenv("INTOTO_BENCH_DIR")
		if dir == "" {
			b.Skip("INTOTO_BENCH_DIR names no tree to record")
		}
	case "small":
		nDirs, perDir, size := 100, 100, 8<<10 // 10k files, ~90 MB
		if full {
			nDirs, perDir, size = 1000, 100, 9<<10 // 100k files, ~1 GB
		}
		makeTree(b, dir, nDirs, perDir, size)
	case "big":
		n, size := 4, 32<<20
		if full {
			n, size = 8, 128<<20
		}
		buf := make([]byte, 1<<20)
		for i := range buf {
			buf[i] = byte(i * 31)
		}
		for i := 0; i < n; i++ {
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("big%d.bin", i)))
			if err != nil {
				b.Fatal(err)
			}
			for w := 0; w < size; w += len(buf) {
				if _, err := f.Write(buf); err != nil {
					b.Fatal(err)
				}
			}
			if err := f.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
	t := &benchTree{dir: dir}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		t.files = append(t.files, p)
		t.bytes += fi.Size()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return t
}

func benchmarkRecord(b *testing.B, kind string, opts Options) {
	t := benchTreeFor(b, kind)
	opts.BasePath = t.dir
	b.SetBytes(t.bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		got, err := Record(context.Background(), []string{"."}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(t.files) {
			b.Fatalf("got %d files, want %d", len(got), len(t.files))
		}
	}
	b.ReportMetric(float64(len(t.files)), "files")
}

// benchmarkRead reads every file of the tree (listed beforehand) with GOMAXPROCS goroutines.
func benchmarkRead(b *testing.B, kind string) {
	t := benchTreeFor(b, kind)
	b.SetBytes(t.bytes)
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		n := runtime.GOMAXPROCS(0)
		for w := 0; w < n; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, bufSize)
				for i := w; i < len(t.files); i += n {
					f, err := os.Open(t.files[i])
					if err != nil {
						b.Error(err)
						return
					}
					if _, err := io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf); err != nil {
						b.Error(err)
					}
					f.Close()
				}
			}()
		}
		wg.Wait()
	}
}

func BenchmarkRecordSmallFiles(b *testing.B) { benchmarkRecord(b, "small", Options{}) }
func BenchmarkRecordSmallFilesDefaultExcludes(b *testing.B) {
	benchmarkRecord(b, "small", Options{DefaultExcludes: true})
}
func BenchmarkRecordSmallFilesOneWorker(b *testing.B) {
	benchmarkRecord(b, "small", Options{Workers: 1})
}
func BenchmarkReadSmallFiles(b *testing.B) { benchmarkRead(b, "small") }
func BenchmarkRecordBigFiles(b *testing.B) { benchmarkRecord(b, "big", Options{}) }
func BenchmarkRecordBigFilesSHA512(b *testing.B) {
	benchmarkRecord(b, "big", Options{Algorithms: []string{"sha512"}})
}
func BenchmarkRecordBigFilesNormalize(b *testing.B) {
	benchmarkRecord(b, "big", Options{NormalizeLineEndings: true})
}
func BenchmarkReadBigFiles(b *testing.B) { benchmarkRead(b, "big") }

// BenchmarkRecordDir and BenchmarkReadDir measure the tree named by INTOTO_BENCH_DIR (for comparisons
// with other recorders on the same files).
func BenchmarkRecordDir(b *testing.B) { benchmarkRecord(b, "env", Options{}) }
func BenchmarkReadDir(b *testing.B)   { benchmarkRead(b, "env") }

func BenchmarkExcludeDefaults(b *testing.B) {
	e := newExcluder(defaultExcludePatterns())
	parts := []string{"src", "internal", "artifact", "record_test.go"}
	anc := e.ancestorsOf(parts[:3])
	for b.Loop() {
		if e.matchIn(anc, parts, false) {
			b.Fatal("excluded")
		}
	}
}
