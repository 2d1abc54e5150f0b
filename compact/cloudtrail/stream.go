package cloudtrail

import (
	"errors"
	"fmt"
	"io"
)

// stream walks the top level of a {"Records":[...]} document and hands out each array element's bytes
// without decoding them, so memory is bounded by the largest record (or MaxRecordBytes), not the file.
// It checks the document's structure (brackets, strings, commas) but not the content of values it skips;
// the record decoder validates each record.
type stream struct {
	r    io.Reader
	buf  []byte
	pos  int   // next byte to look at
	end  int   // end of valid data in buf
	base int64 // file offset of buf[0]
	eof  bool
	rerr error // read error (not io.EOF)
	mark int   // start of the value being captured, or -1
}

const readChunk = 64 << 10

// errTruncated is wrapped by errors about the file ending in the middle of the document.
var errTruncated = errors.New("unexpected end of file (truncated JSON?)")

func newStream(r io.Reader) *stream {
	return &stream{r: r, buf: make([]byte, readChunk), mark: -1}
}

func (s *stream) offset() int64 { return s.base + int64(s.pos) }

// more reads more input, keeping buf[mark:] when capturing. It reports false at end of input.
func (s *stream) more() bool {
	if s.eof || s.rerr != nil {
		return false
	}
	keep := s.pos
	if s.mark >= 0 {
		keep = s.mark
	}
	if keep > 0 {
		n := copy(s.buf, s.buf[keep:s.end])
		s.base += int64(keep)
		s.pos -= keep
		s.end = n
		if s.mark >= 0 {
			s.mark = 0
		}
	}
	if len(s.buf)-s.end < readChunk/2 {
		nb := make([]byte, 2*len(s.buf))
		copy(nb, s.buf[:s.end])
		s.buf = nb
	}
	for {
		n, err := s.r.Read(s.buf[s.end:])
		s.end += n
		if err == io.EOF {
			s.eof = true
		} else if err != nil {
			s.rerr = err
		}
		if n > 0 {
			return true
		}
		if s.eof || s.rerr != nil {
			return false
		}
	}
}

// endErr is the error for running out of input while parsing what.
func (s *stream) endErr(what string) error {
	if s.rerr != nil {
		return fmt.Errorf("reading at byte offset %d: %w", s.offset(), s.rerr)
	}
	return fmt.Errorf("%w: at byte offset %d, %s", errTruncated, s.offset(), what)
}

// skipBOM skips a UTF-8 byte-order mark at the current position (Windows tools write one at the start
// of a file).
func (s *stream) skipBOM() {
	for s.end-s.pos < 3 && s.more() {
	}
	if s.end-s.pos >= 3 && s.buf[s.pos] == 0xef && s.buf[s.pos+1] == 0xbb && s.buf[s.pos+2] == 0xbf {
		s.pos += 3
	}
}

// skipSpace advances to the next non-space byte and returns it; ok is false at end of input.
func (s *stream) skipSpace() (c byte, ok bool) {
	for {
		for s.pos < s.end {
			c = s.buf[s.pos]
			if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
				return c, true
			}
			s.pos++
		}
		if !s.more() {
			return 0, false
		}
	}
}

// capture scans one JSON value starting at the current (non-space) byte. While the value is no longer than
// limit bytes, it returns its bytes (valid until the next call); beyond that it stops keeping them, returns
// only the first sampleBytes bytes and size, and keeps scanning to the value's end.
func (s *stream) capture(limit int) (val []byte, size int64, oversized bool, err error) {
	var sample []byte
	s.mark = s.pos
	defer func() { s.mark = -1 }()
	depth := 0
	inString := false
	escaped := false
	started := false
	var dropped int64 // bytes discarded from the front of an oversized value
	for {
		for s.pos < s.end {
			c := s.buf[s.pos]
			if inString {
				s.pos++
				switch {
				case escaped:
					escaped = false
				case c == '\\':
					escaped = true
				case c == '"':
					inString = false
					if depth == 0 {
						return s.captured(sample, dropped, oversized, limit)
					}
				}
				continue
			}
			switch c {
			case '"':
				inString = true
			case '{', '[':
				depth++
			case '}', ']':
				if depth == 0 {
					if !started {
						return nil, 0, false, fmt.Errorf("at byte offset %d: expected a JSON value, found %q", s.offset(), c)
					}
					return s.captured(sample, dropped, oversized, limit) // a literal ends at the closing bracket
				}
				depth--
				if depth == 0 {
					s.pos++
					return s.captured(sample, dropped, oversized, limit)
				}
			case ',', ' ', '\n', '\r', '\t', ':':
				if depth == 0 {
					if !started {
						return nil, 0, false, fmt.Errorf("at byte offset %d: expected a JSON value, found %q", s.offset(), c)
					}
					return s.captured(sample, dropped, oversized, limit)
				}
			}
			started = true
			s.pos++
		}
		if limit > 0 && s.pos-s.mark > limit {
			if !oversized {
				oversized = true
				sample = append([]byte(nil), s.buf[s.mark:s.mark+min(sampleBytes, s.pos-s.mark)]...)
			}
			dropped += int64(s.pos - s.mark)
			s.mark = s.pos
		}
		if !s.more() {
			if depth == 0 && !inString && started && s.eof {
				return s.captured(sample, dropped, oversized, limit) // a literal at the very end
			}
			return nil, 0, false, s.endErr("inside a value")
		}
	}
}

func (s *stream) captured(sample []byte, dropped int64, oversized bool, limit int) ([]byte, int64, bool, error) {
	val := s.buf[s.mark:s.pos]
	size := dropped + int64(len(val))
	if oversized {
		return sample, size, true, nil
	}
	if limit > 0 && len(val) > limit {
		return val[:min(sampleBytes, len(val))], size, true, nil
	}
	return val, size, false, nil
}

// expect consumes byte want after optional space.
func (s *stream) expect(want byte, where string) error {
	c, ok := s.skipSpace()
	if !ok {
		return s.endErr(fmt.Sprintf("expected %q %s", want, where))
	}
	if c != want {
		return fmt.Errorf("at byte offset %d: expected %q %s, found %q", s.offset(), want, where, c)
	}
	s.pos++
	return nil
}
