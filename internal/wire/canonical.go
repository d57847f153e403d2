package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"

	"github.com/intoto-ci/intoto-ci/internal/intoto"
)

// ErrCanonical is returned for values that OLPC canonical JSON cannot represent (floats, non-string map keys, …).
var ErrCanonical = errors.New("cannot encode as canonical json")

// CanonicalJSON re-encodes a JSON document, as received, in OLPC canonical form (the securesystemslib
// flavour): object keys sorted bytewise, no insignificant whitespace, integers only, and strings that
// escape only `\` and `"`. Unknown fields are kept: this is what a signature over a document covers.
func CanonicalJSON(raw []byte) ([]byte, error) {
	if out, ok := fastCanonical(raw); ok {
		return out, nil
	}
	return genericCanonicalJSON(raw)
}

// genericCanonicalJSON is CanonicalJSON without the fast path.
func genericCanonicalJSON(raw []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("canonical json: trailing data after document")
	}
	buf := make([]byte, 0, len(raw))
	return appendCanonical(buf, v)
}

// Canonical encodes v in OLPC canonical JSON. It understands the generic values a JSON decoder produces
// (map[string]any, []any, string, json.Number, bool, nil), Go integers, this package's ArtifactSet and
// Digests and string slices/maps directly; any other value (a struct) goes through encoding/json first,
// so its JSON field names and MarshalJSON methods apply.
func Canonical(v any) ([]byte, error) {
	return appendCanonical(make([]byte, 0, 512), v)
}

func appendCanonical(b []byte, v any) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendCanonicalString(b, x), nil
	case bool:
		if x {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case json.Number:
		return appendCanonicalNumber(b, string(x))
	case int:
		return strconv.AppendInt(b, int64(x), 10), nil
	case int64:
		return strconv.AppendInt(b, x, 10), nil
	case int32:
		return strconv.AppendInt(b, int64(x), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10), nil
	case uint64:
		if x > 1<<63-1 {
			return nil, fmt.Errorf("%w: integer %d out of range", ErrCanonical, x)
		}
		return strconv.AppendUint(b, x, 10), nil
	case float64:
		// encoding/json decodes every number into float64: accept those that are exact integers.
		if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
			return nil, fmt.Errorf("%w: number %v is not an integer", ErrCanonical, x)
		}
		return strconv.AppendInt(b, int64(x), 10), nil
	case []any:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendCanonical(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case []string:
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendCanonicalString(b, e)
		}
		return append(b, ']'), nil
	case map[string]any:
		return appendCanonicalMap(b, x)
	case map[string]string:
		return appendCanonicalMap(b, x)
	case intoto.Digests:
		return appendCanonicalMap(b, map[string]string(x))
	case intoto.ArtifactSet:
		return appendCanonicalMap(b, x.Map())
	case map[string]intoto.Digests:
		return appendCanonicalMap(b, x)
	case *intoto.Link:
		if x == nil {
			return append(b, "null"...), nil
		}
		return AppendLinkCanonical(b, x)
	case intoto.Link:
		return AppendLinkCanonical(b, &x)
	case json.RawMessage:
		inner, err := CanonicalJSON(x)
		if err != nil {
			return nil, err
		}
		return append(b, inner...), nil
	}
	// Typed nil pointers and maps encode as null like encoding/json would.
	if rv := reflect.ValueOf(v); (rv.Kind() == reflect.Pointer || rv.Kind() == reflect.Map || rv.Kind() == reflect.Slice) && rv.IsNil() {
		return append(b, "null"...), nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("canonical json: %w", err)
	}
	inner, err := CanonicalJSON(raw)
	if err != nil {
		return nil, err
	}
	return append(b, inner...), nil
}

func appendCanonicalMap[V any](b []byte, m map[string]V) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonicalString(b, k)
		b = append(b, ':')
		var err error
		if b, err = appendCanonical(b, any(m[k])); err != nil {
			return nil, err
		}
	}
	return append(b, '}'), nil
}

// appendCanonicalNumber accepts only integers that fit in 64 bits, written as received (as
// securesystemslib's cjson does).
func appendCanonicalNumber(b []byte, s string) ([]byte, error) {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return nil, fmt.Errorf("%w: number %s is not a 64-bit integer", ErrCanonical, s)
	}
	return append(b, s...), nil
}

// appendCanonicalString writes s quoted, escaping only backslash and double quote. Invalid UTF-8 is
// replaced by U+FFFD, as a JSON decoder would have done.
func appendCanonicalString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '"' || c == '\\' {
				b = append(b, s[start:i]...)
				b = append(b, '\\', c)
				start = i + 1
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\ufffd"...)
			start = i + 1
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
