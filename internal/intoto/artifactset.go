package intoto

import (
	"encoding/hex"
	"encoding/json"
	"iter"
	"maps"
	"slices"
	"sort"
	"strings"
	"unsafe"
)

// Digest is one artifact's digest set in compact form. The usual set, exactly {"sha256": 64
// lowercase hex digits}, is held as the raw 32 bytes; any other set (more algorithms, another
// algorithm, upper case, odd lengths, not hex, empty or nil) is held as given, so comparisons keep
// python's dict semantics: the same algorithms with the same, case-sensitive, values.
type Digest struct {
	sha256 [32]byte
	// other points to the digest set when it is not the canonical sha256 one (the map may be nil,
	// for a null digest set); nil for the canonical one.
	other *Digests
}

// SHA256 returns the sha256 sum when the digest set is exactly {"sha256": 64 lowercase hex digits}
// (the compact form); ok=false for any other set, which Digests returns.
func (d Digest) SHA256() (sum [32]byte, ok bool) {
	return d.sha256, d.other == nil
}

// NewDigest returns the compact form of d.
func NewDigest(d Digests) Digest {
	if len(d) == 1 {
		if v, ok := d["sha256"]; ok {
			if dg, ok := ParseSHA256Digest(v); ok {
				return dg
			}
		}
	}
	return Digest{other: &d}
}

// ParseSHA256Digest returns the compact form of {"sha256": v}, if v is 64 lowercase hex digits.
func ParseSHA256Digest[T string | []byte](v T) (Digest, bool) {
	var dg Digest
	if len(v) != 64 {
		return dg, false
	}
	bad := byte(0)
	for i := range dg.sha256 {
		hi, lo := lowerHexValue[v[2*i]], lowerHexValue[v[2*i+1]]
		bad |= hi | lo
		dg.sha256[i] = hi<<4 | lo&0x0f
	}
	return dg, bad&0x80 == 0
}

// lowerHexValue maps '0'-'9' and 'a'-'f' to their value, anything else to 0xff.
var lowerHexValue = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c] = c - 'a' + 10
	}
	return t
}()

// SHA256Digest is the compact form of {"sha256": hex(sum)}.
func SHA256Digest(sum [32]byte) Digest { return Digest{sha256: sum} }

// Equal is python's dict equality of the two digest sets.
func (d Digest) Equal(o Digest) bool {
	if d.other == nil && o.other == nil {
		return d.sha256 == o.sha256
	}
	if d.other == nil || o.other == nil {
		return false // a canonical set never equals a non-canonical one
	}
	return maps.Equal(*d.other, *o.other)
}

// Agree is Digests.Agree of the two digest sets.
func (d Digest) Agree(o Digest) bool {
	if d.other == nil && o.other == nil {
		return d.sha256 == o.sha256
	}
	return d.Digests().Agree(o.Digests())
}

// Digests returns the digest set as a map (a new one for the canonical form).
func (d Digest) Digests() Digests {
	if d.other != nil {
		return *d.other
	}
	return Digests{"sha256": hex.EncodeToString(d.sha256[:])}
}

// ArtifactSet is the artifact model: a set of forward-slash artifact names, sorted (byte order) and
// unique, each with its Digest. Recording produces it, links carry it, the rules read it and the wire
// encoders write it; the zero value is the empty set. An ArtifactSet is never modified once built.
type ArtifactSet struct {
	names []string
	digs  []Digest
}

// NewArtifactSet returns the set of the artifacts in a (name → digests): how tests and the generic
// decoders build a set from a literal or a decoded map.
func NewArtifactSet(a map[string]Digests) ArtifactSet {
	if len(a) == 0 {
		return ArtifactSet{}
	}
	names := make([]string, 0, len(a))
	for name := range a {
		names = append(names, name)
	}
	slices.Sort(names)
	digs := make([]Digest, len(names))
	for i, name := range names {
		digs[i] = NewDigest(a[name])
	}
	return ArtifactSet{names: names, digs: digs}
}

// NewSortedArtifactSet returns the set of names and their digests; names must be sorted and unique
// (ok=false otherwise). It keeps both slices.
func NewSortedArtifactSet(names []string, digs []Digest) (ArtifactSet, bool) {
	if len(names) != len(digs) {
		return ArtifactSet{}, false
	}
	for i := 1; i < len(names); i++ {
		if names[i-1] >= names[i] {
			return ArtifactSet{}, false
		}
	}
	return ArtifactSet{names: names, digs: digs}, true
}

// Len is the number of artifacts.
func (s ArtifactSet) Len() int { return len(s.names) }

// Names returns the sorted names. The slice is shared: do not modify it.
func (s ArtifactSet) Names() []string { return s.names }

// Name returns the i-th name.
func (s ArtifactSet) Name(i int) string { return s.names[i] }

// Digest returns the i-th artifact's digest.
func (s ArtifactSet) Digest(i int) Digest { return s.digs[i] }

// Index returns the position of name, if the set holds it.
func (s ArtifactSet) Index(name string) (int, bool) {
	i := sort.SearchStrings(s.names, name)
	return i, i < len(s.names) && s.names[i] == name
}

// Lookup returns name's digest, if the set holds it.
func (s ArtifactSet) Lookup(name string) (Digest, bool) {
	if i, ok := s.Index(name); ok {
		return s.digs[i], true
	}
	return Digest{}, false
}

// All yields the artifacts in name order.
func (s ArtifactSet) All() iter.Seq2[string, Digest] {
	return func(yield func(string, Digest) bool) {
		for i, name := range s.names {
			if !yield(name, s.digs[i]) {
				return
			}
		}
	}
}

