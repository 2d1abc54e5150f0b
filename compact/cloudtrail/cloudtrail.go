// Package cloudtrail parses CloudTrail log files ({"Records":[...]}) into rows of the cloudtrail table.
package cloudtrail

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/lakehunt/lakehunt/lake"
)

// DefaultMaxRecordBytes is used when Options.MaxRecordBytes is 0. CloudTrail caps an event at 256 KB, or
// 1 MB where the larger event size is enabled; the margin covers pretty-printed copies.
const DefaultMaxRecordBytes = 2 << 20

// sampleBytes is how much of a bad record is handed to bad().
const sampleBytes = 512

// Options describe the object being parsed.
type Options struct {
	Key             string // object key, copied to every row's SourceKey
	FallbackAccount string // used when a record has no recipientAccountId (from the key)
	FallbackRegion  string // used when a record has no awsRegion (from the key)
	MaxRecordBytes  int    // larger records go to bad(); 0 means DefaultMaxRecordBytes
}

// ErrNotCloudTrail is wrapped by the file-level errors that mean the input is not a CloudTrail log file
// (not JSON, no top-level Records array, truncated).
var ErrNotCloudTrail = errors.New("not a CloudTrail log file")

// Parse reads one decompressed CloudTrail log file and calls emit for each event, in file order.
// Each emitted row is new; the caller may keep it. IngestedAt is left zero.
//
// A record that cannot become a row (not an object, invalid JSON, no eventID or eventTime, unparseable
// eventTime, larger than MaxRecordBytes) goes to bad with its 1-based record number, the reason and the
// first bytes of the record; parsing goes on. If bad is nil, the first bad record is a file-level error.
//
// A file that is not a CloudTrail log at all (not JSON, no top-level Records array — a digest file for
// example —, truncated JSON) returns an error wrapping ErrNotCloudTrail that says what was wrong and at
// which byte offset / record. Rows emitted before such an error are from a file that is not trustworthy:
// the caller must discard them (and quarantine the object) rather than commit them.
// An error returned by emit stops parsing and is returned wrapped.
//
// n is the number of records read: rows emitted plus records handed to bad.
func Parse(r io.Reader, o Options, emit func(*lake.CloudTrailEvent) error, bad func(recordNo int64, reason string, sample []byte)) (n int64, err error) {
	limit := o.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	d, _ := decoders.Get().(*decoder)
	if d == nil {
		d = newDecoder()
	}
	defer decoders.Put(d)
	p := parser{s: newStream(r), d: d, o: o, limit: limit, emit: emit, bad: bad}
	ferr := p.document()
	if ferr != nil {
		var ee stopError
		if errors.As(ferr, &ee) {
			return p.n, fmt.Errorf("%s record %d: %w", o.Key, p.recordNo, ee.err)
		}
		if p.s.rerr == nil {
			ferr = fmt.Errorf("%w: %w", ErrNotCloudTrail, ferr)
		}
		return p.n, fmt.Errorf("%s: %w", o.Key, ferr)
	}
	return p.n, nil
}

// stopError carries an error from emit (or a bad record when bad is nil) out of the parser unchanged.
type stopError struct{ err error }

func (e stopError) Error() string { return e.err.Error() }

// decoders keep their interned strings from one file to the next.
var decoders sync.Pool

type parser struct {
	s        *stream
	d        *decoder
	o        Options
	limit    int
	emit     func(*lake.CloudTrailEvent) error
	bad      func(int64, string, []byte)
	n        int64 // rows emitted + bad records
	recordNo int64
	records  bool // saw the Records key
}

