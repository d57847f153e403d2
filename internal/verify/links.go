package verify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/intoto-ci/intoto-ci/internal/envelope"
	"github.com/intoto-ci/intoto-ci/internal/intoto"
	"github.com/intoto-ci/intoto-ci/internal/keys"
	"github.com/intoto-ci/intoto-ci/internal/wire"
)

// keptLink is a link accepted for a step: signed by an authorized functionary.
type keptLink struct {
	file        string // relative to the links directory
	functionary string // keyid or identity name
	signer      string // keyid or "subject (issuer)"
	format      string
	link        *intoto.Link // for a sublayout: the summary link, once stage 5 ran
	// materials and products are the artifacts the rules read: the link's own, or for a sublayout
	// those of its first and last steps (stage 5).
	materials, products intoto.ArtifactSet
	// sublayout holds the raw signed layout when the file delegates the step.
	sublayout []byte
	key       *intoto.Key      // the functionary's key, for key-signed links
	material  string           // its public key material (PreparedKey.Material), for key-signed links
	identity  *intoto.Identity // the functionary's identity, for keyless links
	keyless   *Verified        // the bundle verification, for keyless links
	id8       string           // the <id8> of the file name, for keyless sublayout dirs
	// subBound and subKeyed are, for a verified sublayout, its keyless links and its count of
	// key-signed ones (nested sublayouts included), for run binding.
	subBound []boundLink
	subKeyed int
}

// candidate is a file from the links directory that decoded as in-toto metadata.
type candidate struct {
	file   string
	data   []byte
	signed *envelope.Signed
	// content, decoded from the payload (unauthenticated until a signature check passes).
	stepName string
	link     *intoto.Link
	isLayout bool

	// Work done ahead by the reading goroutines for a file of a step of the layout (checkAhead), if
	// done: the sha256 of data; signed.VerifyKey's answer for each keyid of the step's functionaries
	// that a signature may be by (stepKeys.candidates); for a bundle, the keyless verifier's answer.
	sum     *[32]byte
	keyErrs map[string]error
	bundle  *bundleResult
}

// bundleResult is what the keyless verifier answered for a bundle.
type bundleResult struct {
	got *Verified
	err error
}

// isCandidateName tells whether a file name may hold a link: *.link, *.link.sigstore.json, *.json.
func isCandidateName(name string) bool {
	return strings.HasSuffix(name, ".link") || strings.HasSuffix(name, ".json")
}

// loadLinks reads every candidate file of the links directory and keeps, per step, the links signed
// by an authorized functionary (stage 4, without the threshold check: see checkThresholds).
func (v *verification) loadLinks(ctx context.Context) error {
	steps := v.prepareSteps()
	cands, err := v.readCandidates(ctx, steps)
	if err != nil {
		return err
	}
	for _, c := range cands {
		sk := steps[c.stepName]
		if sk == nil {
			v.log.Debug("ignoring link of a step not in the layout", "file", c.file, "step", c.stepName)
			continue
		}
		if err := v.authorize(ctx, sk, c); err != nil {
			return err
		}
	}
	return nil
}

// candidateNames lists the names of the regular files in the links directory that may hold a link, in
// name order, and how many entries the directory has (progress counts them). A sublayout without a
// links directory of its own has none.
func (v *verification) candidateNames() ([]string, int, error) {
	entries, err := os.ReadDir(v.opts.LinksDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && v.depth > 0 {
			return nil, 0, nil // its threshold check reports it
		}
		return nil, 0, fmt.Errorf("read links dir: %w", err)
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if !e.Type().IsRegular() || !isCandidateName(name) {
			continue
		}
		if len(names) == v.opts.Limits.MaxFiles {
			// Fail closed: ignoring the rest would let whoever can add files (junk sorting first)
			// hide an authorized link, e.g. an honest one that disagrees with a compromised signer's.
			return nil, 0, fmt.Errorf("%w: links dir %s has more than %d candidate files (*.link, *.json)",
				ErrLimit, v.opts.LinksDir, v.opts.Limits.MaxFiles)
		}
		names = append(names, name)
	}
	return names, len(entries), nil
}

