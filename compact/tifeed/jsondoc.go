package tifeed

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// lineCounter sits between a reader and a json.Decoder and maps the decoder's byte offsets to line numbers
// while keeping only the bytes the decoder has read ahead (offsets are asked for in increasing order).
type lineCounter struct {
	r    io.Reader
	buf  []byte // stream bytes from off0 on
	off0 int64
	line int // line number at off0
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

func (c *lineCounter) lineAt(off int64) int {
	k := int(off - c.off0)
	if k < 0 {
		return c.line
	}
	if k > len(c.buf) {
		k = len(c.buf)
	}
	c.line += bytes.Count(c.buf[:k], []byte{'\n'})
	c.buf = append(c.buf[:0], c.buf[k:]...)
	c.off0 += int64(k)
	return c.line
}

// jsonDoc walks a JSON document token by token, so big arrays are decoded one element at a time.
type jsonDoc struct {
	lc  *lineCounter
	dec *json.Decoder
}

func newJSONDoc(r io.Reader) *jsonDoc {
	lc := &lineCounter{r: r, line: 1}
	dec := json.NewDecoder(lc)
	dec.UseNumber()
	return &jsonDoc{lc: lc, dec: dec}
}

// nextLine is the line where the next value starts (after whitespace, commas and colons).
func (d *jsonDoc) nextLine() int {
	line := d.lc.lineAt(d.dec.InputOffset())
	rest, _ := io.ReadAll(io.LimitReader(d.dec.Buffered(), 1<<16))
	for _, b := range rest {
		switch b {
		case '\n':
			line++
		case ' ', '\t', '\r', ',', ':':
		default:
			return line
		}
	}
	return line
}

// delim reads the next token and checks it is the delimiter want.
func (d *jsonDoc) delim(want json.Delim, what string) error {
	line := d.nextLine()
	tok, err := d.dec.Token()
	if err != nil {
		return d.syntax(err)
	}
	if dl, ok := tok.(json.Delim); !ok || dl != want {
		return fmt.Errorf("line %d: %s: expected %q, found %v", line, what, want, tok)
	}
	return nil
}

// object calls fn for each key of the object starting at the next token; fn must consume the value.
func (d *jsonDoc) object(what string, fn func(key string) error) error {
	if err := d.delim('{', what); err != nil {
		return err
	}
	for d.dec.More() {
		tok, err := d.dec.Token()
		if err != nil {
			return d.syntax(err)
		}
		key, _ := tok.(string)
		if err := fn(key); err != nil {
			return err
		}
	}
	return d.delim('}', what)
}

// array calls fn for each element of the array starting at the next token, with the element's first line;
// fn must consume the element.
func (d *jsonDoc) array(what string, fn func(line int) error) error {
	if err := d.delim('[', what); err != nil {
		return err
	}
	for d.dec.More() {
		if err := fn(d.nextLine()); err != nil {
			return err
		}
	}
	return d.delim(']', what)
}

// firstByte is the first byte of a JSON document that is not whitespace (or a BOM), 0 if there is none.
func firstByte(r *bufio.Reader) byte {
	for n := 1; n <= 4096; n++ {
		b, err := r.Peek(n)
		if len(b) < n {
			return 0
		}
		c := b[n-1]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' || (n <= 3 && (c == 0xef || c == 0xbb || c == 0xbf)) {
			if err != nil {
				return 0
			}
			continue
		}
		return c
	}
	return 0
}

// value decodes the next value into v. A value of the wrong shape for v is reported as a *json.UnmarshalTypeError
// (the value is consumed and parsing can go on); broken JSON is a syntax error (it cannot).
func (d *jsonDoc) value(v any) error {
	if err := d.dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return err
		}
		return d.syntax(err)
	}
	return nil
}

func (d *jsonDoc) skip() error {
	var raw json.RawMessage
	return d.value(&raw)
}

// syntax turns a decoder error into one with the line it happened on.
func (d *jsonDoc) syntax(err error) error {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Errorf("line %d: invalid JSON: %v", d.lc.lineAt(se.Offset), se)
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the JSON document ends early (truncated file?)")
	}
	return err
}

// end checks nothing but whitespace follows the document.
func (d *jsonDoc) end() error {
	if _, err := d.dec.Token(); err != io.EOF {
		return fmt.Errorf("line %d: unexpected data after the JSON document", d.nextLine())
	}
	return nil
}
