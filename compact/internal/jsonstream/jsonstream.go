// Package jsonstream cuts a stream into top-level JSON objects, whether one per line (AWS exports) or
// concatenated with no separator (Firehose), without decoding them: it follows strings and nesting only,
// so memory is bounded by the record limit whatever the input. The JSON-record sources (waf, guardduty,
// securityhub) share it.
package jsonstream

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Kind is what Next found.
type Kind int

const (
	Object    Kind = iota
	Junk           // bytes that are not a JSON object, up to the end of their line
	Truncated      // an object the stream ends inside
	TooLong        // an object over the limit (the record holds its start)
)

// SampleBytes is how much of a junk or oversize record Next keeps.
const SampleBytes = 512

// Splitter reads records from a stream.
type Splitter struct {
	br    *bufio.Reader
	limit int
	buf   []byte
}

// New reads r; objects larger than limit bytes are reported as TooLong.
func New(r io.Reader, limit int) *Splitter { return newSize(r, limit, 64<<10) }

func newSize(r io.Reader, limit, bufSize int) *Splitter {
	return &Splitter{br: bufio.NewReaderSize(r, bufSize), limit: limit}
}

// Next returns the next record (valid until the next call), its size in bytes and its kind; io.EOF at
// the end.
func (s *Splitter) Next() ([]byte, int64, Kind, error) {
	s.buf = s.buf[:0]
	var c byte
	var err error
	for {
		if c, err = s.br.ReadByte(); err != nil {
			return nil, 0, Object, err
		}
		if c == 0xEF { // a UTF-8 byte-order mark (files joined by Windows tools)
			if b, _ := s.br.Peek(2); bytes.Equal(b, []byte{0xBB, 0xBF}) {
				_, _ = s.br.Discard(2)
				continue
			}
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			break
		}
	}
	if c != '{' {
		s.buf = append(s.buf, c)
		line, err := s.br.ReadSlice('\n')
		for errors.Is(err, bufio.ErrBufferFull) {
			s.keep(line)
			line, err = s.br.ReadSlice('\n')
		}
		s.keep(line)
		if err != nil && err != io.EOF {
			return nil, 0, Object, err
		}
		return bytes.TrimRight(s.buf, "\r\n"), int64(len(s.buf)), Junk, nil
	}
	s.buf = append(s.buf, c)
	size, depth, inStr, esc := int64(1), 1, false, false
	for depth > 0 {
		// Scan what the reader holds, not a byte per call: most of a record's time was the calls.
		chunk, err := s.br.Peek(max(s.br.Buffered(), 1))
		if len(chunk) == 0 {
			if err == io.EOF {
				return s.buf, size, Truncated, nil
			}
			return nil, 0, Object, err
		}
		i := 0
		for ; i < len(chunk) && depth > 0; i++ {
			c := chunk[i]
			switch {
			case esc:
				esc = false
			case inStr:
				if c == '\\' {
					esc = true
				} else if c == '"' {
					inStr = false
				}
			case c == '"':
				inStr = true
			case c == '{' || c == '[':
				depth++
			case c == '}' || c == ']':
				depth--
			}
		}
		if room := int64(s.limit) - size; room > 0 {
			s.buf = append(s.buf, chunk[:min(int64(i), room)]...)
		}
		size += int64(i)
		_, _ = s.br.Discard(i)
	}
	if size > int64(s.limit) {
		return Sample(s.buf, SampleBytes), size, TooLong, nil
	}
	return s.buf, size, Object, nil
}

// keep appends junk bytes up to a sample's worth.
func (s *Splitter) keep(b []byte) {
	if n := SampleBytes - len(s.buf); n > 0 {
		s.buf = append(s.buf, Sample(b, n)...)
	}
}

// Sample is the first n bytes of b.
func Sample(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Each calls record with every JSON object of r and its 1-based record number, and bad with every record
// that is not one (not JSON, cut off at the end, over limit); parsing goes on after a bad record. A stream
// whose first record is not a JSON object is not of this source: that is the error, "notThis: starts
// with ...". An error from record stops Each and is returned.
func Each(r io.Reader, limit int, notThis string, record func(n int64, obj []byte) error, bad func(n int64, reason string, sample []byte)) (n int64, err error) {
	s := New(r, limit)
	for {
		obj, size, kind, err := s.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		switch kind {
		case Junk:
			if n == 1 {
				return 0, fmt.Errorf("%s: starts with %q", notThis, Sample(obj, 32))
			}
			bad(n, "not a JSON object", obj)
		case Truncated:
			bad(n, "JSON object cut off at the end of the file", obj)
		case TooLong:
			bad(n, fmt.Sprintf("record is %d bytes, over the %d-byte limit", size, limit), obj)
		default:
			if err := record(n, obj); err != nil {
				return n, err
			}
		}
	}
}
