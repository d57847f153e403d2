package wire

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/intoto-ci/intoto-ci/internal/intoto"

	attv1 "github.com/in-toto/attestation/go/v1"
)

// Statement encoding straight from artifact sets.
//
// LinkToStatement goes through maps, encoding/json, a protobuf Struct, protojson and a decode/encode
// pass (stableJSON): for a link of a million artifacts that is several copies of the document and a
// map entry per artifact. AppendStatement writes the same bytes directly. The parts that are small
// and hold arbitrary values (name, command, byproducts, environment) still take LinkToStatement's own
// path, so their numbers and strings come out exactly as it writes them; the artifacts, which are
// nearly all of the bytes, are written here, following what that path does to them:
//
//   - the document is compact JSON with sorted keys: `{"_type":…,"predicate":{…},"predicateType":…,"subject":[…]}`,
//     the predicate's keys in the order byproducts, command, environment, materials, name, and each
//     resource descriptor `{"digest":{…},"name":…}`; an empty subject or material list is left out;
//   - strings are escaped as encoding/json escapes them without HTML escaping (stableJSON's encoder);
//   - a material's strings went through encoding/json first, which turns each byte that is not UTF-8
//     into U+FFFD (and digest algorithms that become equal so clash); a subject's went through
//     protojson, which refuses such strings.

// Constant pieces of a Statement v1 with a link v0.3 predicate, as LinkToStatement writes them.
const (
	statementHead          = `{"_type":"` + intoto.StatementTypeV1 + `","predicate":`
	statementPredicateType = `,"predicateType":"` + intoto.LinkPredicateV03 + `"`
	statementMaterials     = `"materials":[`
	statementSubject       = `,"subject":[`
	descriptorDigest       = `{"digest":`
	descriptorName         = `,"name":`
	canonicalDigestLen     = len(`{"sha256":""}`) + 2*32
)

// MarshalStatement is LinkToStatement(l), encoded straight from the artifact sets.
func MarshalStatement(l *intoto.Link) ([]byte, error) {
	return AppendStatement(nil, l)
}

// AppendStatement appends MarshalStatement(l) to b: the bytes LinkToStatement writes for l, and its
// refusals. The exact size is worked out
// before anything is written, so b grows at most once, to exactly what it needs; bytes already in b
// (room for a header, say) are kept as they are.
func AppendStatement(b []byte, l *intoto.Link) ([]byte, error) {
	materials, products := l.Materials, l.Products
	if err := intoto.ValidateSet(materials); err != nil {
		return nil, fmt.Errorf("link to statement: materials: %w", err)
	}
	if err := intoto.ValidateSet(products); err != nil {
		return nil, fmt.Errorf("link to statement: products: %w", err)
	}
	// The predicate without its materials, through LinkToStatement's own encoding. Its last member is
	// the name, and materials sort just before it: they are written in front of `"name":`.
	small, err := LinkToStatement(&intoto.Link{Name: l.Name, Command: l.Command, ByProducts: l.ByProducts, Environment: l.Environment})
	if err != nil {
		return nil, err
	}
	pred, ok := bytes.CutPrefix(small, []byte(statementHead))
	nameTail := append(append([]byte(`"name":`), appendStatementString(nil, l.Name)...), '}')
	tail := []byte(statementPredicateType + "}")
	if !ok || !bytes.HasSuffix(pred, tail) {
		return nil, errors.New("link to statement: unexpected encoding of the predicate")
	}
	pred = pred[:len(pred)-len(tail)]
	if !bytes.HasSuffix(pred, nameTail) {
		return nil, errors.New("link to statement: unexpected encoding of the predicate")
	}
	predHead, predTail := pred[:len(pred)-len(nameTail)], pred[len(pred)-len(nameTail):]

	// What protojson would refuse, in LinkToStatement's order: clashing digest algorithms in the
	// materials, then the attestation spec's checks of subjects and materials, then strings that are
	// not UTF-8 in the subject.
	if err := checkMaterialAlgorithms(materials); err != nil {
		return nil, fmt.Errorf("link to statement: predicate: %w", err)
	}
	if err := checkDescriptors(products, "subject"); err != nil {
		return nil, err
	}
	if err := checkDescriptors(materials, "material"); err != nil {
		return nil, err
	}
	if err := checkSubjectUTF8(products); err != nil {
		return nil, fmt.Errorf("link to statement: %w", err)
	}

	need := len(statementHead) + len(predHead) + len(predTail) + len(statementPredicateType) + len("}")
	if materials.Len() > 0 {
		need += len(statementMaterials) + descriptorsJSONLen(materials) + len("],")
	}
	if products.Len() > 0 {
		need += len(statementSubject) + descriptorsJSONLen(products) + len("]")
	}
	if cap(b)-len(b) < need {
		grown := make([]byte, len(b), len(b)+need)
		copy(grown, b)
		b = grown
	}
	b = append(b, statementHead...)
	b = append(b, predHead...)
	if materials.Len() > 0 {
		b = append(b, statementMaterials...)
		b = appendDescriptorsJSON(b, materials)
		b = append(b, "],"...)
	}
	b = append(b, predTail...)
	b = append(b, statementPredicateType...)
	if products.Len() > 0 {
		b = append(b, statementSubject...)
		b = appendDescriptorsJSON(b, products)
		b = append(b, ']')
	}
	return append(b, '}'), nil
}

