package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// DefaultInspectionTimeout bounds one inspection command when Options.InspectionTimeout is zero.
const DefaultInspectionTimeout = 10 * time.Minute

// Errors callers branch on that are not refusals.
var (
	// ErrNoLayoutTrust is returned when neither a layout key nor a layout identity was given.
	ErrNoLayoutTrust = errors.New("no layout key or layout identity given")
	// ErrLayoutInvalid is returned when the layout cannot be read or decoded.
	ErrLayoutInvalid = errors.New("invalid layout")
)

// IsInputError tells an error of Verify about its input (a layout or link that cannot be read or
// decoded, a limit exceeded: the caller's exit 2) from an operational failure (exit 3).
func IsInputError(err error) bool {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) ||
		errors.Is(err, intoto.ErrInvalid) || errors.Is(err, ErrLayoutInvalid) || errors.Is(err, ErrLimit) ||
		errors.As(err, &syntax) || errors.As(err, &typeErr)
}

// LayoutError is what Verify returns for a layout it cannot use (it wraps ErrLayoutInvalid): the error
// names the layout file once, in front. Errors about links name their link file or links directory.
type LayoutError struct {
	Path string
	Err  error
}

func (e *LayoutError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *LayoutError) Unwrap() error { return e.Err }

// ErrLayoutExpired is the sentinel of a refusal at the expiry stage.
var ErrLayoutExpired = errors.New("layout expired")

// Options configure one verification.
type Options struct {
	// LayoutPath is the signed layout file. Ignored for reading when Layout is set, but still reported.
	LayoutPath string
	// Layout is the signed layout as received; when nil the file at LayoutPath is read.
	Layout []byte
	// LayoutKeys must each have a valid signature over the layout.
	LayoutKeys []*intoto.Key
	// LayoutIdentities must each match the keyless signer of the layout (a Sigstore bundle).
	LayoutIdentities []*intoto.Identity
	// LinksDir holds the links (default "."). Sublayout links live in <step>.<id8>/ below it.
	LinksDir string
	// Params substitutes {name} placeholders in the layout's rules, commands and inspections.
	// Nil means no substitution at all (as in the reference: placeholders stay literal).
	Params map[string]string
	// Keyless verifies Sigstore bundles; nil rejects every bundle with a reason.
	Keyless BundleVerifier
	// WorkDir is where inspections run and record their artifacts (default ".").
	WorkDir string
	// InspectionTimeout bounds each inspection (default DefaultInspectionTimeout).
	InspectionTimeout time.Duration
	// SameRun asks that all keyless links come from one CI run (see runbinding.go). The layout can ask
	// for it too (run_binding); either turns it on.
	SameRun bool
	// Commit, when set, asks that every link shows this commit: its certificate's
	// source_repository_digest, or else the commit recorded in the link by `run --commit` (commit.go).
	// Sublayouts are verified with the same commit.
	Commit string
	// Now is the time to check expiry against (default time.Now()).
	Now time.Time
	// Logger receives progress at debug/info level; nil discards.
	Logger *slog.Logger
	// Limits bound what untrusted input can make verify read.
	Limits Limits
	// Progress, if set, is told how far long stages got: reading links, hashing for inspections.
	// It is called from the verifying goroutine or the hashing progress goroutine, never both at once
	// for one stage.
	Progress func(Progress)

	// linksPrefix names LinksDir relative to the top links directory in reports (sublayouts).
	linksPrefix string
}

// Progress is one progress report. Done of Total counts files read (Total 0 when unknown); Files
// and Bytes count what was hashed so far.
type Progress struct {
	Stage string
	Done  int
	Total int
	Files int
	Bytes int64
}

func (o Options) progress(p Progress) {
	if o.Progress != nil {
		o.Progress(p)
	}
}

// Limits bound the work untrusted files can cause. Zero fields take the defaults.
type Limits struct {
	// MaxFileSize is the largest link or layout file read (default 64 MiB).
	MaxFileSize int64
	// MaxFiles is the most candidate files one links directory may hold (default 10000); more is an
	// error wrapping ErrLimit, not a silent cut: the files past it could be authorized links.
	MaxFiles int
	// MaxDepth is the deepest sublayout nesting (default 8).
	MaxDepth int
	// MaxJSONDepth is the deepest JSON nesting of a link or layout file (default 64; real ones
	// nest less than 10).
	MaxJSONDepth int
	// MaxArtifacts is the most materials plus products one link may list (default 1,000,000).
	MaxArtifacts int
	// MaxSignatures is the most signatures one envelope may carry (default 64).
	MaxSignatures int
}

