package layout

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// Evidence is one link of a real run, as read from the links directory (signatures are not checked:
// a proposal is reviewed by a person before it is signed).
type Evidence struct {
	File string
	Link *intoto.Link
	// KeyIDs are the keyids of the envelope's signatures (key-signed links).
	KeyIDs []string
	// Signer is the certificate identity of a Sigstore bundle (keyless links).
	Signer *intoto.SignerIdentity
}

// ProposeOptions tune Propose.
type ProposeOptions struct {
	// Now and Validity set the proposal's expiry (default now + one year).
	Now      time.Time
	Validity time.Duration
	// Keys maps a keyid to the functionary name and public key path to use for it. Keys not listed
	// get a placeholder path to fill in.
	Keys map[string]KeyRef
	// Source names where the links came from, for the header comment.
	Source string
	// Group is how many artifacts of one directory (or from one step) make Propose write one
	// pattern rule instead of one rule per artifact (default 8).
	Group int
}

// KeyRef names a key functionary.
type KeyRef struct {
	Name string
	Path string
}

// PinnedClaims are the certificate claims a proposal pins for a keyless functionary: the ones that
// identify the repository and where the job ran, and stay the same from run to run.
var PinnedClaims = []string{
	"source_repository_uri",
	"source_repository_identifier",
	"source_repository_owner_identifier",
	"runner_environment",
}

type stepEvidence struct {
	name  string
	links []*Evidence
	link  *intoto.Link // the first link: its artifacts drive the rules
	fns   []string
}

// Propose drafts a layout from the links of one run: the steps in dependency order, materials matched
// to the products of the earlier step that produced them, CREATE/MODIFY/DELETE where the artifacts
// changed, DISALLOW * at the end of every list, and functionaries from the signers. The proposal
// verifies the run it came from; review it (tighten or widen the patterns) before signing it.
func Propose(ev []*Evidence, opts ProposeOptions) (*Document, Comments, error) {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	if opts.Validity <= 0 {
		opts.Validity = 365 * 24 * time.Hour
	}
	if opts.Group <= 0 {
		opts.Group = 8
	}
	byStep := map[string]*stepEvidence{}
	for _, e := range ev {
		if e.Link == nil || e.Link.Name == "" {
			continue
		}
		s := byStep[e.Link.Name]
		if s == nil {
			s = &stepEvidence{name: e.Link.Name}
			byStep[e.Link.Name] = s
		}
		s.links = append(s.links, e)
	}
	if len(byStep) == 0 {
		return nil, nil, fmt.Errorf("no links found")
	}
	for _, s := range byStep {
		sort.Slice(s.links, func(i, j int) bool { return s.links[i].File < s.links[j].File })
		s.link = s.links[0].Link
	}
	doc := &Document{
		Expires:       opts.Now.Add(opts.Validity).UTC().Format(intoto.ExpiresFormat),
		Readme:        "proposed by intoto-ci layout init",
		Functionaries: map[string]*Functionary{},
	}
	comments := Comments{"": proposalHeader(opts.Source)}
	order := dependencyOrder(byStep)
	fnNames := &functionaryNamer{doc: doc, keys: opts.Keys, comments: comments}
	for _, name := range order {
		s := byStep[name]
		for _, e := range s.links {
			fn := fnNames.name(s.name, e)
			if fn != "" && !contains(s.fns, fn) {
				s.fns = append(s.fns, fn)
			}
		}
	}
	var done []*stepEvidence
	for _, name := range order {
		s := byStep[name]
		st := &Step{Name: s.name, Functionaries: s.fns, Threshold: max(1, len(s.fns)), Command: s.link.Command}
		st.Materials = materialRules(s, done, opts.Group)
		st.Products = productRules(s, opts.Group)
		if len(s.fns) > 1 {
			comments["steps."+s.name] = fmt.Sprintf("%d distinct signers were seen for this step: the threshold asks for all of them", len(s.fns))
		}
		if len(s.links) > 1 && len(s.fns) <= 1 {
			comments["steps."+s.name] = fmt.Sprintf("%d links of this step were seen; their artifacts must agree", len(s.links))
		}
		doc.Steps = append(doc.Steps, st)
		done = append(done, s)
	}
	return doc, comments, nil
}