// Map returns the set as a name → digests map: for the generic (encoding/json) encoders, which the
// fast ones are checked against, and for tests.
func (s ArtifactSet) Map() map[string]Digests {
	a := make(map[string]Digests, len(s.names))
	for i, name := range s.names {
		a[name] = s.digs[i].Digests()
	}
	return a
}

// Equal tells whether s and o hold the same names with equal digests (Digest.Equal). go-cmp compares
// sets with it.
func (s ArtifactSet) Equal(o ArtifactSet) bool {
	return slices.Equal(s.names, o.names) && slices.EqualFunc(s.digs, o.digs, Digest.Equal)
}

// MarshalJSON writes the set as a JSON object of name → digest set, through encoding/json.
func (s ArtifactSet) MarshalJSON() ([]byte, error) {
	if s.Len() == 0 {
		return []byte("{}"), nil
	}
	return json.Marshal(s.Map())
}

// UnmarshalJSON reads a JSON object of name → digest set (null is the empty set).
func (s *ArtifactSet) UnmarshalJSON(data []byte) error {
	var m map[string]Digests
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	*s = NewArtifactSet(m)
	return nil
}

// Cursor looks names up in an ArtifactSet, fastest when they come in ascending order (a merge):
// each lookup gallops forward from the previous one.
type Cursor struct {
	set ArtifactSet
	pos int
}

// NewCursor returns a cursor at the start of s.
func NewCursor(s ArtifactSet) *Cursor { return &Cursor{set: s} }

// Find returns the position of name, if the set holds it.
func (c *Cursor) Find(name string) (int, bool) {
	names := c.set.names
	lo := 0
	if c.pos > 0 && c.pos <= len(names) && names[c.pos-1] < name {
		lo = c.pos
	}
	hi, step := lo, 1
	for hi < len(names) && names[hi] < name {
		lo = hi + 1
		hi += step
		step *= 2
	}
	hi = min(hi, len(names))
	i := lo + sort.SearchStrings(names[lo:hi], name)
	c.pos = i
	return i, i < len(names) && names[i] == name
}

// FindBytes is Find for a name given as bytes, without converting it to a string.
func (c *Cursor) FindBytes(name []byte) (int, bool) {
	names := c.set.names
	lo := 0
	if c.pos > 0 && c.pos <= len(names) && names[c.pos-1] < string(name) {
		lo = c.pos
	}
	hi, step := lo, 1
	for hi < len(names) && names[hi] < string(name) {
		lo = hi + 1
		hi += step
		step *= 2
	}
	hi = min(hi, len(names))
	for lo < hi { // first position in [lo, hi) whose name is >= name
		m := int(uint(lo+hi) >> 1)
		if names[m] < string(name) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	c.pos = lo
	return lo, lo < len(names) && names[lo] == string(name)
}

// ArtifactSetBuilder collects decoded artifacts: names into one arena, digests compact. The zero
// value is an empty builder.
type ArtifactSetBuilder struct {
	arena    []byte
	ends     []int
	digs     []Digest
	unsorted bool
}

// Len is the number of artifacts added.
func (b *ArtifactSetBuilder) Len() int { return len(b.ends) }

// Sorted tells whether the names came in strictly increasing order so far.
func (b *ArtifactSetBuilder) Sorted() bool { return !b.unsorted }

// Expect sizes the builder for n artifacts in all, their names as long on average as those added so
// far, rather than growing it step by step.
func (b *ArtifactSetBuilder) Expect(n int) {
	if len(b.ends) == 0 || n <= len(b.ends) {
		return
	}
	b.digs = slices.Grow(b.digs, n-len(b.digs))
	b.ends = slices.Grow(b.ends, n-len(b.ends))
	b.arena = slices.Grow(b.arena, n*len(b.arena)/len(b.ends)-len(b.arena))
}

// Add adds name (copied) with its digest.
func (b *ArtifactSetBuilder) Add(name []byte, d Digest) {
	if n := len(b.ends); n > 0 && !b.unsorted {
		start := 0
		if n > 1 {
			start = b.ends[n-2]
		}
		b.unsorted = string(b.arena[start:b.ends[n-1]]) >= string(name)
	}
	b.arena = append(b.arena, name...)
	b.ends = append(b.ends, len(b.arena))
	b.digs = append(b.digs, d)
}

// Build returns the set; ok=false if a name repeats. It is the builder's last use: the set keeps the arena.
func (b *ArtifactSetBuilder) Build() (ArtifactSet, bool) {
	if len(b.ends) == 0 {
		return ArtifactSet{}, true
	}
	// Every name is a piece of one string over the arena, which the builder never writes again: no
	// second copy of every name (15 MB for a link of 600k artifacts).
	all := unsafe.String(unsafe.SliceData(b.arena), len(b.arena))
	names := make([]string, len(b.ends))
	start := 0
	for i, end := range b.ends {
		names[i] = all[start:end]
		start = end
	}
	s := ArtifactSet{names: names, digs: b.digs}
	if b.unsorted {
		idx := make([]int, len(names))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(x, y int) int { return strings.Compare(names[x], names[y]) })
		s.names = make([]string, len(names))
		s.digs = make([]Digest, len(names))
		for i, j := range idx {
			s.names[i], s.digs[i] = names[j], b.digs[j]
			if i > 0 && s.names[i] == s.names[i-1] {
				return ArtifactSet{}, false
			}
		}
	}
	return s, true
}