func (l Limits) withDefaults() Limits {
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = 64 << 20
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = 10000
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = 8
	}
	if l.MaxJSONDepth <= 0 {
		l.MaxJSONDepth = 64
	}
	if l.MaxArtifacts <= 0 {
		l.MaxArtifacts = 1_000_000
	}
	if l.MaxSignatures <= 0 {
		l.MaxSignatures = 64
	}
	return l
}

func (o Options) withDefaults() Options {
	if o.LinksDir == "" {
		o.LinksDir = "."
	}
	if o.WorkDir == "" {
		o.WorkDir = "."
	}
	if o.InspectionTimeout <= 0 {
		o.InspectionTimeout = DefaultInspectionTimeout
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	o.Limits = o.Limits.withDefaults()
	return o
}

// Verify runs the whole in-toto verification. It returns a Result for every verdict (check
// Result.Verified); an error means the verification could not be carried out.
func Verify(ctx context.Context, opts Options) (*Result, error) {
	opts = opts.withDefaults()
	res, _, err := verifyLayout(ctx, opts, 0)
	if errors.Is(err, ErrLayoutInvalid) {
		err = &LayoutError{Path: opts.LayoutPath, Err: err}
	}
	return res, err
}

// verification is the state of one (sub)layout verification.
type verification struct {
	opts   Options
	depth  int
	log    *slog.Logger
	layout *intoto.Layout
	res    *Result
	// kept holds the accepted links per step name, in file order.
	kept map[string][]*keptLink
	// reduced holds one link per step (and later per inspection) for the rules.
	reduced map[string]*Evidence
	// rules are the layout's rules, parsed once (checkRuleGrammar).
	rules map[ruleKey]itemRules
}

// verifyLayout verifies one layout and returns, when verified, the reduced links of its steps (for a
// summary link). It is called recursively for sublayouts.
func verifyLayout(ctx context.Context, opts Options, depth int) (*Result, map[string]*Evidence, error) {
	v := &verification{
		opts:  opts,
		depth: depth,
		log:   opts.Logger.With("depth", depth),
		res:   &Result{Layout: LayoutInfo{Path: opts.LayoutPath}, Steps: []StepResult{}},
		kept:  map[string][]*keptLink{},
	}
	data := opts.Layout
	if data == nil {
		var err error
		data, err = readLimited(opts.LayoutPath, opts.Limits.MaxFileSize)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is named once, by LayoutError or the sublayout's step
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%w: read layout: %w", ErrLayoutInvalid, err)
		}
	}
	if len(opts.LayoutKeys) == 0 && len(opts.LayoutIdentities) == 0 {
		return nil, nil, ErrNoLayoutTrust
	}
	if err := checkJSONDepth(data, opts.Limits.MaxJSONDepth); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLayoutInvalid, err)
	}
	if err := wire.CheckDuplicateKeys(data); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrLayoutInvalid, err)
	}

	// 1. Layout signatures.
	v.log.Info("verifying layout signatures")
	layout, fail, err := v.verifyLayoutSignatures(ctx, data)
	if err != nil {
		return nil, nil, err
	}
	if fail != nil {
		return v.res.refuse(KindStep, fail), nil, nil
	}
	v.layout = layout
	v.res.Layout.Expires = layout.Expires
	v.res.Layout.Readme = layout.Readme
	v.initSteps()

	// 2. Expiry.
	v.log.Info("verifying layout expiration")
	if fail := v.checkExpiry(); fail != nil {
		return v.res.refuse(KindStep, fail), nil, nil
	}

	// 3. Parameter substitution.
	if opts.Params != nil {
		v.log.Info("substituting parameters")
		if err := layout.Substitute(opts.Params); err != nil {
			return nil, nil, fmt.Errorf("%w: substitute parameters: %w", ErrLayoutInvalid, err)
		}
	}
	if v.rules, err = checkRuleGrammar(layout); err != nil {
		return nil, nil, err
	}

	// 4. Links, signatures and thresholds.
	v.log.Info("loading links", "dir", opts.LinksDir)
	if err := v.loadLinks(ctx); err != nil {
		return nil, nil, err
	}
	if fail := v.checkThresholds(); fail != nil {
		return v.res.refuse(KindStep, fail), nil, nil
	}

	// 5. Sublayouts.
	v.log.Info("verifying sublayouts")
	fail, err = v.verifySublayouts(ctx)
	if err != nil {
		return nil, nil, err
	}
	if fail != nil {
		return v.res.refuse(KindStep, fail), nil, nil
	}

	// 6. Command alignment (warnings only).
	v.checkCommands()

	// 7. Links of a step agree.
	v.log.Info("verifying link consistency")
	if fail := v.checkConsistency(); fail != nil {
		return v.res.refuse(KindStep, fail), nil, nil
	}
	v.reduce()
	if fail := checkArtifactNames(v.layout.Steps, v.reduced); fail != nil {
		return v.res.refuse(KindStep, fail), nil, nil
	}

	// 8. Step rules.
	v.log.Info("verifying step rules")
	if fail, err := v.verifyStepRules(); err != nil || fail != nil {
		if err != nil {
			return nil, nil, err
		}
		return v.res.refuse(KindStep, fail), nil, nil
	}

	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}

	// 9. Inspections.
	v.log.Info("running inspections")
	fail, err = v.runInspections(ctx)
	if err != nil {
		return nil, nil, err
	}
	if fail != nil {
		return v.res.refuse(KindInspection, fail), nil, nil
	}

	// 10. Inspection rules.
	v.log.Info("verifying inspection rules")
	if fail, err := v.verifyInspectionRules(); err != nil || fail != nil {
		if err != nil {
			return nil, nil, err
		}
		return v.res.refuse(KindInspection, fail), nil, nil
	}

	// intoto-ci: run binding.
	if opts.SameRun || runBindingRequested(layout.RunBinding) {
		v.log.Info("verifying run binding")
		if fail := v.checkRunBinding(); fail != nil {
			return v.res.refuse(KindStep, fail), nil, nil
		}
	}

	// intoto-ci: commit binding.
	if opts.Commit != "" {
		v.log.Info("verifying commit binding", "commit", opts.Commit)
		if fail := v.checkCommit(opts.Commit); fail != nil {
			return v.res.refuse(KindStep, fail), nil, nil
		}
	}

	v.res.Verified = true
	v.res.Evidence = v.reduced
	v.res.bound, v.res.boundKeyed = v.keylessLinks()
	for i := range v.res.Steps {
		v.res.Steps[i].Status = StatusPassed
	}
	v.log.Info("verification passed")
	return v.res, v.reduced, nil
}