func proposalHeader(source string) string {
	var b strings.Builder
	b.WriteString("Proposed by 'intoto-ci layout init'")
	if source != "" {
		fmt.Fprintf(&b, " from the links in %s", source)
	}
	b.WriteString(".\nIt verifies the run it came from. Review it before signing: widen the patterns that name\n")
	b.WriteString("run-specific files, tighten subjects to the refs you release from, add inspections.")
	return b.String()
}

// dependencyOrder sorts steps so that a step comes after every step whose products it used as
// materials (same name and digest); ties and cycles fall back to name order.
func dependencyOrder(steps map[string]*stepEvidence) []string {
	names := make([]string, 0, len(steps))
	for n := range steps {
		names = append(names, n)
	}
	sort.Strings(names)
	deps := map[string]map[string]bool{}
	for _, b := range names {
		deps[b] = map[string]bool{}
		for _, a := range names {
			if a == b {
				continue
			}
			if uses(steps[b].link.Materials, steps[a].link.Products) {
				deps[b][a] = true
			}
		}
	}
	var order []string
	placed := map[string]bool{}
	for len(order) < len(names) {
		progress := false
		for _, n := range names {
			if placed[n] {
				continue
			}
			ready := true
			for d := range deps[n] {
				if !placed[d] && !deps[d][n] { // a two-step cycle does not block
					ready = false
				}
			}
			if ready {
				order = append(order, n)
				placed[n] = true
				progress = true
				break
			}
		}
		if !progress { // a longer cycle: take the first remaining name
			for _, n := range names {
				if !placed[n] {
					order = append(order, n)
					placed[n] = true
					break
				}
			}
		}
	}
	return order
}

func uses(materials, products intoto.ArtifactSet) bool {
	for name, d := range materials.All() {
		if p, ok := products.Lookup(name); ok && d.Agree(p) {
			return true
		}
	}
	return false
}

// materialRules: MATCH … WITH PRODUCTS FROM the latest earlier step that produced the same artifact;
// DELETE for materials gone from the products; ALLOW for the rest; DISALLOW *.
func materialRules(s *stepEvidence, done []*stepEvidence, group int) []Rule {
	from := map[string][]string{} // step → names
	var deleted, other []string
	for name, d := range s.link.Materials.All() {
		src := ""
		for i := len(done) - 1; i >= 0; i-- {
			if p, ok := done[i].link.Products.Lookup(name); ok && d.Agree(p) {
				src = done[i].name
				break
			}
		}
		switch {
		case src != "":
			from[src] = append(from[src], name)
		case !hasName(s.link.Products, name):
			deleted = append(deleted, name)
		default:
			other = append(other, name)
		}
	}
	var out []Rule
	for i := len(done) - 1; i >= 0; i-- {
		src := done[i].name
		names := from[src]
		if len(names) == 0 {
			continue
		}
		if len(names) >= group {
			out = append(out, rule("MATCH", "*", "WITH", "PRODUCTS", "FROM", src))
			continue
		}
		for _, n := range names {
			out = append(out, rule("MATCH", n, "WITH", "PRODUCTS", "FROM", src))
		}
	}
	out = append(out, grouped("DELETE", deleted, group)...)
	out = append(out, grouped("ALLOW", other, group)...)
	return append(out, rule("DISALLOW", "*"))
}

