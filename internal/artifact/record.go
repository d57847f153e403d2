package artifact

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// defaultExcludePatterns returns in-toto-python's default exclude patterns
// (settings.ARTIFACT_EXCLUDE_PATTERNS): *.link*, .git, *.pyc, *~.
func defaultExcludePatterns() []string { return []string{"*.link*", ".git", "*.pyc", "*~"} }

// maxWorkers caps Options.Workers.
const maxWorkers = 256

// Supported hash algorithm names.
const (
	SHA256 = "sha256"
	SHA512 = "sha512"
)

// ErrUnsupportedAlgorithm is returned for a hash algorithm other than sha256 and sha512.
var ErrUnsupportedAlgorithm = errors.New("unsupported hash algorithm")

// ErrOutsideBase is returned when a path argument names something outside the base path.
var ErrOutsideBase = errors.New("outside the base path")

// ErrNameCollision is returned when two files are recorded under one name (after left-stripping).
var ErrNameCollision = errors.New("non-unique artifact name")

// Options control Record.
type Options struct {
	// BasePath is the directory artifact names are relative to; "" means the current directory.
	// Nothing outside it is recorded (see Record).
	BasePath string
	// Excludes are gitignore-style patterns matched against the base-relative name; a matching
	// directory is not descended into. "!" re-includes; the last matching pattern wins.
	Excludes []string
	// DefaultExcludes adds in-toto-python's defaults (*.link*, .git, *.pyc, *~) before Excludes.
	// (Python drops its defaults when --exclude is given; the intoto-ci CLI keeps them unless
	// --no-default-excludes is given, so that links never record each other by accident.)
	DefaultExcludes bool
	// ExcludeDirs are directories (absolute or relative to BasePath) never recorded, e.g. the links dir.
	// One that is the base itself is ignored: excluding it would record nothing.
	ExcludeDirs []string
	// LStripPaths are prefixes stripped from names (plain string prefixes, the first that matches,
	// as in both peers). Two prefixes where one is a prefix of the other are refused, as are two
	// files that end up with one name.
	LStripPaths []string
	// FollowSymlinks descends into symlinked directories found while walking. Symlinks to files are
	// always recorded as their target's content under the link's name (as in python).
	FollowSymlinks bool
	// NormalizeLineEndings turns CRLF and lone CR into LF before hashing.
	NormalizeLineEndings bool
	// Algorithms are the digests to compute: "sha256" (default) and/or "sha512".
	Algorithms []string
	// Workers bounds the goroutines walking and hashing; 0 means GOMAXPROCS, at most 256 (each has a
	// 256 KiB buffer).
	Workers int
	// Progress, if set, is called about every 200 ms and once at the end, never concurrently, with
	// the files and bytes hashed so far.
	Progress func(files int, bytes int64)
	// Logger receives notes about skipped paths (missing, broken symlink, special file, symlink
	// leaving the base). nil discards them.
	Logger *slog.Logger
}