// document reads { "key": value, ... } and streams the value of "Records".
func (p *parser) document() error {
	s := p.s
	s.skipBOM()
	c, ok := s.skipSpace()
	if !ok {
		if s.rerr != nil {
			return s.endErr("")
		}
		return errors.New("empty file")
	}
	if c != '{' {
		return fmt.Errorf("at byte offset %d: expected '{' to open the JSON document, found %q", s.offset(), c)
	}
	s.pos++
	for first := true; ; first = false {
		c, ok := s.skipSpace()
		if !ok {
			return s.endErr("inside the top-level object")
		}
		if c == '}' && first {
			s.pos++
			break
		}
		if !first {
			if c == '}' {
				s.pos++
				break
			}
			if c != ',' {
				return fmt.Errorf("at byte offset %d: expected ',' or '}' in the top-level object, found %q", s.offset(), c)
			}
			s.pos++
			if c, ok = s.skipSpace(); !ok {
				return s.endErr("expected a key in the top-level object")
			}
		}
		if c != '"' {
			return fmt.Errorf("at byte offset %d: expected a key in the top-level object, found %q", s.offset(), c)
		}
		key, _, _, err := s.capture(64)
		if err != nil {
			return err
		}
		isRecords := string(key) == `"Records"`
		if err := s.expect(':', "after a key"); err != nil {
			return err
		}
		if _, ok := s.skipSpace(); !ok {
			return s.endErr("expected a value in the top-level object")
		}
		if isRecords {
			if p.records {
				return fmt.Errorf("at byte offset %d: a second \"Records\" key", s.offset())
			}
			p.records = true
			if err := p.recordsArray(); err != nil {
				return err
			}
			continue
		}
		if _, _, _, err := s.capture(1); err != nil { // skip without keeping it
			return err
		}
	}
	if c, ok := s.skipSpace(); ok {
		return fmt.Errorf("at byte offset %d: unexpected %q after the top-level object", s.offset(), c)
	}
	if s.rerr != nil {
		return s.endErr("")
	}
	if !p.records {
		return errors.New(`no top-level "Records" array (a CloudTrail digest or another JSON document?)`)
	}
	return nil
}

func (p *parser) recordsArray() error {
	s := p.s
	if c := s.buf[s.pos]; c != '[' {
		return fmt.Errorf("at byte offset %d: \"Records\" is not an array (found %q)", s.offset(), c)
	}
	s.pos++
	for first := true; ; first = false {
		c, ok := s.skipSpace()
		if !ok {
			return s.endErr(fmt.Sprintf("in the Records array after record %d", p.recordNo))
		}
		if c == ']' {
			s.pos++
			return nil
		}
		if !first {
			if c != ',' {
				return fmt.Errorf("at byte offset %d: expected ',' or ']' after record %d, found %q", s.offset(), p.recordNo, c)
			}
			s.pos++
			if c, ok = s.skipSpace(); !ok {
				return s.endErr(fmt.Sprintf("expected record %d", p.recordNo+1))
			}
		}
		p.recordNo++
		if c == '{' {
			if done, err := p.fast(); done {
				if err != nil {
					return err
				}
				continue
			}
		}
		start := s.offset()
		raw, size, oversized, err := s.capture(p.limit)
		if err != nil {
			return fmt.Errorf("record %d (starting at byte offset %d): %w", p.recordNo, start, err)
		}
		switch {
		case oversized:
			err = p.reject(fmt.Sprintf("record is %d bytes, more than the %d-byte limit", size, p.limit), raw)
		case c != '{':
			err = p.reject("record is not a JSON object", raw)
		default:
			ev, perr := p.d.parseEvent(raw, p.o.FallbackAccount, p.o.FallbackRegion)
			err = p.done(ev, perr, raw)
		}
		if err != nil {
			return err
		}
	}
}

// fast decodes the record at the current position straight from the read buffer when it is there whole,
// valid and within the size limit (nearly always). Otherwise it reports false and leaves the position
// alone: the record is captured (reading more input as needed) and explained by parseEvent.
func (p *parser) fast() (done bool, err error) {
	s := p.s
	if s.end-s.pos < readChunk/2 {
		s.more() // top up, so that records are rarely cut by the end of the buffer
	}
	b := s.buf[s.pos:s.end]
	end, ok := p.d.decode(b)
	if !ok || end > p.limit {
		return false, nil
	}
	s.pos += end
	raw := b[:end]
	ev, perr := p.d.row(raw, p.o.FallbackAccount, p.o.FallbackRegion)
	return true, p.done(ev, perr, raw)
}

// done emits a decoded row, or hands the record to bad() with the reason it is not one.
func (p *parser) done(ev *lake.CloudTrailEvent, err error, raw []byte) error {
	if err != nil {
		return p.reject(err.Error(), raw)
	}
	ev.SourceKey = p.o.Key
	ev.SourceLine = p.recordNo
	if err := p.emit(ev); err != nil {
		return stopError{err}
	}
	p.n++
	return nil
}

// reject hands a bad record to bad() with a copy of its first bytes.
func (p *parser) reject(reason string, raw []byte) error {
	if p.bad == nil {
		return stopError{errors.New(reason)}
	}
	p.bad(p.recordNo, reason, append([]byte(nil), raw[:min(len(raw), sampleBytes)]...))
	p.n++
	return nil
}