// productRules: CREATE what is new, MODIFY what changed, ALLOW what stayed; DISALLOW *.
func productRules(s *stepEvidence, group int) []Rule {
	var created, modified, kept []string
	for name, p := range s.link.Products.All() {
		m, ok := s.link.Materials.Lookup(name)
		switch {
		case !ok:
			created = append(created, name)
		case !m.Agree(p):
			modified = append(modified, name)
		default:
			kept = append(kept, name)
		}
	}
	var out []Rule
	out = append(out, grouped("CREATE", created, group)...)
	out = append(out, grouped("MODIFY", modified, group)...)
	out = append(out, grouped("ALLOW", kept, group)...)
	return append(out, rule("DISALLOW", "*"))
}

func hasName(a intoto.ArtifactSet, name string) bool { _, ok := a.Index(name); return ok }

func rule(words ...string) Rule { return Rule{Words: words} }

// grouped writes one rule per name, or one "VERB dir/*" per directory holding at least group names.
// A pattern is safe here: CREATE, MODIFY and DELETE consume only what changed that way, and the
// proposal is reviewed.
func grouped(verb string, names []string, group int) []Rule {
	byDir := map[string][]string{}
	for _, n := range names {
		byDir[topDir(n)] = append(byDir[topDir(n)], n)
	}
	var out []Rule
	emitted := map[string]bool{}
	for _, n := range names {
		dir := topDir(n)
		if dir != "" && len(byDir[dir]) >= group {
			if !emitted[dir] {
				out = append(out, rule(verb, dir+"/*"))
				emitted[dir] = true
			}
			continue
		}
		out = append(out, rule(verb, n))
	}
	return out
}

func topDir(name string) string {
	d := path.Dir(name)
	if d == "." {
		return ""
	}
	if i := strings.IndexByte(d, '/'); i >= 0 {
		return d[:i]
	}
	return d
}

// functionaryNamer turns signers into functionaries, one per distinct key or pinned identity.
type functionaryNamer struct {
	doc      *Document
	keys     map[string]KeyRef
	comments Comments
	byKey    map[string]string
	byID     map[string]string
}

func (n *functionaryNamer) name(step string, e *Evidence) string {
	if n.byKey == nil {
		n.byKey, n.byID = map[string]string{}, map[string]string{}
	}
	if e.Signer != nil {
		f := &Functionary{Issuer: e.Signer.Issuer, Subject: e.Signer.Subject, Claims: map[string]intoto.ClaimMatch{}}
		var key []string
		for _, c := range PinnedClaims {
			if v := e.Signer.Claims[c]; v != "" {
				f.Claims[c] = intoto.ClaimMatch{Exact: v}
				key = append(key, c+"="+v)
			}
		}
		id := f.Issuer + "\n" + f.Subject + "\n" + strings.Join(key, "\n")
		if name, ok := n.byID[id]; ok {
			return name
		}
		name := n.unique(step + "-signer")
		f.Name = name
		n.doc.Functionaries[name] = f
		n.byID[id] = name
		n.comments["functionaries."+name] = "keyless: the certificate identity that signed " + step +
			"; pinned to the exact subject seen (use subject_regexp to accept other refs)"
		return name
	}
	if len(e.KeyIDs) == 0 {
		return ""
	}
	keyid := e.KeyIDs[0]
	if name, ok := n.byKey[keyid]; ok {
		return name
	}
	ref, ok := n.keys[keyid]
	if !ok {
		ref = KeyRef{Name: "key-" + short(keyid), Path: "keys/" + short(keyid) + ".pub"}
		n.comments["functionaries."+n.unique(ref.Name)] = "TODO: the public key with keyid " + keyid
	}
	name := n.unique(ref.Name)
	n.doc.Functionaries[name] = &Functionary{Name: name, Key: ref.Path}
	n.byKey[keyid] = name
	return name
}

func (n *functionaryNamer) unique(base string) string {
	name := base
	for i := 2; ; i++ {
		if _, taken := n.doc.Functionaries[name]; !taken {
			return name
		}
		name = fmt.Sprintf("%s-%d", base, i)
	}
}

func short(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