// Record hashes the regular files named by paths (files, or directories walked recursively), relative
// to opts.BasePath, and returns them keyed by forward-slash names: cleaned, relative to the base, no
// "./" prefix (then left-stripped by opts.LStripPaths).
//
// Decisions, with in-toto-python 1.3.1 (runlib.record_artifacts_as_dict) as the reference:
//   - A path that does not exist is skipped with a log note, as python does (golang errors).
//   - A path argument that is absolute or contains ".." is accepted only if it stays inside the base;
//     otherwise Record fails with ErrOutsideBase. A path argument that resolves (through symlinks)
//     outside the base also fails. Python records anything it is given; we refuse, because a link must
//     only describe the workspace.
//   - A symlink met while walking whose target resolves outside the base is skipped with a log note
//     (python would hash the target). Skipping rather than failing keeps common trees such as Python
//     virtualenvs (bin/python -> /usr/bin/python3) recordable, and never puts a digest of a file
//     outside the workspace (a secret, say) into a link.
//   - Symlinks to files inside the base are hashed as their target under the link's name; broken
//     symlinks and special files (fifos, sockets, devices) are skipped, as in python.
//   - Symlinked directories are descended into only with FollowSymlinks (python follow_symlink_dirs);
//     a directory symlink given directly as a path argument is always walked (python os.walk does).
//     Loops are detected and skipped with a log note (python would recurse until the OS refuses).
//   - Excludes are matched against base-relative names before left-stripping, as in python.
//   - The same file reached twice (overlapping path arguments) is recorded once; python re-records it.
//   - Files found while walking are opened relative to their listed directory's descriptor with
//     O_NOFOLLOW, so a file or directory swapped for a symlink after the listing cannot redirect a read
//     outside the tree (the open fails instead).
//   - An unreadable file is an error naming it, as in both peers; so is an unreadable directory, which
//     python's os.walk would skip silently (a tree that cannot be read cannot be attested).
//
// Output is a set (sorted by name), so it does not depend on Workers or scheduling; errors are those
// of the first failure met.
func Record(ctx context.Context, paths []string, opts Options) (intoto.ArtifactSet, error) {
	r, err := newRecorder(opts)
	if err != nil {
		return intoto.ArtifactSet{}, err
	}
	if len(paths) == 0 {
		return intoto.ArtifactSet{}, nil
	}
	roots, err := r.resolveRoots(paths)
	if err != nil {
		return intoto.ArtifactSet{}, err
	}
	lists, err := r.run(ctx, roots)
	if err != nil {
		return intoto.ArtifactSet{}, err
	}
	return r.assemble(lists)
}

type recorder struct {
	opts     Options
	log      *slog.Logger
	base     string // absolute, cleaned
	realBase string // base with symlinks resolved
	algs     []string
	excl     *excluder
	exclDirs []string // base-relative names of excluded dirs
	exclReal []string // real absolute paths of excluded dirs
	workers  int
}

