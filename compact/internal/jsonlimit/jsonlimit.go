// Package jsonlimit bounds the shape of a JSON record before a decoder sees it. The decoders the parsers
// use recurse once per nesting level (the CloudTrail record decoder, the Route 53 reader): a record nested two
// million levels deep — 4 KB of gzip — overflowed the goroutine stack and crashed every run, and a
// Route 53 line nested four million levels took 664 MB. Check is one pass over the bytes, without
// recursion and without allocating, so it is safe on any input.
package jsonlimit

import (
	"bytes"
	"fmt"
)

// MaxDepth is the deepest nesting of arrays and objects accepted. The 2,254 AWS sample records under
// testdata nest 12 levels at most (requestParameters holding a policy or a launch template), so 512 leaves
// a wide margin while keeping every recursive decoder's stack small.
const MaxDepth = 512

// MaxValues bounds how many values (array elements and object members, at any depth) a record may hold. Bytes alone do not bound the memory of a decoder that builds maps and interfaces: a MiB of
// `{"a":0},` decodes into 45 MB of Go maps. A value takes two bytes at least ("0,"), so no record of 1 MiB or
// less (CloudTrail's largest events are 1 MB) can exceed it, and the most a record may hold decodes into
// less than 100 MB.
const MaxValues = 1 << 19

// Check reports an error naming the limit when b, a JSON text (valid or not), nests deeper than MaxDepth
// or holds more than MaxValues values. It does not validate b otherwise.
func Check(b []byte) error {
	depth, values := 0, 0
	opened := false // the last token opened an array or object: the next one is its first value or its end
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '"':
			if i = stringEnd(b, i); i < 0 {
				return nil // unterminated: the decoder reports it
			}
		case '[', '{':
			if depth++; depth > MaxDepth {
				return fmt.Errorf("JSON nested deeper than %d levels", MaxDepth)
			}
		case ']', '}':
			depth--
		case ',':
			values++
		}
		// A value follows each comma, and one more starts each container that is not empty.
		if opened && c != ']' && c != '}' {
			values++
		}
		opened = c == '[' || c == '{'
		if values > MaxValues {
			return fmt.Errorf("JSON holds more than %d values", MaxValues)
		}
	}
	return nil
}

// stringEnd returns the index of the quote that closes the string opened at b[open], or -1.
func stringEnd(b []byte, open int) int {
	for i := open + 1; ; i++ {
		j := bytes.IndexByte(b[i:], '"')
		if j < 0 {
			return -1
		}
		i += j
		backslashes := 0
		for k := i - 1; b[k] == '\\'; k-- {
			backslashes++
		}
		if backslashes%2 == 0 {
			return i
		}
	}
}
