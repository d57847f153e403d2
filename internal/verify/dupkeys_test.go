package verify

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
			err := checkDuplicateKeys([]byte(tc.json))
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
		err := checkDuplicateKeys(data)
		if !json.Valid(data) {
			return
		}
		// Reference: decode every object member by member with the streaming decoder.
		if got, want := err != nil, hasDuplicate(t, data); got != want {
			t.Fatalf("checkDuplicateKeys = %v, reference says duplicate=%v for %q", err, want, data)
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