func newRecorder(opts Options) (*recorder, error) {
	r := &recorder{opts: opts, log: opts.Logger}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	algs, err := normalizeAlgorithms(opts.Algorithms)
	if err != nil {
		return nil, err
	}
	r.algs = algs
	for i, a := range opts.LStripPaths {
		if a == "" {
			return nil, fmt.Errorf("lstrip path %d is empty", i)
		}
		for _, b := range opts.LStripPaths[i+1:] {
			if strings.HasPrefix(a, b) || strings.HasPrefix(b, a) {
				return nil, fmt.Errorf("lstrip paths %q and %q: one is a prefix of the other", a, b)
			}
		}
	}
	base := opts.BasePath
	if base == "" {
		base = "."
	}
	abs, err := filepath.Abs(base)
	if err != nil {
		return nil, fmt.Errorf("base path %q: %w", base, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, fmt.Errorf("base path %q: %w", base, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("base path %q: %w", base, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("base path %q is not a directory", base)
	}
	r.base, r.realBase = abs, real
	var patterns []string
	if opts.DefaultExcludes {
		patterns = append(patterns, defaultExcludePatterns()...)
	}
	patterns = append(patterns, opts.Excludes...)
	r.excl = newExcluder(patterns)
	for _, d := range opts.ExcludeDirs {
		if d == "" {
			continue
		}
		p := d
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.base, p)
		}
		p = filepath.Clean(p)
		// The base itself cannot be excluded (links written to the workspace root, the default links
		// dir, are left to the *.link* pattern, as in python).
		if name, ok := within(r.base, p); ok && name != "" {
			r.exclDirs = append(r.exclDirs, name)
		}
		if rp, err := filepath.EvalSymlinks(p); err == nil && rp != r.realBase {
			r.exclReal = append(r.exclReal, rp)
			if name, ok := within(r.realBase, rp); ok && name != "" {
				r.exclDirs = append(r.exclDirs, name)
			}
		}
	}
	r.workers = opts.Workers
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	r.workers = min(r.workers, maxWorkers)
	return r, nil
}

func normalizeAlgorithms(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{SHA256}, nil
	}
	var out []string
	for _, a := range in {
		switch a {
		case SHA256, SHA512:
		default:
			return nil, fmt.Errorf("%w %q (want sha256 or sha512)", ErrUnsupportedAlgorithm, a)
		}
		if !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// within reports whether p (absolute, clean) is dir or below it, and its forward-slash name relative
// to dir ("" for dir itself).
func within(dir, p string) (string, bool) {
	if p == dir {
		return "", true
	}
	prefix := dir
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if !strings.HasPrefix(p, prefix) {
		return "", false
	}
	return filepath.ToSlash(p[len(prefix):]), true
}

// excludedDir reports whether the base-relative directory name is (inside) an excluded directory.
func (r *recorder) excludedDirName(name string) bool {
	for _, d := range r.exclDirs {
		if name == d || strings.HasPrefix(name, d+"/") {
			return true
		}
	}
	return false
}

// excludedReal reports whether the real path is (inside) an excluded directory.
func (r *recorder) excludedReal(real string) bool {
	for _, d := range r.exclReal {
		if _, ok := within(d, real); ok {
			return true
		}
	}
	return false
}

// inBase checks a resolved real path against the real base.
func (r *recorder) inBase(real string) bool {
	_, ok := within(r.realBase, real)
	return ok
}

// root is one path argument after resolution.
type root struct {
	name  string // base-relative forward-slash name ("" for the base)
	path  string // absolute path as named
	real  string // symlinks resolved
	isDir bool
}

func (r *recorder) resolveRoots(paths []string) ([]root, error) {
	var roots []root
	for _, arg := range paths {
		p := arg
		if p == "" {
			p = "."
		}
		p = filepath.FromSlash(p)
		if !filepath.IsAbs(p) {
			p = filepath.Join(r.base, p)
		}
		p = filepath.Clean(p)
		name, ok := within(r.base, p)
		if !ok {
			if rn, ok2 := within(r.realBase, p); ok2 {
				name, p, ok = rn, filepath.Join(r.base, filepath.FromSlash(rn)), true
			}
		}
		if !ok {
			return nil, fmt.Errorf("record %q: %w %q", arg, ErrOutsideBase, r.base)
		}
		if _, err := os.Lstat(p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.log.Warn("path does not exist, skipping", "path", arg)
				continue
			}
			return nil, fmt.Errorf("record %q: %w", arg, err)
		}
		real, err := filepath.EvalSymlinks(p)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				r.log.Info("path is a broken symlink, skipping", "path", arg)
				continue
			}
			return nil, fmt.Errorf("record %q: %w", arg, err)
		}
		if !r.inBase(real) {
			return nil, fmt.Errorf("record %q: resolves to %q, %w %q", arg, real, ErrOutsideBase, r.base)
		}
		fi, err := os.Stat(real)
		if err != nil {
			return nil, fmt.Errorf("record %q: %w", arg, err)
		}
		isDir := fi.IsDir()
		if !isDir && !fi.Mode().IsRegular() {
			r.log.Info("not a regular file or directory, skipping", "path", arg)
			continue
		}
		if name != "" && (r.excl.match(name, isDir) || r.excludedDirName(name)) {
			continue
		}
		if r.excludedReal(real) {
			continue
		}
		roots = append(roots, root{name: name, path: p, real: real, isDir: isDir})
	}
	return roots, nil
}

