package artifact

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"
)

// Benchmarks record a generated tree; b.SetBytes makes "go test -bench" report MB/s and cpu-ns/op is
// the process's CPU time per operation. Each has a "read" twin that only reads the same files with
// GOMAXPROCS goroutines and the same system calls: the floor Record is measured against (hashing, the
// rest of the difference, is measured by crypto/sha256's own benchmarks). INTOTO_BENCH_SCALE=full makes
// the small-file tree 100k files / ~1 GB.

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
	cpu0 := processCPU()
	for b.Loop() {
		got, err := Record(context.Background(), []string{"."}, opts)
		if err != nil {
			b.Fatal(err)
		}
		if got.Len() != len(t.files) {
			b.Fatalf("got %d files, want %d", got.Len(), len(t.files))
		}
	}
	reportCPU(b, cpu0)
	b.ReportMetric(float64(len(t.files)), "files")
}

// reportCPU reports the process's CPU time (user+sys) per operation since cpu0, where the platform
// tells it: on a shared machine it varies much less than wall time.
func reportCPU(b *testing.B, cpu0 time.Duration) {
	if cpu0 >= 0 && b.N > 0 {
		b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/op")
	}
}

// benchmarkRead reads every file of the tree with GOMAXPROCS goroutines and the system calls Record
// needs, nothing more: each directory listed (entry types from the listing), each file opened relative
// to its directory, read to the end and closed; a goroutine reads the files of the directory it lists.
func benchmarkRead(b *testing.B, kind string) {
	t := benchTreeFor(b, kind)
	b.SetBytes(t.bytes)
	b.ResetTimer()
	cpu0 := processCPU()
	for b.Loop() {
		if n := readTree(b, t.dir, runtime.GOMAXPROCS(0)); n != t.bytes {
			b.Fatalf("read %d bytes, want %d", n, t.bytes)
		}
	}
	reportCPU(b, cpu0)
}

func readTree(b *testing.B, root string, threads int) int64 {
	var (
		mu     sync.Mutex
		cond   = sync.Cond{L: &mu}
		dirs   = []string{root}
		active int
		total  int64
	)
	var wg sync.WaitGroup
	for range threads {
		wg.Go(func() {
			buf, dbuf := make([]byte, bufSize), make([]byte, dirBufSize)
			var ents []dirEnt
			var cname []byte
			for {
				mu.Lock()
				for len(dirs) == 0 && active > 0 {
					cond.Wait()
				}
				if len(dirs) == 0 {
					mu.Unlock()
					return
				}
				d := dirs[len(dirs)-1]
				dirs = dirs[:len(dirs)-1]
				active++
				mu.Unlock()

				var sub []string
				var n int64
				dh, err := openDirHandle(d, false)
				if err != nil {
					b.Error(err)
				}
				for done := err != nil; !done; {
					ents, done, err = readDirEnts(dh, dbuf, ents)
					if err != nil {
						b.Error(err)
						break
					}
					for _, e := range ents {
						switch {
						case e.typ.IsDir():
							sub = append(sub, filepath.Join(d, string(e.name)))
						case e.typ.IsRegular():
							f := fileJob{base: string(e.name), dir: dh, nofollow: true}
							fd, err := openFile(&f, &cname)
							if err != nil {
								b.Error(err)
								continue
							}
							for {
								k, err := readFile(fd, buf)
								if err != nil {
									b.Error(err)
								}
								if k == 0 || err != nil {
									break
								}
								n += int64(k)
							}
							closeFile(fd)
						}
					}
				}
				if dh != nil {
					dh.closeDir()
				}
				mu.Lock()
				active--
				total += n
				dirs = append(dirs, sub...)
				cond.Broadcast()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return total
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
