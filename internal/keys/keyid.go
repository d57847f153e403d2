package keys

import "unicode/utf8"

// appendKeyIDDocument appends the canonical JSON (OLPC, securesystemslib's flavour) of the document a
// keyid is the sha256 of: {"keyid_hash_algorithms": algs, "keytype", "keyval": {"public"}, "scheme"},
// members in canonical (sorted) order. The shape is fixed, so it is written directly: a generic
// canonical encoder (wire.Canonical, go-securesystemslib's cjson, the oracle of its test) would cost
// ten times as much for every keyid of a layout of thousands of functionaries.
func appendKeyIDDocument(b []byte, algs []string, keyType, public, scheme string) []byte {
	b = append(b, `{"keyid_hash_algorithms":[`...)
	for i, a := range algs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendKeyIDString(b, a)
	}
	b = append(b, `],"keytype":`...)
	b = appendKeyIDString(b, keyType)
	b = append(b, `,"keyval":{"public":`...)
	b = appendKeyIDString(b, public)
	b = append(b, `},"scheme":`...)
	b = appendKeyIDString(b, scheme)
	return append(b, '}')
}

// appendKeyIDString writes s as canonical JSON does: quoted, only backslash and double quote escaped,
// each byte that is not UTF-8 replaced by U+FFFD (as decoding the JSON would have done).
func appendKeyIDString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, utf8.RuneError)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