// assemble merges what the workers recorded, de-duplicates and left-strips it.
func (r *recorder) assemble(lists []recorded) (intoto.ArtifactSet, error) {
	total := 0
	for _, l := range lists {
		total += len(l.entries)
	}
	names := make([]string, 0, total)
	digs := make([]intoto.Digest, 0, total)
	// Left-stripping can make names collide and change their order; without it the sorted,
	// de-duplicated names are the set's.
	var from map[string]string // stripped name -> name before stripping ("" if not stripped)
	if len(r.opts.LStripPaths) > 0 {
		from = make(map[string]string, total)
	}
	m := newMerger(lists)
	prev := ""
	for i := 0; ; i++ {
		e, dig, ok := m.next()
		if !ok {
			break
		}
		if i > 0 && prev == e.name {
			continue // the same file reached through overlapping path arguments
		}
		prev = e.name
		key := e.name
		stripped := false
		for _, prefix := range r.opts.LStripPaths {
			if strings.HasPrefix(key, prefix) {
				key = key[len(prefix):]
				stripped = true
				break
			}
		}
		if stripped && key == "" {
			return intoto.ArtifactSet{}, fmt.Errorf("lstrip of %q leaves an empty name", e.name)
		}
		if err := intoto.CheckArtifactName(key); err != nil {
			// A file whose name no link may hold (a backslash, CR or LF in it; or what left-stripping
			// made of it): an input error naming the file, never a link that holds it.
			if stripped {
				return intoto.ArtifactSet{}, fmt.Errorf("file %q after --lstrip-paths: %w", e.name, err)
			}
			return intoto.ArtifactSet{}, fmt.Errorf("file %q: %w", e.name, err)
		}
		if from != nil {
			if other, dup := from[key]; dup {
				if other == "" {
					other = key
				}
				return intoto.ArtifactSet{}, fmt.Errorf("%w %q: both %q and %q", ErrNameCollision, key, other, e.name)
			}
			from[key] = ""
			if stripped {
				from[key] = e.name
			}
		}
		names = append(names, key)
		digs = append(digs, dig)
	}
	if from != nil {
		idx := make([]int, len(names))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(a, b int) int { return strings.Compare(names[a], names[b]) })
		sn, sd := make([]string, len(names)), make([]intoto.Digest, len(names))
		for i, j := range idx {
			sn[i], sd[i] = names[j], digs[j]
		}
		names, digs = sn, sd
	}
	set, ok := intoto.NewSortedArtifactSet(names, digs)
	if !ok { // cannot happen: names are sorted and unique
		return intoto.ArtifactSet{}, errors.New("recorded names are not unique")
	}
	return set, nil
}

// merger yields the entries of several lists sorted by name in order: a binary heap of the lists,
// keyed by their first names.
type merger struct {
	lists []recorded
	heap  []int // indices into lists, all with entries left
}

func newMerger(lists []recorded) *merger {
	m := &merger{lists: lists}
	for i, l := range lists {
		if len(l.entries) > 0 {
			m.heap = append(m.heap, i)
		}
	}
	for i := len(m.heap)/2 - 1; i >= 0; i-- {
		m.down(i)
	}
	return m
}

func (m *merger) less(a, b int) bool {
	return m.lists[m.heap[a]].entries[0].name < m.lists[m.heap[b]].entries[0].name
}

func (m *merger) down(i int) {
	n := len(m.heap)
	for {
		c := 2*i + 1
		if c >= n {
			return
		}
		if c+1 < n && m.less(c+1, c) {
			c++
		}
		if !m.less(c, i) {
			return
		}
		m.heap[i], m.heap[c] = m.heap[c], m.heap[i]
		i = c
	}
}

// next returns the first entry left and its digest.
func (m *merger) next() (entry, intoto.Digest, bool) {
	if len(m.heap) == 0 {
		return entry{}, intoto.Digest{}, false
	}
	l := &m.lists[m.heap[0]]
	e := l.entries[0]
	l.entries = l.entries[1:]
	if len(l.entries) == 0 {
		last := len(m.heap) - 1
		m.heap[0] = m.heap[last]
		m.heap = m.heap[:last]
	}
	m.down(0)
	return e, l.digs[e.i], true
}
