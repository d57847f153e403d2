// Command bench measures intoto-ci against in-toto-python 1.3.1 and in-toto-golang v0.11.0 on the same
// generated inputs: recording a large tree, verifying a large and a small chain, wrapping `true`. It
// prints a table of medians (wall time, CPU time, peak RSS) and ratios, then one JSON line.
// Run it through scripts/bench.sh (make bench). It asserts nothing: timings are machine noise to CI.
package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	dir     string
	scale   float64
	runs    int
	ic      string
	golang  string
	python  bool
	peers   []string // subset of python, golang
	only    []string // subset of work names
	many    bool
	threads int
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var c config
	var peers, only string
	fs.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "intoto-ci-bench"), "work directory (generated inputs are kept and reused)")
	fs.Float64Var(&c.scale, "scale", 1, "size of the inputs relative to the issue's (100k files / 1000 MB; 100k artifacts per step)")
	fs.IntVar(&c.runs, "runs", 3, "timed runs per measurement (after one warm-up run)")
	fs.StringVar(&c.ic, "intoto-ci", "", "intoto-ci binary (required)")
	fs.StringVar(&c.golang, "in-toto-golang", "", "in-toto-golang binary (default: from PATH or GOPATH/bin)")
	fs.StringVar(&peers, "peers", "python,golang", "peers to measure (comma-separated; none for none)")
	fs.StringVar(&only, "only", "", "measure only these works (comma-separated: record,verify-big,verify-small,wrap,many,shapes)")
	fs.BoolVar(&c.many, "many", false, "also record 1M tiny files (scaled) with intoto-ci and compare peak RSS with the link size")
	fs.IntVar(&c.threads, "floor-threads", 2, "threads of the read and hash floors")
	genOnly := fs.Bool("generate-only", false, "only generate the inputs (the measuring process re-executes itself with this)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if c.ic == "" {
		return errors.New("-intoto-ci is required")
	}
	if peers != "none" && peers != "" {
		c.peers = strings.Split(peers, ",")
	}
	if only != "" {
		c.only = strings.Split(only, ",")
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "[bench] "+format+"\n", a...) }
	var err error
	if c.dir, err = filepath.Abs(c.dir); err != nil {
		return err
	}
	if c.ic, err = filepath.Abs(c.ic); err != nil {
		return err
	}
	tools := map[string]string{"intoto-ci": c.ic}
	for _, p := range c.peers {
		switch p {
		case "golang":
			bin := c.golang
			if bin == "" {
				bin = lookGolang()
			}
			if bin == "" {
				return errors.New("in-toto-golang not found (go install github.com/in-toto/in-toto-golang@v0.11.0)")
			}
			tools["golang"] = bin
		case "python":
			if _, err := exec.LookPath("in-toto-run"); err != nil {
				return errors.New("in-toto-python not found (apt-get install -y in-toto)")
			}
			tools["python"] = "in-toto-run"
		default:
			return fmt.Errorf("unknown peer %q", p)
		}
	}
	// The base works' inputs (a large tree among them) are generated unless only shapes are measured.
	base := len(c.only) == 0 || slices.ContainsFunc(c.only, func(w string) bool { return w != "shapes" })
	if *genOnly {
		if base {
			if _, err := generate(c.dir, paramsFor(c.scale, c.many), logf); err != nil {
				return err
			}
		}
		if len(c.only) == 0 || slices.Contains(c.only, "shapes") {
			return generateShapes(c.dir, c.scale, logf)
		}
		return nil
	}
	// Generate in a child process: a child's peak RSS (wait4 ru_maxrss) also counts the memory of the
	// process that forked it, at exec time, so the measuring process must stay small.
	self, err := os.Executable()
	if err != nil {
		return err
	}
	gen := exec.CommandContext(ctx, self, "-generate-only", "-intoto-ci", c.ic, "-dir", c.dir, "-scale", fmt.Sprint(c.scale),
		fmt.Sprintf("-many=%t", c.many), "-only", only, "-peers", "none")
	gen.Stdout, gen.Stderr = stderr, stderr
	if err := gen.Run(); err != nil {
		return fmt.Errorf("generate: %w", err)
	}
	var p genParams
	if base {
		if p, err = readParams(c.dir); err != nil {
			return err
		}
	}
	b := &bench{c: c, p: p, tools: tools, log: logf}
	rows, err := b.measureAll(ctx)
	if err != nil {
		return err
	}
	b.print(stdout, rows)
	return nil
}

