// Package lines reads newline-terminated records with a cap on their length, without allocating the
// cap up front: memory follows the longest line actually seen (up to the cap), not the cap. Raw log
// objects are many and small; a cap-sized buffer per object would dominate the compactor's time.
package lines

import (
	"bufio"
	"bytes"
	"io"
)

// Reader yields lines. A line longer than the limit is skipped to its end and reported by its length.
// A UTF-8 byte-order mark at the start of a line is dropped: Windows tools write one at the start of a
// file, and files joined together carry it at the start of a line.
type Reader struct {
	br    *bufio.Reader
	limit int
	long  []byte // holds a line longer than the bufio buffer, while it may still be within the limit
}

// SampleBytes is how much of an over-long line Next returns as a sample.
const SampleBytes = 512

// NewReader reads lines of at most limit bytes (excluding the line ending) from r.
func NewReader(r io.Reader, limit int) *Reader {
	return &Reader{br: bufio.NewReaderSize(r, min(64<<10, limit+2)), limit: limit}
}

// Reset makes r read lines of at most limit bytes from src, keeping r's buffer: a parser that keeps its
// Reader for the next object (there are many small ones) does not allocate a buffer per object.
func (r *Reader) Reset(src io.Reader, limit int) {
	if size := min(64<<10, limit+2); r.br == nil || r.br.Size() != max(size, 16) {
		r.br = bufio.NewReaderSize(src, size)
	} else {
		r.br.Reset(src)
	}
	r.limit = limit
	r.long = r.long[:0]
}

// Next returns the next line including its line ending (the last line may lack one); the slice is valid
// until the next call. For a line over the limit it returns a sample of its first bytes and, in tooLong,
// the line's full length without its line ending, having skipped the whole line. err is io.EOF after the last line.
func (r *Reader) Next() (line []byte, tooLong int64, err error) {
	line, err = r.br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return bytes.TrimPrefix(line, bom), 0, err
	}
	r.long = append(r.long[:0], line...)
	total := int64(len(line))
	for err == bufio.ErrBufferFull {
		line, err = r.br.ReadSlice('\n')
		total += int64(len(line))
		if len(r.long) <= r.limit+2 {
			r.long = append(r.long, line...)
		}
	}
	content := total
	if content > 0 && r.long[len(r.long)-1] == '\n' && int64(len(r.long)) == total {
		content--
		if content > 0 && r.long[content-1] == '\r' {
			content--
		}
	} else if err == nil {
		content-- // the newline, beyond what was kept
	}
	long := bytes.TrimPrefix(r.long, bom)
	if content <= int64(r.limit) {
		return long, 0, err
	}
	return long[:min(len(long), SampleBytes)], content, err
}

var bom = []byte("\ufeff")