// initSteps lists every step and inspection of the layout in the result, not yet run.
func (v *verification) initSteps() {
	for _, s := range v.layout.Steps {
		v.res.Steps = append(v.res.Steps, StepResult{
			Name: s.Name, Kind: KindStep, Status: StatusSkipped, Threshold: s.Threshold,
		})
	}
	for _, in := range v.layout.Inspections {
		v.res.Steps = append(v.res.Steps, StepResult{Name: in.Name, Kind: KindInspection, Status: StatusSkipped})
	}
}

// checkExpiry refuses a layout whose expiry is before Now (stage 2).
func (v *verification) checkExpiry() *Failure {
	exp, err := v.layout.ExpiryTime()
	if err != nil {
		return newFailure(ErrLayoutExpired, StageExpiry, "",
			fmt.Sprintf("unreadable expiry %q", v.layout.Expires), err)
	}
	if exp.Before(v.opts.Now) {
		return newFailure(ErrLayoutExpired, StageExpiry, "",
			fmt.Sprintf("layout expired at %s", exp.UTC().Format(time.RFC3339)))
	}
	return nil
}

// readLimited reads a file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := openRead(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Read into a buffer of the file's size (plus some, to see EOF) made at once, not one grown by
	// doubling (links reach tens of MB), nor by bytes.Buffer, which clears the memory it grows into
	// just before the read overwrites it. The size is only a hint; the limit holds whatever the file does.
	size := bytes.MinRead
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() < limit {
		size += int(fi.Size())
	}
	data := make([]byte, 0, size)
	for {
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
		end := cap(data) // at most limit+1 bytes in all: one past the limit tells it was exceeded
		if rest := limit - int64(len(data)); rest < int64(end-len(data)) {
			end = len(data) + int(rest) + 1
		}
		n, err := f.Read(data[len(data):end])
		data = data[:len(data)+n]
		if int64(len(data)) > limit {
			return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
		}
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, err
		}
	}
}
