package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// ErrDuplicateKey is wrapped by the error of a file with an object member name given twice.
var ErrDuplicateKey = errors.New("duplicate JSON object member")

// checkDuplicateKeys refuses JSON in which an object names a member twice. Decoders disagree on which
// duplicate wins (Go's encoding/json and canonical JSON keep the last, others the first), so a signed
// document with duplicates can verify under one reading and mean something else under another: never
// accept one. The scan is structural (strings skipped, keys recognised by position); keys in strictly
// increasing order — canonical JSON, every link the peers write — are checked against their predecessor
// only; an object out of order falls back to a set. Malformed JSON is left to the decoder.
func checkDuplicateKeys(data []byte) error {
	// One frame per open container, reused (with its key slice) by the next container at the same
	// depth: a link's 100k digest objects cost no allocation each.
	var stack []jsonObject
	expectKey := false // the next string in the innermost object is a member name
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			start := i + 1
			for { // to the closing quote: one preceded by an even number of backslashes
				j := bytes.IndexByte(data[i+1:], '"')
				if j < 0 {
					return nil // unterminated string: the decoder reports it
				}
				i += 1 + j
				n := 0
				for data[i-1-n] == '\\' {
					n++
				}
				if n%2 == 0 {
					break
				}
			}
			if !expectKey || len(stack) == 0 || stack[len(stack)-1].array {
				continue
			}
			expectKey = false
			o := &stack[len(stack)-1]
			key := data[start:i]
			if bytes.IndexByte(key, '\\') >= 0 {
				var s string
				if err := json.Unmarshal(data[start-1:i+1], &s); err != nil {
					return nil // malformed: the decoder reports it
				}
				key = []byte(s)
				o.toSet()
			}
			if o.set == nil && (len(o.keys) == 0 || bytes.Compare(key, o.keys[len(o.keys)-1]) > 0) {
				o.keys = append(o.keys, key) // still strictly increasing: no duplicate possible
				continue
			}
			o.toSet()
			if _, dup := o.set[string(key)]; dup {
				return fmt.Errorf("%w %q", ErrDuplicateKey, key)
			}
			o.set[string(key)] = struct{}{}
		case '{', '[':
			stack = push(stack, data[i] == '[')
			expectKey = data[i] == '{'
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

// jsonObject tracks the member names of one open container during checkDuplicateKeys.
type jsonObject struct {
	array bool                // an array: its strings are values, never names
	keys  [][]byte            // names seen while they arrive in strictly increasing order
	set   map[string]struct{} // every name seen, once the order broke
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
