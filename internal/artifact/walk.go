package artifact

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// entry is one recorded file, named before left-stripping.
type entry struct {
	name   string
	digest intoto.Digest
}

type fileJob struct {
	name     string
	path     string
	dir      *dirHandle // if set, the file is opened relative to it by its last component base
	base     string
	nofollow bool
}

// dirHandle is a listed directory kept open while its files wait to be hashed.
type dirHandle struct {
	f    *os.File
	fd   int
	refs atomic.Int32
}

func (d *dirHandle) release() {
	if d != nil && d.refs.Add(-1) == 0 {
		_ = d.f.Close() // read-only directory: nothing to lose on close
	}
}

type dirJob struct {
	name     string   // base-relative, forward slashes ("" for the base)
	path     string   // path to open
	real     string   // path with symlinks resolved, for loop detection
	parts    []string // name split on "/"
	anc      ancestors
	nofollow bool
	parent   *dirJob
}

// readDirBatch is how many directory entries are listed before they are handed to the pool, so that
// hashing starts before a huge directory is fully listed.
const readDirBatch = 1024

// queue holds pending work. Workers prefer files over directories, so memory stays bounded by about
// one directory batch while there is always work for every worker.
type queue struct {
	mu     sync.Mutex
	cond   sync.Cond
	files  []fileJob
	dirs   []*dirJob
	active int
	done   bool
	err    error
	low    int
}

func newQueue(workers int) *queue {
	q := &queue{low: 4 * workers}
	q.cond.L = &q.mu
	return q
}

// pop returns the next job (exactly one of the results is set) or false when all work is done or failed.
func (q *queue) pop() (fileJob, *dirJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for {
		if q.done {
			return fileJob{}, nil, false
		}
		nf, nd := len(q.files), len(q.dirs)
		if nd > 0 && nf < q.low {
			d := q.dirs[nd-1]
			q.dirs[nd-1] = nil
			q.dirs = q.dirs[:nd-1]
			q.active++
			return fileJob{}, d, true
		}
		if nf > 0 {
			f := q.files[nf-1]
			q.files[nf-1] = fileJob{}
			q.files = q.files[:nf-1]
			q.active++
			return f, nil, true
		}
		if q.active == 0 {
			q.done = true
			q.cond.Broadcast()
			return fileJob{}, nil, false
		}
		q.cond.Wait()
	}
}

func (q *queue) push(files []fileJob, dirs []*dirJob) {
	if len(files) == 0 && len(dirs) == 0 {
		return
	}
	q.mu.Lock()
	q.files = append(q.files, files...)
	q.dirs = append(q.dirs, dirs...)
	q.mu.Unlock()
	if len(files)+len(dirs) > 1 {
		q.cond.Broadcast()
	} else {
		q.cond.Signal()
	}
}

// finish marks the job taken by pop as complete.
func (q *queue) finish() {
	q.mu.Lock()
	q.active--
	if q.active == 0 && len(q.files) == 0 && len(q.dirs) == 0 {
		q.done = true
		q.cond.Broadcast()
	}
	q.mu.Unlock()
}

// fail stops all workers; the first error wins.
func (q *queue) fail(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.done = true
	q.cond.Broadcast()
	q.mu.Unlock()
}

type worker struct {
	r       *recorder
	q       *queue
	h       *hasher
	entries []entry
	parts   []string
	files   []fileJob
	dirs    []*dirJob
	nFiles  *atomic.Int64
	nBytes  *atomic.Int64
}

// run walks the roots and hashes every file on r.workers goroutines.
func (r *recorder) run(ctx context.Context, roots []root) ([]entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	q := newQueue(r.workers)
	for _, rt := range roots {
		if rt.isDir {
			d := &dirJob{name: rt.name, path: rt.path, real: rt.real}
			if rt.name != "" {
				d.parts = splitName(rt.name)
				d.anc = r.excl.ancestorsOf(d.parts)
			}
			q.dirs = append(q.dirs, d)
		} else {
			q.files = append(q.files, fileJob{name: rt.name, path: rt.real, nofollow: true})
		}
	}
	stop := context.AfterFunc(ctx, func() { q.fail(ctx.Err()) })
	defer stop()

	var nFiles, nBytes atomic.Int64
	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if r.opts.Progress != nil {
		progressWG.Add(1)
		go func() {
			defer progressWG.Done()
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-progressDone:
					return
				case <-t.C:
					r.opts.Progress(int(nFiles.Load()), nBytes.Load())
				}
			}
		}()
	}

	workers := make([]*worker, r.workers)
	var wg sync.WaitGroup
	for i := range workers {
		w := &worker{r: r, q: q, h: newHasher(r.algs, r.opts.NormalizeLineEndings), nFiles: &nFiles, nBytes: &nBytes}
		workers[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx)
		}()
	}
	wg.Wait()
	for _, f := range q.files { // left over after a failure
		f.dir.release()
	}
	close(progressDone)
	progressWG.Wait()
	if r.opts.Progress != nil {
		r.opts.Progress(int(nFiles.Load()), nBytes.Load())
	}
	stop()
	q.mu.Lock()
	err := q.err
	q.mu.Unlock()
	if err != nil {
		return nil, err
	}
	n := 0
	for _, w := range workers {
		n += len(w.entries)
	}
	entries := make([]entry, 0, n)
	for _, w := range workers {
		entries = append(entries, w.entries...)
	}
	return entries, nil
}

