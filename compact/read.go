package compact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/lakehunt/lakehunt/lake"
)

// objectReader reads one raw object's bytes as stored, for a parse worker: it hashes them, stops when the
// run is cancelled, and stops past the size the listing gave, so a file still growing is never read for
// ever (nor consumed half: it is left for the next run).
type objectReader struct {
	ctx  context.Context
	r    io.Reader
	left int64 // bytes the listing promised that are not read yet
	read int64
	hash hash.Hash
	err  error // why reading stopped before the end: the context's error or errGrew
}

var errGrew = errors.New("the object grew while it was read")

func newObjectReader(ctx context.Context, r io.Reader, size int64) *objectReader {
	return &objectReader{ctx: ctx, r: r, left: size, hash: sha256.New()}
}

func (o *objectReader) Read(b []byte) (int, error) {
	if o.err != nil {
		return 0, o.err
	}
	if err := o.ctx.Err(); err != nil {
		o.err = err
		return 0, err
	}
	if int64(len(b)) > o.left+1 {
		b = b[:o.left+1] // one byte more than promised tells a grown object from a complete one
	}
	n, err := o.r.Read(b)
	if int64(n) > o.left {
		o.err = errGrew
		return 0, o.err
	}
	o.left -= int64(n)
	o.read += int64(n)
	o.hash.Write(b[:n])
	return n, err
}

// outcome overrides p's outcome when reading stopped for a reason of the reader's, not the object's
// content, and sets p's hash once the object was read whole.
func (o *objectReader) outcome(p *parsed) *parsed {
	p.stored = o.read
	switch {
	case errors.Is(o.err, errGrew):
		p.err, p.later = nil, "changed while it was read"
	case o.err != nil:
		p.fatal = o.err
	case p.err == nil && p.fatal == nil:
		p.sha = hex.EncodeToString(o.hash.Sum(nil))
	}
	return p
}

// countingReader counts decompressed bytes and refuses more than max.
type countingReader struct {
	r   io.Reader
	n   int64
	max int64
	err error
}

var errTooLarge = errors.New("decompressed size over the limit")

func (c *countingReader) Read(b []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.max > 0 && c.n >= c.max && len(b) > 0 {
		n, err := c.r.Read(b[:1])
		if n > 0 { // a byte past the limit
			c.err = fmt.Errorf("%w: the object decompresses to more than %d bytes, the limit for one raw object (a decompression bomb, or not a log of its source)", errTooLarge, c.max)
			return 0, c.err
		}
		return 0, err
	}
	if c.max > 0 && int64(len(b)) > c.max-c.n {
		b = b[:c.max-c.n]
	}
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

// hashObject reads a consumed object whose version changed, to compare its bytes with what was consumed.
func (w *writer) hashObject(ctx context.Context, f *fetch) *parsed {
	t := f.t
	p := &parsed{w: t}
	if t.info.Size > w.opts.MaxObjectBytes {
		p.err = fmt.Errorf("object is %d bytes, more than the %d-byte limit for one raw object; not read", t.info.Size, w.opts.MaxObjectBytes)
		return p
	}
	rc, err := f.reader(ctx, w.opts.From)
	if err != nil {
		p.err = fmt.Errorf("cannot read object: %w", err)
		return p
	}
	defer rc.Close()
	or := newObjectReader(ctx, rc, t.info.Size)
	if _, err := io.Copy(io.Discard, or); err != nil && or.err == nil {
		p.err = fmt.Errorf("cannot read object: %w", err)
	}
	return or.outcome(p)
}

// Raw objects are mostly small (CloudTrail delivers a file every few minutes per account and region), and
// reading one from a cold disk or from S3 takes longer than parsing it: objects up to prefetchMaxBytes are
// read whole, up to prefetchAhead of them at once, ahead of the parse workers, so that waiting for storage
// overlaps parsing. Memory: at most prefetchAhead x prefetchMaxBytes of stored bytes (32 MiB), in practice
// far less (CloudTrail objects are tens of kilobytes of gzip). Larger objects are streamed when parsed.
const (
	prefetchAhead    = 32
	prefetchMaxBytes = 1 << 20
)

// fetch is one work item on its way to a parse worker, with its object's bytes once read ahead.
type fetch struct {
	t    work
	done chan struct{} // closed once read ahead; nil when the object is opened by its parse worker
	body []byte
	err  error // the store's error: from opening the object, or from reading it after body
	open bool  // the object was opened (err, if any, came from reading)
}

func newFetch(t work, maxObjectBytes int64) *fetch {
	f := &fetch{t: t}
	if t.skip == "" && t.info.Size <= min(prefetchMaxBytes, maxObjectBytes) {
		f.done = make(chan struct{})
	}
	return f
}

// read reads the object ahead: up to one byte more than listed, as objectReader reads it, so that a
// grown object is still told from a complete one.
func (f *fetch) read(ctx context.Context, store lake.Store) {
	defer close(f.done)
	rc, err := store.Open(ctx, f.t.path)
	if err != nil {
		f.err = err
		return
	}
	defer rc.Close()
	f.open = true
	var b bytes.Buffer
	b.Grow(int(f.t.info.Size) + bytes.MinRead)
	_, f.err = b.ReadFrom(io.LimitReader(rc, f.t.info.Size+1))
	f.body = b.Bytes()
}

// reader opens the object for its parse worker: the bytes read ahead, then the store's error if reading
// stopped on one, exactly as the store's own reader would have given them; or the store's reader.
func (f *fetch) reader(ctx context.Context, store lake.Store) (io.ReadCloser, error) {
	if f.done == nil {
		return store.Open(ctx, f.t.path)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if !f.open {
		return nil, f.err
	}
	body, err := f.body, f.err
	f.body = nil // the parse worker holds the only reference from here on
	return io.NopCloser(&replayReader{b: body, err: err}), nil
}

type replayReader struct {
	b   []byte
	err error
}

func (r *replayReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}
