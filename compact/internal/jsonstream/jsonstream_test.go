package jsonstream

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// nextByteAtATime is Next as it was first written, a byte per call: the oracle the scanning Next must match.
func (s *Splitter) nextByteAtATime() ([]byte, int64, Kind, error) {
	s.buf = s.buf[:0]
	var c byte
	var err error
	for {
		if c, err = s.br.ReadByte(); err != nil {
			return nil, 0, Object, err
		}
		if c == 0xEF {
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
		if c, err = s.br.ReadByte(); err != nil {
			if err == io.EOF {
				return s.buf, size, Truncated, nil
			}
			return nil, 0, Object, err
		}
		size++
		if size <= int64(s.limit) {
			s.buf = append(s.buf, c)
		}
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
	if size > int64(s.limit) {
		return Sample(s.buf, SampleBytes), size, TooLong, nil
	}
	return s.buf, size, Object, nil
}

type record struct {
	obj  string
	size int64
	kind Kind
	err  string
}

func split(in string, limit, bufSize int, next func(*Splitter) ([]byte, int64, Kind, error)) []record {
	s := newSize(strings.NewReader(in), limit, bufSize)
	var out []record
	for len(out) < 10_000 {
		obj, size, kind, err := next(s)
		r := record{obj: string(obj), size: size, kind: kind}
		if err != nil {
			r.err = err.Error()
		}
		out = append(out, r)
		if err != nil {
			break
		}
	}
	return out
}

func sameAsByteAtATime(t *testing.T, in string, limit, bufSize int) {
	t.Helper()
	got := split(in, limit, bufSize, (*Splitter).Next)
	want := split(in, limit, bufSize, (*Splitter).nextByteAtATime)
	if len(got) != len(want) {
		t.Fatalf("limit %d, buffer %d: %d records, want %d\n got %+v\nwant %+v", limit, bufSize, len(got), len(want), got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("limit %d, buffer %d: record %d is %+v, want %+v", limit, bufSize, i+1, got[i], want[i])
		}
	}
}

var samples = []string{
	`{"a":1}` + "\n" + `{"b":"x}y"}` + "\n",
	`{"a":{"b":[1,2,{"c":"d"}]}}{"e":"f\"}"}{"g":"\\"}`, // Firehose: concatenated, escapes
	"\xEF\xBB\xBF{\"bom\":true}\r\n\r\n{\"crlf\":1}\r\n",
	"not json\n{\"after\":\"junk\"}\n",
	`{"cut":"off`,
	`{"long":"` + strings.Repeat("x", 300) + `"}` + "\n" + `{"next":1}`,
	"{}\n{}\n\n\t {  }",
	`{"s":"\u00e9\\\"}","t":"]}"}`,
	"",
}

// The scanning Next gives every record, size, kind and error the byte-at-a-time one gave, whatever the
// reader's buffer size (records cross buffer boundaries) and record limit.
func TestNextSameAsByteAtATime(t *testing.T) {
	for _, in := range samples {
		for _, limit := range []int{1, 7, 64, 1 << 20} {
			for _, bufSize := range []int{16, 17, 64, 64 << 10} {
				sameAsByteAtATime(t, in, limit, bufSize)
			}
		}
	}
}

func FuzzNextSameAsByteAtATime(f *testing.F) {
	for _, s := range samples {
		f.Add(s, uint16(64), uint8(0))
	}
	f.Fuzz(func(t *testing.T, in string, limit uint16, buf uint8) {
		sameAsByteAtATime(t, in, int(limit)+1, 16+int(buf))
	})
}

func BenchmarkNext(b *testing.B) {
	var in strings.Builder
	for range 2000 {
		in.WriteString(`{"timestamp":1718000000000,"formatVersion":1,"webaclId":"arn:aws:wafv2:us-east-1:111122223333:regional/webacl/shop/0123","terminatingRuleId":"Default_Action","action":"ALLOW","httpRequest":{"clientIp":"203.0.113.7","country":"NL","headers":[{"name":"Host","value":"shop.example.com"},{"name":"User-Agent","value":"Mozilla/5.0 (X11; Linux x86_64)"}],"uri":"/search","args":"q=shoes\u0026page=2","httpVersion":"HTTP/1.1","httpMethod":"GET","requestId":"abc"}}` + "\n")
	}
	data := in.String()
	b.SetBytes(int64(len(data)))
	for _, c := range []struct {
		name string
		next func(*Splitter) ([]byte, int64, Kind, error)
	}{{"scan", (*Splitter).Next}, {"byte-at-a-time", (*Splitter).nextByteAtATime}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				s := New(strings.NewReader(data), 1<<20)
				for {
					if _, _, _, err := c.next(s); err != nil {
						break
					}
				}
			}
		})
	}
}
