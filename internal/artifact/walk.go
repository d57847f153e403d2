package artifact

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// entry is one recorded file, named before left-stripping; its digest is digs[i] of the list holding
// it. Kept small because sorting moves entries around.
type entry struct {
	name string
	i    int
}

// recorded is what one worker recorded: entries sorted by name once the walk is over.
type recorded struct {
	entries []entry
	digs    []intoto.Digest
}

// fileJob is a file to hash.
type fileJob struct {
	name     string
	base     string     // with dir: the last component of name, opened relative to dir
	dir      *dirHandle // the listed directory holding the file, if found while walking
	path     string     // without dir: the path to open
	nofollow bool
}

// fullPath is the file's path, for messages.
func (f *fileJob) fullPath() string {
	if f.dir != nil {
		return f.dir.path + string(filepath.Separator) + f.base
	}
	return f.path
}

// dirHandle is a listed directory kept open while its files wait to be hashed.
type dirHandle struct {
	sys  dirSys // platform part: the open directory
	path string
	refs atomic.Int32
}

func (d *dirHandle) release() {
	if d != nil && d.refs.Add(-1) == 0 {
		d.closeDir()
	}
}

// dirEnt is one listed directory entry; name is only valid until the next listing call.
type dirEnt struct {
	name []byte
	typ  fs.FileMode // type bits only
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

// next marks the job the caller took last as complete if finished is set, then returns the next job
// (exactly one of the results is set) or false when all work is done or failed. One lock for both.
func (q *queue) next(finished bool) (fileJob, *dirJob, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if finished {
		q.active--
	}
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
	rec     recorded
	parts   []string
	files   []fileJob
	dirs    []*dirJob
	ents    []dirEnt
	dirBuf  []byte // listing buffer
	nameBuf []byte // scratch for building names
	cname   []byte // scratch for NUL-terminated names
	// Progress counters, read by the progress goroutine; each worker has its own, so counting does not
	// bounce a cache line between workers.
	nFiles, nBytes atomic.Int64
	_              [64]byte
}

// run walks the roots and hashes every file on r.workers goroutines. It returns what each worker
// recorded.
func (r *recorder) run(ctx context.Context, roots []root) ([]recorded, error) {
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

	workers := make([]*worker, r.workers)
	for i := range workers {
		workers[i] = &worker{r: r, q: q, h: newHasher(r.algs, r.opts.NormalizeLineEndings)}
	}
	progress := func() {
		var files, bytes int64
		for _, w := range workers {
			files += w.nFiles.Load()
			bytes += w.nBytes.Load()
		}
		r.opts.Progress(int(files), bytes)
	}
	progressDone := make(chan struct{})
	var progressWG sync.WaitGroup
	if r.opts.Progress != nil {
		progressWG.Go(func() {
			t := time.NewTicker(200 * time.Millisecond)
			defer t.Stop()
			for {
				select {
				case <-progressDone:
					return
				case <-t.C:
					progress()
				}
			}
		})
	}

	var wg sync.WaitGroup
	for _, w := range workers {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
	for _, f := range q.files { // left over after a failure
		f.dir.release()
	}
	close(progressDone)
	progressWG.Wait()
	if r.opts.Progress != nil {
		progress()
	}
	stop()
	q.mu.Lock()
	err := q.err
	q.mu.Unlock()
	if err != nil {
		return nil, err
	}
	lists := make([]recorded, 0, len(workers))
	for _, w := range workers {
		if len(w.rec.entries) > 0 {
			lists = append(lists, w.rec)
		}
	}
	return lists, nil
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
	finished := false
	for {
		f, d, ok := w.q.next(finished)
		if !ok {
			break
		}
		var err error
		if d != nil {
			err = w.listDir(ctx, d)
		} else {
			err = w.hashFile(ctx, &f)
		}
		if err != nil {
			w.q.fail(err)
		}
		finished = true
	}
	// Each worker sorts its own entries, in parallel with the others; assemble merges the lists.
	w.q.mu.Lock()
	failed := w.q.err != nil
	w.q.mu.Unlock()
	if !failed {
		slices.SortFunc(w.rec.entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	}
}

func (w *worker) listDir(ctx context.Context, d *dirJob) error {
	dh, err := openDirHandle(d.path, d.nofollow)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			w.r.log.Info("directory vanished while recording, skipping", "path", d.path)
			return nil
		}
		return fmt.Errorf("list %q: %w", d.path, err)
	}
	dh.refs.Store(1) // held by this listing
	defer dh.release()
	if w.dirBuf == nil {
		w.dirBuf = make([]byte, dirBufSize)
	}
	for {
		ents, done, err := readDirEnts(dh, w.dirBuf, w.ents)
		w.ents = ents
		if err != nil {
			return fmt.Errorf("list %q: %w", d.path, err)
		}
		w.files, w.dirs = w.files[:0], w.dirs[:0]
		for i := range ents {
			if err := w.entry(d, dh, &ents[i]); err != nil {
				return err // the files listed so far hold no reference yet
			}
		}
		// One reference per file to be opened through dh (not symlinks, hashed by path), taken for the
		// whole batch at once and released by each file once it is open.
		var refs int32
		for i := range w.files {
			if w.files[i].dir == dh {
				refs++
			}
		}
		dh.refs.Add(refs)
		w.q.push(w.files, w.dirs)
		if done {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// entry classifies one directory entry into w.files / w.dirs.
func (w *worker) entry(d *dirJob, dh *dirHandle, de *dirEnt) error {
	r := w.r
	b := w.nameBuf[:0]
	if d.name != "" {
		b = append(append(b, d.name...), '/')
	}
	b = append(b, de.name...)
	w.nameBuf = b
	name := string(b) // the one allocation for a file: its artifact name
	n := name[len(name)-len(de.name):]
	w.parts = append(append(w.parts[:0], d.parts...), n)
	t := de.typ
	switch {
	case t.IsRegular():
		if r.excl.matchIn(d.anc, w.parts, false) {
			return nil
		}
		w.files = append(w.files, fileJob{name: name, base: n, dir: dh, nofollow: true})
	case t.IsDir():
		if r.excl.matchIn(d.anc, w.parts, true) || r.excludedDirName(name) {
			return nil
		}
		path := d.path + string(filepath.Separator) + n
		w.dirs = append(w.dirs, &dirJob{
			name: name, path: path, real: d.real + string(filepath.Separator) + n,
			parts: append([]string(nil), w.parts...), anc: r.excl.extend(d.anc, n), nofollow: true, parent: d,
		})
	case t&fs.ModeSymlink != 0:
		return w.symlink(d, name, n, d.path+string(filepath.Separator)+n)
	default:
		r.log.Info("not a regular file or directory, skipping", "path", d.path+string(filepath.Separator)+n)
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

// hashFile hashes one file. It reads until read returns 0 even when a read came back short, one read
// more than the bytes need for most files. That last read is kept on purpose: a short read does not
// prove the end of the file. Local file systems return what they copied before an I/O error and report
// the error on the next call, so stopping at a short read would record the digest of a truncated file
// instead of failing; FUSE (direct_io) and network file systems may return short reads mid-file. Taking
// the size from fstat to stop early would be sound but costs a system call of its own, measured at the
// same CPU time as the read it saves, and mmap instead of read costs more than the copy it saves (page
// faults, unmapping) for small and large files alike.
func (w *worker) hashFile(ctx context.Context, f *fileJob) error {
	fd, err := openFile(f, &w.cname)
	f.dir.release()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			w.r.log.Info("file vanished while recording, skipping", "path", f.fullPath())
			return nil
		}
		if errors.Is(err, syscall.ELOOP) {
			return fmt.Errorf("hash %q: became a symlink while recording: %w", f.fullPath(), err)
		}
		return fmt.Errorf("hash %q: %w", f.fullPath(), err)
	}
	h := w.h
	h.reset()
	var total int64
	for {
		n, err := readFile(fd, h.buf)
		if err != nil {
			closeFile(fd)
			p := f.fullPath()
			return fmt.Errorf("hash %q: %w", p, &os.PathError{Op: "read", Path: p, Err: err})
		}
		if n == 0 {
			break
		}
		h.update(h.buf[:n])
		total += int64(n)
		if n == len(h.buf) && ctx.Err() != nil {
			closeFile(fd)
			return ctx.Err()
		}
	}
	closeFile(fd)
	w.rec.entries = append(w.rec.entries, entry{name: f.name, i: len(w.rec.digs)})
	w.rec.digs = append(w.rec.digs, h.digest())
	w.nFiles.Add(1)
	w.nBytes.Add(total)
	return nil
}
