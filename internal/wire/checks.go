package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// The checks a verifier makes of a whole document before any decoder reads it (repeated member
// names, nesting), for the documents the one-pass link readers do not take. Both are thin walkers
// over the token grammar (tokens.go): strings are skipped whole (stringEnd), so brackets, commas and
// quotes inside them never count.

// ErrDuplicateKey is wrapped by CheckDuplicateKeys's error.
var ErrDuplicateKey = errors.New("duplicate JSON object member")

// ErrTooDeep is wrapped by CheckDepth's error.
var ErrTooDeep = errors.New("JSON nested too deep")

// CheckDepth refuses JSON nested deeper than max, before any decoder recurses into it. Malformed
// JSON is left to the decoder.
func CheckDepth(data []byte, max int) error {
	depth := 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			end, ok := stringEnd(data, i)
			if !ok {
				return nil // unterminated string: the decoder reports it
			}
			i = end
		case '{', '[':
			depth++
			if depth > max {
				return fmt.Errorf("%w: JSON nested deeper than %d levels", ErrTooDeep, max)
			}
		case '}', ']':
			depth--
		}
	}
	return nil
}

// CheckDuplicateKeys refuses JSON in which an object names a member twice. Decoders disagree on
// which duplicate wins (Go's encoding/json and canonical JSON keep the last, others the first), so a
// signed document with duplicates can verify under one reading and mean something else under
// another: never accept one. Keys are recognised by position; keys in strictly increasing order —
// canonical JSON, every link the peers write — are checked against their predecessor only; an
// object out of order falls back to a set. Malformed JSON is left to the decoder.
func CheckDuplicateKeys(data []byte) error {
	// One frame per open container, reused (with its key slice) by the next container at the same
	// depth: a link's 100k digest objects cost no allocation each.
	var stack []jsonObject
	expectKey := false // the next string in the innermost object is a member name
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			end, ok := stringEnd(data, i)
			if !ok {
				return nil // unterminated string: the decoder reports it
			}
			tok := data[i : end+1]
			i = end
			if !expectKey || len(stack) == 0 || stack[len(stack)-1].array {
				continue
			}
			expectKey = false
			if err := stack[len(stack)-1].add(tok); err != nil {
				return err
			}
		case '{', '[':
			stack = push(stack, c == '[')
			expectKey = c == '{'
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
			expectKey = false
		case ',':
			expectKey = len(stack) > 0 && !stack[len(stack)-1].array
		}
	}
	return nil
}

// jsonObject tracks the member names of one open container during CheckDuplicateKeys.
type jsonObject struct {
	array bool                // an array: its strings are values, never names
	keys  [][]byte            // names seen while they arrive in strictly increasing order
	set   map[string]struct{} // every name seen, once the order broke
}

// add records the member name whose string token (quotes included) is tok.
func (o *jsonObject) add(tok []byte) error {
	key := tok[1 : len(tok)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		var s string
		if err := json.Unmarshal(tok, &s); err != nil {
			return nil // malformed: the decoder reports it
		}
		key = []byte(s)
		o.toSet()
	}
	if o.set == nil && (len(o.keys) == 0 || bytes.Compare(key, o.keys[len(o.keys)-1]) > 0) {
		o.keys = append(o.keys, key) // still strictly increasing: no duplicate possible
		return nil
	}
	o.toSet()
	if _, dup := o.set[string(key)]; dup {
		return fmt.Errorf("%w %q", ErrDuplicateKey, key)
	}
	o.set[string(key)] = struct{}{}
	return nil
}

// push opens a container, reusing the frame (and its key slice) left at that depth.
func push(stack []jsonObject, array bool) []jsonObject {
	if len(stack) < cap(stack) {
		stack = stack[:len(stack)+1]
		f := &stack[len(stack)-1]
		f.array, f.keys, f.set = array, f.keys[:0], nil
		return stack
	}
	return append(stack, jsonObject{array: array})
}

// toSet switches o from the sorted fast path to a set holding every name seen so far.
func (o *jsonObject) toSet() {
	if o.set != nil {
		return
	}
	o.set = make(map[string]struct{}, len(o.keys)+1)
	for _, k := range o.keys {
		o.set[string(k)] = struct{}{}
	}
	o.keys = nil
}