func splitName(name string) []string {
	var parts []string
	for name != "" {
		i := 0
		for i < len(name) && name[i] != '/' {
			i++
		}
		parts = append(parts, name[:i])
		if i == len(name) {
			break
		}
		name = name[i+1:]
	}
	return parts
}

func (w *worker) loop(ctx context.Context) {
	for {
		f, d, ok := w.q.pop()
		if !ok {
			return
		}
		var err error
		if d != nil {
			err = w.listDir(ctx, d)
		} else {
			err = w.hashFile(ctx, f)
		}
		if err != nil {
			w.q.fail(err)
		}
		w.q.finish()
	}
}

func joinName(dir, n string) string {
	if dir == "" {
		return n
	}
	return dir + "/" + n
}

func (w *worker) listDir(ctx context.Context, d *dirJob) error {
	f, err := openDir(d.path, d.nofollow)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			w.r.log.Info("directory vanished while recording, skipping", "path", d.path)
			return nil
		}
		return fmt.Errorf("list %q: %w", d.path, err)
	}
	dh := &dirHandle{f: f, fd: dirFD(f)}
	dh.refs.Store(1) // held by this listing
	defer dh.release()
	for {
		ents, err := f.ReadDir(readDirBatch)
		w.files, w.dirs = w.files[:0], w.dirs[:0]
		for _, de := range ents {
			if err := w.entry(d, dh, de); err != nil {
				for _, fj := range w.files {
					fj.dir.release()
				}
				return err
			}
		}
		w.q.push(w.files, w.dirs)
		if errors.Is(err, io.EOF) || (err == nil && len(ents) == 0) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list %q: %w", d.path, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// entry classifies one directory entry into w.files / w.dirs.
func (w *worker) entry(d *dirJob, dh *dirHandle, de fs.DirEntry) error {
	r := w.r
	n := de.Name()
	name := joinName(d.name, n)
	path := d.path + string(filepath.Separator) + n
	w.parts = append(append(w.parts[:0], d.parts...), n)
	t := de.Type()
	switch {
	case t.IsRegular():
		if r.excl.matchIn(d.anc, w.parts, false) {
			return nil
		}
		dh.refs.Add(1)
		w.files = append(w.files, fileJob{name: name, path: path, dir: dh, base: n, nofollow: true})
	case t.IsDir():
		if r.excl.matchIn(d.anc, w.parts, true) || r.excludedDirName(name) {
			return nil
		}
		w.dirs = append(w.dirs, &dirJob{
			name: name, path: path, real: d.real + string(filepath.Separator) + n,
			parts: append([]string(nil), w.parts...), anc: r.excl.extend(d.anc, n), nofollow: true, parent: d,
		})
	case t&fs.ModeSymlink != 0:
		return w.symlink(d, name, n, path)
	default:
		r.log.Info("not a regular file or directory, skipping", "path", path)
	}
	return nil
}

func (w *worker) symlink(d *dirJob, name, n, path string) error {
	r := w.r
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.ENOTDIR) {
			r.log.Info("broken symlink, skipping", "path", path)
			return nil
		}
		return fmt.Errorf("resolve symlink %q: %w", path, err)
	}
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("resolve symlink %q: %w", path, err)
	}
	if !r.inBase(real) {
		r.log.Warn("symlink points outside the base path, skipping", "path", path, "target", real)
		return nil
	}
	if r.excludedReal(real) {
		return nil
	}
	switch {
	case fi.Mode().IsRegular():
		if r.excl.matchIn(d.anc, w.parts, false) {
			return nil
		}
		w.files = append(w.files, fileJob{name: name, path: real, nofollow: true})
	case fi.IsDir():
		if !r.opts.FollowSymlinks {
			return nil // python: os.walk(followlinks=False) lists but never enters it
		}
		if r.excl.matchIn(d.anc, w.parts, true) || r.excludedDirName(name) {
			return nil
		}
		for a := d; a != nil; a = a.parent {
			if a.real == real {
				r.log.Warn("symlink loop, skipping", "path", path, "target", real)
				return nil
			}
		}
		if _, ok := within(real, d.real); ok {
			r.log.Warn("symlink loop, skipping", "path", path, "target", real)
			return nil
		}
		w.dirs = append(w.dirs, &dirJob{
			name: name, path: real, real: real,
			parts: append([]string(nil), w.parts...), anc: r.excl.extend(d.anc, n), nofollow: true, parent: d,
		})
	default:
		r.log.Info("symlink to a special file, skipping", "path", path)
	}
	return nil
}

func (w *worker) hashFile(ctx context.Context, f fileJob) error {
	fd, err := openFile(f.dir, f.base, f.path, f.nofollow)
	f.dir.release()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			w.r.log.Info("file vanished while recording, skipping", "path", f.path)
			return nil
		}
		if errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("hash %q: became a symlink while recording: %w", f.path, err)
		}
		return fmt.Errorf("hash %q: %w", f.path, err)
	}
	defer closeFile(fd)
	h := w.h
	h.reset()
	var total int64
	for {
		n, err := readFile(fd, h.buf)
		if err != nil {
			return fmt.Errorf("hash %q: %w", f.path, &os.PathError{Op: "read", Path: f.path, Err: err})
		}
		if n == 0 {
			break
		}
		h.update(h.buf[:n])
		total += int64(n)
		if n == len(h.buf) && ctx.Err() != nil {
			return ctx.Err()
		}
	}
	w.entries = append(w.entries, entry{name: f.name, digest: h.digest()})
	w.nFiles.Add(1)
	w.nBytes.Add(total)
	return nil
}
