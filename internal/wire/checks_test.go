package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
)

func TestCheckDuplicateKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		json string
		dup  bool
	}{
		{"canonical", `{"a":1,"b":{"x":[1,{"y":2,"z":3}],"y":"}"},"c":"a,\"b"}`, false},
		{"unsorted distinct", `{"b":1,"a":2,"c":3}`, false},
		{"top-level duplicate", `{"a":1,"b":2,"a":3}`, true},
		{"adjacent duplicate", `{"a":1,"a":2}`, true},
		{"nested duplicate", `{"signed":{"products":{"x":{"sha256":"1","sha256":"2"}}}}`, true},
		{"escaped duplicate", `{"name":"a","n\u0061me":"b"}`, true},
		{"same key in sibling objects", `[{"a":1},{"a":2}]`, false},
		{"key-like strings in arrays", `{"a":["a","a"]}`, false},
		{"string values that look like keys", `{"a":"b","b":"a"}`, false},
		{"duplicate after unsorted run", `{"c":1,"a":2,"b":3,"c":4}`, true},
		{"empty key twice", `{"":1,"":2}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !json.Valid([]byte(tc.json)) {
				t.Fatalf("test input is not JSON: %s", tc.json)
			}
			err := CheckDuplicateKeys([]byte(tc.json))
			if got := errors.Is(err, ErrDuplicateKey); got != tc.dup {
				t.Errorf("got duplicate=%v (%v), want %v", got, err, tc.dup)
			}
		})
	}
}

func FuzzCheckDuplicateKeys(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"a":[{"b":2}]}}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := CheckDuplicateKeys(data)
		if !json.Valid(data) {
			return
		}
		// Reference: decode every object member by member with the streaming decoder.
		if got, want := err != nil, hasDuplicate(t, data); got != want {
			t.Fatalf("CheckDuplicateKeys = %v, reference says duplicate=%v for %q", err, want, data)
		}
	})
}

// hasDuplicate walks data with encoding/json's tokenizer and reports an object with a repeated name.
func hasDuplicate(t *testing.T, data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() bool
	walk = func() bool {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			dup := false
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					t.Fatalf("token: %v", err)
				}
				if seen[k.(string)] {
					dup = true
				}
				seen[k.(string)] = true
				if walk() {
					dup = true
				}
			}
			dec.Token() //nolint:errcheck // the closing brace of valid JSON
			return dup
		case json.Delim('['):
			dup := false
			for dec.More() {
				if walk() {
					dup = true
				}
			}
			dec.Token() //nolint:errcheck // the closing bracket of valid JSON
			return dup
		}
		return false
	}
	return walk()
}

func TestCheckDepth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		data string
		max  int
		ok   bool
	}{
		{`{"a":[1,{"b":2}]}`, 3, true},
		{`{"a":[1,{"b":2}]}`, 2, false},
		{`{"a":"[[[[[[[[[[["}`, 1, true},
		{`{"a":"\"[[[[["}`, 1, true},
		{`["\\",[["x"]]]`, 2, false},
		{`"unterminated [[[`, 0, true},
	} {
		err := CheckDepth([]byte(tc.data), tc.max)
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, ErrTooDeep)) {
			t.Errorf("CheckDepth(%q, %d) = %v, want ok %v", tc.data, tc.max, err, tc.ok)
		}
	}
}

// FuzzCheckDepth: for valid JSON, checkJSONDepth agrees with the nesting the decoder sees.
func FuzzCheckDepth(f *testing.F) {
	for _, s := range []string{`{}`, `[[1]]`, `{"a":"[[["}`, `{"a":"\\\"["}`, `[{"a":[{"b":[]}]}]`, `"\"`, `[`} {
		f.Add([]byte(s), 2)
	}
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		if max < 0 || max > 100 {
			return
		}
		err := CheckDepth(data, max)
		if !json.Valid(data) {
			return
		}
		dec := json.NewDecoder(bytes.NewReader(data))
		depth, deepest := 0, 0
		for {
			tok, terr := dec.Token()
			if terr != nil {
				break
			}
			switch tok {
			case json.Delim('{'), json.Delim('['):
				depth++
				deepest = max2(deepest, depth)
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
		}
		if (err == nil) != (deepest <= max) {
			t.Fatalf("CheckDepth(%q, %d) = %v, decoder depth %d", data, max, err, deepest)
		}
	})
}

func max2(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// TestReadLimited reads files around the limit, and a stream with no size to go by.