// checkDescriptors runs the attestation spec's ResourceDescriptor.Validate on each artifact of s, as
// LinkToStatement does (a canonical sha256 digest always passes it).
func checkDescriptors(s intoto.ArtifactSet, what string) error {
	for i, name := range s.Names() {
		d := s.Digest(i)
		if isCompact(d) {
			continue
		}
		rd := &attv1.ResourceDescriptor{Name: name, Digest: d.Digests()}
		if err := rd.Validate(); err != nil {
			return fmt.Errorf("link to statement: %s %q: %w", what, name, err)
		}
	}
	return nil
}

// checkMaterialAlgorithms refuses a material whose digest algorithms become the same name once the
// bytes that are not UTF-8 are replaced: the predicate would hold that key twice.
func checkMaterialAlgorithms(s intoto.ArtifactSet) error {
	for i := range s.Names() {
		d := s.Digest(i)
		if isCompact(d) || len(d.Digests()) < 2 {
			continue
		}
		if _, err := sortedAlgorithms(d.Digests()); err != nil {
			return err
		}
	}
	return nil
}

// checkSubjectUTF8 refuses a subject whose name or digest algorithm is not UTF-8, as protojson does.
func checkSubjectUTF8(s intoto.ArtifactSet) error {
	for i, name := range s.Names() {
		if !utf8.ValidString(name) {
			return fmt.Errorf("subject %q: name is not valid UTF-8", name)
		}
		if d := s.Digest(i); !isCompact(d) {
			for alg := range d.Digests() {
				if !utf8.ValidString(alg) {
					return fmt.Errorf("subject %q: digest algorithm %q is not valid UTF-8", name, alg)
				}
			}
		}
	}
	return nil
}

type algorithm struct{ key, name, value string } // key: name as written (no bytes that are not UTF-8)

// sortedAlgorithms lists d's algorithms in the order the Statement writes them: by their names with
// each byte that is not UTF-8 replaced by U+FFFD. Two that become equal are an error.
func sortedAlgorithms(d intoto.Digests) ([]algorithm, error) {
	out := make([]algorithm, 0, len(d))
	for alg, v := range d {
		key := alg
		if !utf8.ValidString(alg) {
			key = toValidUTF8(alg)
		}
		out = append(out, algorithm{key, alg, v})
	}
	slices.SortFunc(out, func(a, b algorithm) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return 0
	})
	for i := 1; i < len(out); i++ {
		if out[i-1].key == out[i].key {
			return nil, fmt.Errorf("digest algorithms %q and %q are the same name once made UTF-8", out[i-1].name, out[i].name)
		}
	}
	return out, nil
}

// toValidUTF8 replaces each byte of s that is not part of a UTF-8 sequence by U+FFFD, as encoding/json
// does (strings.ToValidUTF8 replaces a run of them by one).
func toValidUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// appendDescriptorsJSON writes s's artifacts as resource descriptors, separated by commas.
func appendDescriptorsJSON(b []byte, s intoto.ArtifactSet) []byte {
	for i, name := range s.Names() {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, descriptorDigest...)
		b = appendStatementDigest(b, s.Digest(i))
		b = append(b, descriptorName...)
		b = appendStatementString(b, name)
		b = append(b, '}')
	}
	return b
}

// descriptorsJSONLen is the length of appendDescriptorsJSON's output for s.
func descriptorsJSONLen(s intoto.ArtifactSet) int {
	n := 0
	if len(s.Names()) > 1 {
		n += len(s.Names()) - 1 // commas
	}
	n += len(s.Names()) * (len(descriptorDigest) + len(descriptorName) + len("}"))
	for i, name := range s.Names() {
		n += statementStringLen(name)
		if d := s.Digest(i); isCompact(d) {
			n += canonicalDigestLen
		} else {
			n += len(appendStatementDigest(nil, d))
		}
	}
	return n
}

// appendStatementDigest writes a digest set (already checked: no algorithms clash).
func appendStatementDigest(b []byte, d intoto.Digest) []byte {
	if sum, ok := d.SHA256(); ok {
		b = append(b, `{"sha256":"`...)
		b = hex.AppendEncode(b, sum[:])
		return append(b, `"}`...)
	}
	algs, _ := sortedAlgorithms(d.Digests())
	b = append(b, '{')
	for j, a := range algs {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendStatementString(b, a.name)
		b = append(b, ':')
		b = appendStatementString(b, a.value)
	}
	return append(b, '}')
}

// statementStringLen is the length of appendStatementString's output for s, counted without writing it.
func statementStringLen(s string) int {
	n := len(s) + 2
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 0x20 && c != '"' && c != '\\':
			case c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t':
				n++
			default:
				n += len(`\u0000`) - 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			n += utf8.RuneLen(utf8.RuneError) - 1
		case r == '\u2028' || r == '\u2029':
			n += len(`\u2028`) - size
		}
		i += size
	}
	return n
}

// appendStatementString appends s quoted as it ends up in LinkToStatement's output: escaped as
// encoding/json escapes without HTML escaping, each byte that is not UTF-8 written as U+FFFD.
func appendStatementString(b []byte, s string) []byte {
	const hexDigits = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = utf8.AppendRune(b, utf8.RuneError)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