// readCandidates lists the links directory (not its subdirectories) in name order and decodes every
// file that may hold a link. Files that are not in-toto metadata are skipped; a *.link file that cannot
// be read as one is reported as a warning.
func (v *verification) readCandidates(ctx context.Context, steps map[string]*stepKeys) ([]*candidate, error) {
	names, entries, err := v.candidateNames()
	if err != nil || names == nil {
		return nil, err
	}
	// Files are read and decoded by GOMAXPROCS goroutines (decoding a large link is CPU-bound), which
	// then also hash each file of a step and check its signatures, as tasks of their own so that the
	// goroutines stay busy to the end; files are taken in name order, so warnings and results do not
	// depend on scheduling.
	type read struct {
		c    *candidate
		err  error
		left atomic.Int32 // tasks of this file not yet done
		done chan struct{}
	}
	reads := make([]read, len(names))
	// Every file queues at most three tasks (read, hash, signatures): the queue never blocks.
	tasks := make(chan func(), 3*len(names))
	var pending atomic.Int64 // tasks queued and not yet done; the last one closes the queue
	queue := func(t func()) {
		pending.Add(1)
		tasks <- t
	}
	for i := range reads {
		r := &reads[i]
		r.done = make(chan struct{})
		r.left.Store(1)
		finish := func() {
			if r.left.Add(-1) == 0 {
				close(r.done)
			}
		}
		queue(func() {
			defer finish()
			if ctx.Err() != nil {
				return
			}
			r.c, r.err = v.readCandidate(names[i])
			if r.err != nil {
				return
			}
			for _, t := range v.checkAhead(ctx, r.c, steps) {
				r.left.Add(1)
				queue(func() {
					defer finish()
					if ctx.Err() == nil {
						t()
					}
				})
			}
		})
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for range min(runtime.GOMAXPROCS(0), len(names)) {
		wg.Go(func() {
			for t := range tasks {
				t()
				if pending.Add(-1) == 0 {
					close(tasks)
				}
			}
		})
	}
	var out []*candidate
	for i, name := range names {
		select {
		case <-reads[i].done:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return nil, err // the file's tasks may have been skipped
		}
		v.opts.progress(Progress{Stage: "reading links", Done: i + 1, Total: entries})
		c, err := reads[i].c, reads[i].err
		if err != nil {
			if strings.Contains(name, ".link") {
				v.warn("%s: ignored: %v", v.relFile(name), err)
			} else {
				v.log.Debug("not a link", "file", name, "err", err)
			}
			continue
		}
		out = append(out, c)
	}
	return out, nil
}

// readCandidate reads and decodes one file.
func (v *verification) readCandidate(name string) (*candidate, error) {
	data, err := readLimited(filepath.Join(v.opts.LinksDir, name), v.opts.Limits.MaxFileSize)
	if err != nil {
		return nil, err
	}
	c, err := decodeCandidate(v.relFile(name), name, data, v.opts.Limits.MaxJSONDepth)
	if err != nil {
		return nil, err
	}
	if err := v.opts.Limits.checkCandidate(c); err != nil {
		return nil, err
	}
	return c, nil
}

// checkAhead returns the work authorize will want done for c, to be done now in parallel: hashing
// the file, and checking its signatures with the keys of the step it names that they may be by, or
// verifying it when it is a bundle and the step has keyless functionaries. A file of no step of the
// layout gets none. Each task writes its own field of c.
func (v *verification) checkAhead(ctx context.Context, c *candidate, steps map[string]*stepKeys) []func() {
	sk := steps[c.stepName]
	if sk == nil {
		return nil
	}
	tasks := []func(){func() {
		sum := sha256.Sum256(c.data)
		c.sum = &sum
	}}
	switch {
	case c.signed.Kind != envelope.Bundle:
		pos := sk.candidates(c)
		c.keyErrs = make(map[string]error, len(pos))
		tasks = append(tasks, func() {
			for _, i := range pos {
				keyid := sk.step.PubKeys[i]
				if _, done := c.keyErrs[keyid]; !done {
					c.keyErrs[keyid] = c.signed.VerifyPrepared(sk.keys[i])
				}
			}
		})
	case len(sk.step.Identities) > 0 && v.opts.Keyless != nil:
		tasks = append(tasks, func() {
			got, err := v.opts.Keyless.VerifyBundle(ctx, c.data)
			c.bundle = &bundleResult{got, err}
		})
	}
	return tasks
}

// verifyKey is c.signed.VerifyKey for the key keyid, answered by checkAhead when it could.
func (c *candidate) verifyKey(keyid string, key *keys.PreparedKey) error {
	if err, ok := c.keyErrs[keyid]; ok {
		return err
	}
	return c.signed.VerifyPrepared(key)
}

// digest is the sha256 of the file.
func (c *candidate) digest() [32]byte {
	if c.sum != nil {
		return *c.sum
	}
	return sha256.Sum256(c.data)
}

// decodeCandidate parses a file's envelope and reads which step it is evidence for.
func decodeCandidate(file, name string, data []byte, maxJSONDepth int) (*candidate, error) {
	return decodeFile(file, name, data, maxJSONDepth, true)
}

// decodeFile is decodeCandidate; onePass=false leaves out the one-pass reading of the usual files
// (the tests compare both ways).
func decodeFile(file, name string, data []byte, maxJSONDepth int, onePass bool) (*candidate, error) {
	// The usual file, a legacy envelope of a link as the peers write it, is read in one pass that
	// checks what the general path checks (nesting, repeated member names, the envelope, the link)
	// and gives the same candidate, with the canonical form its signatures cover. Anything else,
	// a nesting over the limit included, takes the general path, which also explains refusals.
	if onePass {
		if signed, p, ok := envelope.ParsePlainLegacyLink(data); ok && accounted(&p.PlainLink, maxJSONDepth) {
			return &candidate{file: file, data: data, signed: signed, stepName: p.Link.Name, link: p.Link}, nil
		}
	}
	if err := checkJSONDepth(data, maxJSONDepth); err != nil {
		return nil, err
	}
	if err := wire.CheckDuplicateKeys(data); err != nil {
		return nil, err
	}
	signed, err := envelope.Parse(data)
	if err != nil {
		return nil, err
	}
	c := &candidate{file: file, data: data, signed: signed}
	// A bundle's payload is read unverified here, only to learn which step it claims; it is verified
	// (authorizeKeyless) only if that step has keyless functionaries, so a key-only layout never needs
	// the keyless verifier.
	payloadType, payload := signed.PayloadType, signed.Payload
	if signed.Kind != envelope.Legacy && payloadType != intoto.PayloadType {
		return nil, fmt.Errorf("payload type %q is not in-toto", payloadType)
	}
	// A legacy payload is a value inside data, whose depth is checked above; a DSSE or bundle
	// payload was base64 in data, so its depth is unknown. The usual one, a link of the plain shape,
	// is checked and decoded in one pass, with the same outcome.
	if signed.Kind != envelope.Legacy {
		if onePass {
			if p, ok := wire.DecodePlainLinkChecked(payload); ok && accounted(p, maxJSONDepth) {
				c.link, c.stepName = p.Link, p.Link.Name
				return c, nil
			}
		}
		if err := checkJSONDepth(payload, maxJSONDepth); err != nil {
			return nil, err
		}
		if err := wire.CheckDuplicateKeys(payload); err != nil {
			return nil, err
		}
	}
	if err := c.decode(payload); err != nil {
		return nil, err
	}
	if c.isLayout {
		c.stepName = sublayoutStepName(name)
		if c.stepName == "" {
			return nil, errors.New("a layout whose file name does not name a step (<step>.<id>.link)")
		}
	}
	return c, nil
}

// accounted tells whether a link read in one pass passes the checks the general path makes of the
// whole document: nesting within the limit and no repeated member name, the pass's Unchecked values
// (command, byproducts or environment of an unusual shape) checked here.
func accounted(p *wire.PlainLink, maxJSONDepth int) bool {
	if p.Depth > maxJSONDepth {
		return false
	}
	for _, u := range p.Unchecked {
		if checkJSONDepth(u, maxJSONDepth-p.Level) != nil || wire.CheckDuplicateKeys(u) != nil {
			return false
		}
	}
	return true
}

// decode reads the payload: a v0.9 link, a Statement v1 with a link v0.3 predicate, or a layout.
func (c *candidate) decode(payload []byte) error {
	// The common case, decoded and validated in one pass.
	if l, ok := wire.DecodePlainLink(payload); ok {
		c.link, c.stepName = l, l.Name
		return nil
	}
	var head struct {
		Type string `json:"_type"`
	}
	if err := json.Unmarshal(payload, &head); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	switch head.Type {
	case intoto.TypeLink:
		l, err := wire.DecodeLink(payload)
		if err != nil {
			return err
		}
		c.link, c.stepName = l, l.Name
	case intoto.StatementTypeV1, intoto.StatementTypeV01:
		l, err := wire.StatementToLink(payload)
		if err != nil {
			return err
		}
		c.link, c.stepName = l, l.Name
	case intoto.TypeLayout:
		c.isLayout = true
		return nil
	default:
		return fmt.Errorf("payload _type %q is neither a link nor a layout", head.Type)
	}
	return c.link.Validate()
}

// sublayoutStepName extracts <step> from <step>.<id>.link or <step>.<id>.link.sigstore.json.
func sublayoutStepName(name string) string {
	step, _ := splitLinkName(name)
	return step
}

// splitLinkName splits <step>.<id>.link[.sigstore.json] into step and id.
func splitLinkName(name string) (step, id string) {
	base, ok := strings.CutSuffix(name, ".link.sigstore.json")
	if !ok {
		base, ok = strings.CutSuffix(name, ".link")
	}
	if !ok {
		return "", ""
	}
	i := strings.LastIndexByte(base, '.')
	if i <= 0 || i == len(base)-1 {
		return "", ""
	}
	return base[:i], base[i+1:]
}

// authorize decides whether a candidate is evidence for step: signed by one of its functionaries.
// Each functionary counts once per step; later files of an already counted functionary are rejected
// as duplicates.
func (v *verification) authorize(ctx context.Context, sk *stepKeys, c *candidate) error {
	step := sk.step
	sr := v.res.step(KindStep, step.Name)
	reject := func(r Rejection) {
		r.File = c.file
		sr.Rejected = append(sr.Rejected, r)
	}
	var found []*keptLink
	if c.signed.Kind == envelope.Bundle {
		k, rej, err := v.authorizeKeyless(ctx, step, c)
		if err != nil {
			return fmt.Errorf("%s: %w", c.file, err)
		}
		if rej != nil {
			reject(*rej)
			return nil
		}
		found = k
	} else {
		k, rej := v.authorizeKeys(sk, c)
		if rej != nil {
			reject(*rej)
			return nil
		}
		found = k
	}
	added := false
	for _, k := range found {
		if sk.counted(k) {
			continue
		}
		sk.count(k)
		v.kept[step.Name] = append(v.kept[step.Name], k)
		sum := c.digest()
		sr.Links = append(sr.Links, LinkInfo{
			File: k.file, Functionary: k.functionary, Signer: k.signer, Format: k.format, Layout: k.sublayout != nil,
			Digest: intoto.Digests{"sha256": hex.EncodeToString(sum[:])},
		})
		added = true
		if k.keyless != nil {
			break // one certificate is one signer, however many identities it matches
		}
	}
	if !added {
		reject(Rejection{Signer: found[0].signer,
			Reason: fmt.Sprintf("duplicate: functionary %s already has a link for this step (counted once)", found[0].functionary)})
	}
	sr.Functionaries = len(v.kept[step.Name])
	return nil
}

// authorizeKeys checks a key-signed candidate against the step's keys: those its signatures may be
// by (stepKeys.candidates), in the step's order; the others have no signature to check.
func (v *verification) authorizeKeys(sk *stepKeys, c *candidate) ([]*keptLink, *Rejection) {
	var out []*keptLink
	var badSig []string
	signers := c.signerIDs()
	for _, i := range sk.candidates(c) {
		keyid, key := sk.step.PubKeys[i], sk.keys[i]
		if err := c.verifyKey(keyid, key); err != nil {
			if slices.Contains(signers, keyid) {
				badSig = append(badSig, fmt.Sprintf("%s: %v", keyid, err))
			}
			continue
		}
		k := v.newKept(c, keyid, keyid, key.Key(), nil)
		k.material = key.Material()
		out = append(out, k)
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(badSig) > 0 {
		return nil, &Rejection{Signer: strings.Join(signers, ","), Reason: "bad signature: " + strings.Join(badSig, "; ")}
	}
	if len(c.signed.Signatures) == 0 {
		return nil, &Rejection{Reason: "unsigned"}
	}
	if len(signers) == 0 {
		return nil, &Rejection{Reason: "no signature verifies with a key authorized for this step"}
	}
	return nil, &Rejection{Signer: strings.Join(signers, ","), Reason: "signer is not an authorized functionary of this step"}
}

// authorizeKeyless verifies a Sigstore bundle candidate and matches its signer against the step's
// identities. An error means the keyless verifier itself is unavailable.
func (v *verification) authorizeKeyless(ctx context.Context, step *intoto.Step, c *candidate) ([]*keptLink, *Rejection, error) {
	if len(step.Identities) == 0 {
		return nil, &Rejection{Reason: "Sigstore bundle, but the step has no keyless functionaries"}, nil
	}
	if v.opts.Keyless == nil {
		return nil, &Rejection{Reason: "Sigstore bundle, but keyless verification is not configured (no trusted root)"}, nil
	}
	var got *Verified
	var err error
	if c.bundle != nil {
		got, err = c.bundle.got, c.bundle.err
	} else {
		got, err = v.opts.Keyless.VerifyBundle(ctx, c.data)
	}
	switch {
	case err != nil && verifierBroken(err):
		return nil, nil, err
	case err != nil:
		return nil, &Rejection{Reason: fmt.Sprintf("bundle does not verify: %v", err)}, nil
	case got == nil:
		return nil, nil, fmt.Errorf("%w: verifier returned no result", ErrVerifierUnavailable)
	}
	signer := describeSigner(got.Signer)
	if got.PayloadType != c.signed.PayloadType || !bytes.Equal(got.Payload, c.signed.Payload) {
		return nil, &Rejection{Signer: signer, Reason: "the verified payload is not the bundle's DSSE payload"}, nil
	}
	var out []*keptLink
	var mismatches []IdentityMismatch
	for _, name := range step.Identities {
		id := v.layout.Identities[name]
		if id == nil {
			continue
		}
		if mm := id.Match(got.Signer); len(mm) > 0 {
			mismatches = append(mismatches, IdentityMismatch{Identity: name, Mismatches: mismatchStrings(mm),
				Fields: fieldChecks(id, got.Signer, mm)})
			continue
		}
		k := v.newKept(c, name, signer, nil, id)
		k.keyless = got
		out = append(out, k)
	}
	if len(out) > 0 {
		return out, nil, nil
	}
	return nil, &Rejection{Signer: signer, Reason: "identity mismatch", Mismatches: mismatches}, nil
}

func (v *verification) newKept(c *candidate, functionary, signer string, key *intoto.Key, id *intoto.Identity) *keptLink {
	k := &keptLink{
		file: c.file, functionary: functionary, signer: signer, format: c.signed.Kind.String(),
		link: c.link, key: key, identity: id,
	}
	if c.link != nil {
		k.materials, k.products = c.link.Materials, c.link.Products
	}
	_, k.id8 = splitLinkName(filepath.Base(c.file))
	if c.isLayout {
		k.sublayout = c.data
	}
	return k
}

// signerIDs lists the keyids the envelope's signatures name, each once, in envelope order.
func (c *candidate) signerIDs() []string {
	var ids []string
	seen := make(map[string]bool, len(c.signed.Signatures))
	for _, s := range c.signed.Signatures {
		if s.KeyID != "" && !seen[s.KeyID] {
			seen[s.KeyID] = true
			ids = append(ids, s.KeyID)
		}
	}
	return ids
}

// relFile names a file of the links directory for the report: relative to the top links directory.
func (v *verification) relFile(name string) string {
	if v.opts.linksPrefix == "" {
		return name
	}
	return v.opts.linksPrefix + "/" + name
}

func (v *verification) warn(format string, args ...any) {
	v.res.Warnings = append(v.res.Warnings, fmt.Sprintf(format, args...))
}