func lookGolang() string {
	if p, err := exec.LookPath("in-toto-golang"); err == nil {
		return p
	}
	out, err := exec.Command("go", "env", "GOPATH").Output()
	if err != nil {
		return ""
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "bin", "in-toto-golang")
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

type bench struct {
	c     config
	p     genParams
	tools map[string]string
	log   func(string, ...any)
}

// sample is one process run.
type sample struct {
	wall, cpu time.Duration
	rssKB     int64
}

// stat is the median of a measurement's samples.
type stat struct {
	Wall  float64 `json:"wall_s"`
	CPU   float64 `json:"cpu_s"`
	RSSMB float64 `json:"rss_mb"`
	Runs  int     `json:"runs"`
}

type row struct {
	Work   string           `json:"work"`
	Desc   string           `json:"-"`
	Tools  map[string]*stat `json:"tools"`
	Floor  *stat            `json:"floor,omitempty"`
	Floor2 *stat            `json:"hash_floor,omitempty"`
	Note   string           `json:"note,omitempty"`
	// LinkMB is the size of the link intoto-ci wrote (memory check).
	LinkMB float64 `json:"link_mb,omitempty"`

	shape shapeCase // of a shape work
}

func median(s []sample) *stat {
	pick := func(f func(sample) float64) float64 {
		v := make([]float64, len(s))
		for i, x := range s {
			v[i] = f(x)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return &stat{
		Wall:  pick(func(x sample) float64 { return x.wall.Seconds() }),
		CPU:   pick(func(x sample) float64 { return x.cpu.Seconds() }),
		RSSMB: pick(func(x sample) float64 { return float64(x.rssKB) / 1024 }),
		Runs:  len(s),
	}
}

// command is one tool invocation: the program, its arguments and the directory it runs in. clean runs
// before every run (removes the previous link).
type command struct {
	dir   string
	argv  []string
	clean func() error
}

// smallRuns is the number of timed runs of the millisecond works (small verify, wrap, process start):
// three samples of a few milliseconds say little on a shared machine.
const smallRuns = 31

func (b *bench) want(work string) bool { return len(b.c.only) == 0 || slices.Contains(b.c.only, work) }

// work is one measured job: the command each tool runs for it (nil: the tool does not take part).
type work struct {
	name, desc string
	cmds       func(tool string) *command
}

// cleanDir returns a reset that empties dir before each run.
func cleanDir(dir string) func() error {
	return func() error {
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		return os.MkdirAll(dir, 0o755)
	}
}

// outDir is where a work's tools write their links.
func (b *bench) outDir(work string) string { return filepath.Join(b.c.dir, "out", work) }

// works lists the command-line works measured against the peers.
func (b *bench) works() []work {
	d := b.c.dir
	keys := filepath.Join(d, "keys")
	py := func(name string) string { return filepath.Join(filepath.Dir(mustLook("in-toto-run")), name) }
	out := b.outDir
	works := []work{
		{"record", fmt.Sprintf("record %d files / %.0f MB as products, signed", b.p.Files, float64(b.p.TotalBytes)/1e6),
			func(tool string) *command {
				o := filepath.Join(out("record"), tool)
				dir := filepath.Join(d, "record")
				switch tool {
				case "intoto-ci":
					return &command{dir, []string{b.tools[tool], "run", "--step", "rec", "--key", filepath.Join(keys, "func.pem"),
						"--links-dir", o, "--products", "tree", "--no-command"}, cleanDir(o)}
				case "golang":
					return &command{dir, []string{b.tools[tool], "run", "-n", "rec", "-k", filepath.Join(keys, "func.pem"),
						"-d", o, "-p", "tree", "-x"}, cleanDir(o)}
				default:
					return &command{dir, []string{py("in-toto-run"), "-n", "rec", "-k", filepath.Join(keys, "func.json"), "-t", "ed25519",
						"-d", o, "-p", "tree", "-x"}, cleanDir(o)}
				}
			}},
		{"verify-big", fmt.Sprintf("verify a 3-step chain, %d artifacts per step", b.p.Artifacts),
			func(tool string) *command { return b.verifyCmd(tool, filepath.Join(d, "verify-big"), py) }},
		{"verify-small", fmt.Sprintf("verify a 3-step chain, %d artifacts per step", b.p.Small),
			func(tool string) *command { return b.verifyCmd(tool, filepath.Join(d, "verify-small"), py) }},
		{"wrap", "wrap `true`, signed link",
			func(tool string) *command {
				o := filepath.Join(out("wrap"), tool)
				dir := filepath.Join(d, "wrap")
				switch tool {
				case "intoto-ci":
					return &command{dir, []string{b.tools[tool], "run", "--step", "t", "--key", filepath.Join(keys, "func.pem"),
						"--links-dir", o, "--", "true"}, cleanDir(o)}
				case "golang":
					return &command{dir, []string{b.tools[tool], "run", "-n", "t", "-k", filepath.Join(keys, "func.pem"),
						"-d", o, "--", "true"}, cleanDir(o)}
				default:
					return &command{dir, []string{py("in-toto-run"), "-n", "t", "-k", filepath.Join(keys, "func.json"), "-t", "ed25519",
						"-d", o, "--", "true"}, cleanDir(o)}
				}
			}},
	}
	if b.p.ManyFiles > 0 {
		works = append(works, work{"many", fmt.Sprintf("record %d tiny files (memory check)", b.p.ManyFiles),
			func(tool string) *command {
				if tool != "intoto-ci" {
					return nil
				}
				o := filepath.Join(out("many"), tool)
				return &command{filepath.Join(d, "many"), []string{b.tools[tool], "run", "--step", "many", "--key",
					filepath.Join(keys, "func.pem"), "--links-dir", o, "--products", "tree", "--no-command"}, cleanDir(o)}
			}})
	}
	return works
}

// measureWork times one work with intoto-ci and each peer, plus the floor or link size it is read against.
func (b *bench) measureWork(ctx context.Context, w work) (*row, error) {
	r := &row{Work: w.name, Desc: w.desc, Tools: map[string]*stat{}}
	for _, tool := range append([]string{"intoto-ci"}, b.c.peers...) {
		cmd := w.cmds(tool)
		if cmd == nil {
			continue
		}
		runs := 0
		if w.name == "verify-small" || w.name == "wrap" {
			runs = smallRuns
		}
		s, err := b.measure(ctx, cmd, runs)
		if err != nil {
			return nil, fmt.Errorf("%s with %s: %w", w.name, tool, err)
		}
		r.Tools[tool] = s
		b.log("%-12s %-10s wall %.3fs cpu %.3fs rss %.0f MB", w.name, tool, s.Wall, s.CPU, s.RSSMB)
	}
	var err error
	switch w.name {
	case "many":
		r.LinkMB, err = dirMB(filepath.Join(b.outDir("many"), "intoto-ci"))
	case "verify-small", "wrap":
		r.Floor, err = b.measure(ctx, &command{b.c.dir, []string{b.tools["intoto-ci"], "version"}, nil}, smallRuns)
		r.Note = "floor: intoto-ci version (process start)"
	}
	return r, err
}

func (b *bench) measureAll(ctx context.Context) ([]*row, error) {
	d := b.c.dir
	var rows []*row
	for _, w := range b.works() {
		if !b.want(w.name) {
			continue
		}
		r, err := b.measureWork(ctx, w)
		if err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	if b.want("shapes") {
		sr, err := b.measureShapes(ctx)
		if err != nil {
			return nil, err
		}
		rows = append(rows, sr...)
	}
	// The floors last: listing the tree grows this process, and a child's peak RSS counts it.
	for _, r := range rows {
		if r.Work == "record" {
			var err error
			if r.Floor, r.Floor2, err = b.recordFloors(filepath.Join(d, "record", "tree")); err != nil {
				return nil, err
			}
		}
	}
	return rows, nil
}

func (b *bench) verifyCmd(tool, dir string, py func(string) string) *command {
	keys := filepath.Join(b.c.dir, "keys")
	switch tool {
	case "intoto-ci":
		return &command{dir, []string{b.tools[tool], "verify", "--layout", "root.layout", "--layout-key",
			filepath.Join(keys, "owner.pub.pem"), "--links-dir", "links"}, nil}
	case "golang":
		return &command{dir, []string{b.tools[tool], "verify", "-l", "root.layout", "-k",
			filepath.Join(keys, "owner.pub.pem"), "-d", "links"}, nil}
	default:
		return &command{dir, []string{py("in-toto-verify"), "-l", "root.layout", "-k",
			filepath.Join(keys, "owner.pub.json"), "-t", "ed25519", "--link-dir", "links"}, nil}
	}
}

func mustLook(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return name
	}
	return p
}

// measure runs cmd once to warm the cache, then b.c.runs times (or runs, if more), and returns the
// medians.
func (b *bench) measure(ctx context.Context, c *command, runs int) (*stat, error) {
	var samples []sample
	for i := 0; i <= max(b.c.runs, runs); i++ {
		if c.clean != nil {
			if err := c.clean(); err != nil {
				return nil, err
			}
		}
		s, err := runOnce(ctx, c)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			samples = append(samples, s)
		}
	}
	return median(samples), nil
}

func runOnce(ctx context.Context, c *command) (sample, error) {
	cmd := exec.CommandContext(ctx, c.argv[0], c.argv[1:]...)
	cmd.Dir = c.dir
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	if err != nil {
		return sample{}, fmt.Errorf("%s: %w\n%s", strings.Join(c.argv, " "), err, tail(out.String(), 2000))
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{wall: wall}, nil
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{wall: wall, cpu: cpu, rssKB: ru.Maxrss}, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// recordFloors measures reading every file of the tree with b.c.threads goroutines, walk included, and
// hashing as many bytes from memory with sha256 on as many goroutines.
func (b *bench) recordFloors(root string) (read, hash *stat, err error) {
	files, err := listTree(root)
	if err != nil {
		return nil, nil, err
	}
	var total int64
	var reads, hashes []sample
	for i := 0; i <= b.c.runs; i++ {
		start := time.Now()
		cpu0 := cpuNow()
		n, size, err := readAll(root, b.c.threads)
		if err != nil {
			return nil, nil, err
		}
		if n != len(files) {
			return nil, nil, fmt.Errorf("read floor: read %d files of %d under %s", n, len(files), root)
		}
		if i > 0 {
			reads = append(reads, sample{wall: time.Since(start), cpu: cpuNow() - cpu0})
		}
		total = size
	}
	for i := 0; i <= b.c.runs; i++ {
		start := time.Now()
		cpu0 := cpuNow()
		hashBytes(total, b.c.threads)
		if i > 0 {
			hashes = append(hashes, sample{wall: time.Since(start), cpu: cpuNow() - cpu0})
		}
	}
	return median(reads), median(hashes), nil
}

func cpuNow() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readAll reads every regular file under root on threads goroutines, with exactly the system calls
// any correct recorder needs and nothing else: each directory is opened and listed with getdents64
// (whose d_type says which entries are files, so nothing is stat'ed), each file is opened relative to
// its directory's descriptor (one path component to look up), read into a reused 256 KiB buffer until
// read returns 0, and closed. A goroutine reads the files of the directory it lists; subdirectories go
// to a shared stack. No os.File: os.Open would add an epoll registration attempt, two fcntl calls and a
// full path lookup per file, work a recorder does not have to do (the earlier floor did, reading a
// precomputed list of full paths, which also left the walk out). It returns the files and bytes read.
func readAll(root string, threads int) (int, int64, error) {
	var (
		mu     sync.Mutex
		cond   = sync.Cond{L: &mu}
		dirs   = []string{root}
		active int
		files  int
		nbytes int64
		first  error
	)
	var wg sync.WaitGroup
	for range threads {
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			dbuf := make([]byte, 32<<10)
			var cname []byte
			var sub []string
			for {
				mu.Lock()
				for len(dirs) == 0 && active > 0 && first == nil {
					cond.Wait()
				}
				if len(dirs) == 0 || first != nil {
					mu.Unlock()
					return
				}
				d := dirs[len(dirs)-1]
				dirs = dirs[:len(dirs)-1]
				active++
				mu.Unlock()

				var n int
				var size int64
				var err error
				sub, n, size, err = readDir(d, buf, dbuf, &cname, sub[:0])
				mu.Lock()
				active--
				files += n
				nbytes += size
				dirs = append(dirs, sub...)
				if err != nil && first == nil {
					first = err
				}
				cond.Broadcast()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return files, nbytes, first
}

// readDir lists dir, reads its regular files and appends its subdirectories to sub.
func readDir(dir string, buf, dbuf []byte, cname *[]byte, sub []string) ([]string, int, int64, error) {
	dfd, err := unix.Open(dir, unix.O_RDONLY|unix.O_CLOEXEC|unix.O_DIRECTORY, 0)
	if err != nil {
		return sub, 0, 0, fmt.Errorf("open %s: %w", dir, err)
	}
	defer unix.Close(dfd)
	var files int
	var size int64
	for {
		n, err := unix.Getdents(dfd, dbuf)
		if err != nil {
			return sub, files, size, fmt.Errorf("getdents %s: %w", dir, err)
		}
		if n <= 0 {
			return sub, files, size, nil
		}
		for b := dbuf[:n]; len(b) > 0; {
			// struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen, u8 d_type, NUL-terminated d_name
			reclen := int(binary.NativeEndian.Uint16(b[16:18]))
			typ, name := b[18], b[19:reclen]
			b = b[reclen:]
			name = name[:bytes.IndexByte(name, 0)]
			if string(name) == "." || string(name) == ".." {
				continue
			}
			switch typ {
			case unix.DT_DIR:
				sub = append(sub, dir+"/"+string(name))
			case unix.DT_REG:
				k, err := readFile(dfd, name, buf, cname)
				if err != nil {
					return sub, files, size, fmt.Errorf("%s/%s: %w", dir, name, err)
				}
				files++
				size += k
			case unix.DT_UNKNOWN:
				return sub, files, size, fmt.Errorf("%s/%s: the file system does not report entry types", dir, name)
			}
		}
	}
}

// readFile opens name relative to dfd, reads it to the end and closes it. The NUL-terminated name is
// built in cname, so nothing is allocated.
func readFile(dfd int, name, buf []byte, cname *[]byte) (int64, error) {
	c := append(append((*cname)[:0], name...), 0)
	*cname = c
	fd, _, errno := unix.Syscall6(unix.SYS_OPENAT, uintptr(dfd), uintptr(unsafe.Pointer(&c[0])),
		unix.O_RDONLY|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0, 0, 0)
	if errno != 0 {
		return 0, errno
	}
	var n int64
	for {
		k, err := unix.Read(int(fd), buf)
		if err != nil {
			unix.Close(int(fd))
			return n, err
		}
		if k == 0 {
			break
		}
		n += int64(k)
	}
	return n, unix.Close(int(fd))
}

func hashBytes(total int64, threads int) {
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	per := total / int64(threads)
	for w := 0; w < threads; w++ {
		wg.Go(func() {
			h := sha256.New()
			for left := per; left > 0; left -= int64(len(buf)) {
				h.Write(buf[:min(int64(len(buf)), left)])
			}
			h.Sum(nil)
		})
	}
	wg.Wait()
}

func dirMB(dir string) (float64, error) {
	var n int64
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			return 0, err
		}
		n += info.Size()
	}
	return float64(n) / (1 << 20), nil
}

func (b *bench) print(w io.Writer, rows []*row) {
	fmt.Fprintf(w, "\nintoto-ci benchmark: scale %g, medians of %d runs (%d for small verify, wrap and start) after a warm-up, %d CPUs (%s), %s\n",
		b.c.scale, b.c.runs, max(b.c.runs, smallRuns), runtime.NumCPU(), cpuModel(), runtime.Version())
	fmt.Fprintln(w, "wall s (cpu s, peak RSS MB); ratio = peer wall / intoto-ci wall")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "| %-52s | %-22s | %-22s | %-22s | %-24s | %-9s | %-9s |\n", "work", "intoto-ci", "in-toto-golang", "in-toto-python", "floor", "golang/ic", "python/ic")
	fmt.Fprintf(w, "|%s|%s|%s|%s|%s|%s|%s|\n", dashes(54), dashes(24), dashes(24), dashes(24), dashes(26), dashes(11), dashes(11))
	cell := func(s *stat) string {
		if s == nil {
			return "–"
		}
		return fmt.Sprintf("%.3f (%.2f, %.0f)", s.Wall, s.CPU, s.RSSMB)
	}
	ratio := func(r *row, peer string) string {
		p, ic := r.Tools[peer], r.Tools["intoto-ci"]
		if p == nil || ic == nil || ic.Wall == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f×", p.Wall/ic.Wall)
	}
	for _, r := range rows {
		floor := "–"
		switch {
		case r.Floor2 != nil:
			floor = fmt.Sprintf("read %.3f, hash %.3f", r.Floor.Wall, r.Floor2.Wall)
		case r.Floor != nil:
			floor = fmt.Sprintf("start %.3f", r.Floor.Wall)
		case r.LinkMB > 0:
			floor = fmt.Sprintf("link %.0f MB", r.LinkMB)
		}
		fmt.Fprintf(w, "| %-52s | %-22s | %-22s | %-22s | %-24s | %-9s | %-9s |\n", r.Desc, cell(r.Tools["intoto-ci"]),
			cell(r.Tools["golang"]), cell(r.Tools["python"]), floor, ratio(r, "golang"), ratio(r, "python"))
	}
	for _, r := range rows {
		ic := r.Tools["intoto-ci"]
		switch {
		case r.Work == "record" && r.Floor != nil && ic != nil:
			fmt.Fprintf(w, "record: intoto-ci / read floor = %.2f×\n", ic.Wall/r.Floor.Wall)
		case r.Work == "many" && ic != nil && r.LinkMB > 0:
			fmt.Fprintf(w, "many files: peak RSS / link size = %.2f×\n", ic.RSSMB/r.LinkMB)
		}
	}
	exps := printExponents(w, rows)
	j, err := json.Marshal(map[string]any{"scale": b.c.scale, "runs": b.c.runs, "cpus": runtime.NumCPU(),
		"cpu": cpuModel(), "go": runtime.Version(), "rows": rows, "exponents": exponentsJSON(exps)})
	if err == nil {
		fmt.Fprintf(w, "\n%s\n", j)
	}
}

func dashes(n int) string { return strings.Repeat("-", n) }

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
