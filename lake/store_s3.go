package lake

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
)

type s3Store struct {
	url    string
	bucket string
	prefix string // "" or ends with "/"
	client *s3.Client
}

func parseS3URL(url string) (bucket, prefix string, err error) {
	rest := strings.TrimPrefix(url, "s3://")
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("invalid S3 location %q: expected s3://bucket/prefix", url)
	}
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return bucket, prefix, nil
}

func openS3(ctx context.Context, url string, opts StoreOptions) (*s3Store, error) {
	bucket, prefix, err := parseS3URL(url)
	if err != nil {
		return nil, err
	}
	var loadOpts []func(*config.LoadOptions) error
	if opts.S3Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.S3Region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	endpoint := opts.S3Endpoint
	if endpoint == "" {
		endpoint = os.Getenv("AWS_ENDPOINT_URL_S3")
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if cfg.RetryMaxAttempts == 0 {
			o.RetryMaxAttempts = requestAttempts // AWS_MAX_ATTEMPTS or max_attempts in the profile wins
		}
		// A resumed read asks for a Range, which carries no checksum: not worth a line on stderr each time.
		o.DisableLogOutputChecksumValidationSkipped = true
		if r, ok := o.Retryer.(aws.RetryerV2); ok {
			o.Retryer = retryBrokenBodies{r}
		}
		if opts.S3MaxBackoff > 0 {
			o.Retryer = retry.AddWithMaxBackoffDelay(o.Retryer, opts.S3MaxBackoff)
		}
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
			o.UsePathStyle = true
		}
	})
	return &s3Store{url: url, bucket: bucket, prefix: prefix, client: client}, nil
}

// retryBrokenBodies also retries a request whose answer's body broke off while the SDK decoded it (a
// ListObjectsV2 page cut short): the SDK reports that as a deserialization error and does not retry it.
type retryBrokenBodies struct{ aws.RetryerV2 }

func (r retryBrokenBodies) IsErrorRetryable(err error) bool {
	var de *smithy.DeserializationError
	if errors.As(err, &de) && (errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET)) {
		return true
	}
	return r.RetryerV2.IsErrorRetryable(err)
}

func (s *s3Store) URL() string { return s.url }

func (s *s3Store) full(key string) string { return s.prefix + key }

func (s *s3Store) List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error {
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{
		Bucket: aws.String(s.bucket),
		Prefix: aws.String(s.full(prefix)),
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("list s3://%s/%s: %w", s.bucket, s.full(prefix), err)
		}
		for _, o := range page.Contents {
			info := ObjectInfo{
				Key:  strings.TrimPrefix(aws.ToString(o.Key), s.prefix),
				Size: aws.ToInt64(o.Size),
				ETag: strings.Trim(aws.ToString(o.ETag), `"`),
			}
			if o.LastModified != nil {
				info.Modified = o.LastModified.UTC()
			}
			if err := fn(info); err != nil {
				return err
			}
		}
	}
	return nil
}

func isNotFound(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound", "404":
			return true
		}
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound
}

func isPreconditionFailed(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "PreconditionFailed", "ConditionalRequestConflict":
			return true
		}
	}
	var re interface{ HTTPStatusCode() int }
	return errors.As(err, &re) && (re.HTTPStatusCode() == http.StatusPreconditionFailed || re.HTTPStatusCode() == http.StatusConflict)
}

// How hard the store tries before giving up: the SDK retries each request (5xx, throttling, resets before
// the answer) up to requestAttempts times; on top of that, a body that fails or ends short is fetched again
// from where it stopped, and a conditional write whose answer was lost is resolved by reading it back.
const (
	requestAttempts = 5
	bodyAttempts    = 5 // consecutive body failures without a byte of progress
	maxReopens      = 20
	writeAttempts   = 5
)

func (s *s3Store) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	out, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return nil, fmt.Errorf("get s3://%s/%s: %w", s.bucket, s.full(key), err)
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return &s3Body{s: s, ctx: ctx, key: key, etag: aws.ToString(out.ETag), size: size, body: out.Body}, nil
}

// s3Body reads an object's body and survives a connection that breaks while it does: the SDK retries a
// request only until its headers arrive, so a reset or a truncated body would otherwise reach the caller
// as the object's end or as corrupt content. s3Body checks the byte count against Content-Length and
// fetches the rest again (Range from the offset reached, If-Match the same ETag) until it has them all.
type s3Body struct {
	s        *s3Store
	ctx      context.Context
	key      string
	etag     string
	size     int64 // Content-Length of the first answer; -1 if it had none
	off      int64
	body     io.ReadCloser
	failures int // consecutive failures without progress
	reopens  int
	lastErr  error
}

func (b *s3Body) Read(p []byte) (int, error) {
	for {
		if b.body == nil {
			if err := b.reopen(); err != nil {
				return 0, err
			}
		}
		n, err := b.body.Read(p)
		b.off += int64(n)
		if n > 0 {
			b.failures = 0
		}
		if err == nil || (err == io.EOF && (b.size < 0 || b.off == b.size)) {
			return n, err
		}
		if err == io.EOF {
			err = fmt.Errorf("body ended after %d of %d bytes", b.off, b.size)
		}
		_ = b.body.Close()
		b.body, b.lastErr = nil, err
		b.failures++
		if n > 0 {
			return n, nil // the caller has these; the rest is fetched on the next Read
		}
	}
}

func (b *s3Body) reopen() error {
	where := fmt.Sprintf("s3://%s/%s", b.s.bucket, b.s.full(b.key))
	for {
		if err := b.ctx.Err(); err != nil {
			return err
		}
		if b.failures >= bodyAttempts || b.reopens >= maxReopens {
			return fmt.Errorf("read %s: gave up after %d bytes of %d and %d attempts: %w", where, b.off, b.size, b.reopens+1, b.lastErr)
		}
		if err := sleepCtx(b.ctx, backoff(b.failures)); err != nil {
			return err
		}
		b.reopens++
		in := &s3.GetObjectInput{Bucket: aws.String(b.s.bucket), Key: aws.String(b.s.full(b.key))}
		if b.etag != "" {
			in.IfMatch = aws.String(b.etag)
		}
		if b.off > 0 {
			in.Range = aws.String(fmt.Sprintf("bytes=%d-", b.off))
		}
		out, err := b.s.client.GetObject(b.ctx, in)
		if err == nil {
			b.body = out.Body
			return nil
		}
		if isPreconditionFailed(err) || isNotFound(err) {
			return fmt.Errorf("read %s: the object was replaced or deleted while being read (after %d of %d bytes)", where, b.off, b.size)
		}
		b.failures++
		b.lastErr = err
	}
}

func (b *s3Body) Close() error {
	if b.body == nil {
		return nil
	}
	return b.body.Close()
}

// backoff is the pause before attempt n+1: exponential from 50 ms, at most 2 s, with jitter.
func backoff(n int) time.Duration {
	d := min(50*time.Millisecond<<n, 2*time.Second)
	return d/2 + rand.N(d/2+1)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func (s *s3Store) Stat(ctx context.Context, key string) (ObjectInfo, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil {
		if isNotFound(err) {
			return ObjectInfo{}, fmt.Errorf("%s: %w", key, ErrNotFound)
		}
		return ObjectInfo{}, fmt.Errorf("head s3://%s/%s: %w", s.bucket, s.full(key), err)
	}
	info := ObjectInfo{Key: key, Size: aws.ToInt64(out.ContentLength), ETag: strings.Trim(aws.ToString(out.ETag), `"`)}
	if out.LastModified != nil {
		info.Modified = out.LastModified.UTC()
	}
	return info, nil
}

func (s *s3Store) Put(ctx context.Context, key string, body io.Reader, size int64) error {
	// PutObject needs a seekable body for signing; lake files are bounded in size (tens of MB), so buffer when needed.
	rs, ok := body.(io.ReadSeeker)
	if !ok {
		b, err := io.ReadAll(body)
		if err != nil {
			return err
		}
		rs = bytes.NewReader(b)
	}
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(s.full(key)), Body: rs, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", s.bucket, s.full(key), err)
	}
	return nil
}

func (s *s3Store) Create(ctx context.Context, key string, body []byte) error {
	return s.conditionalPut(ctx, key, body, "", "create")
}

func (s *s3Store) ReplaceIf(ctx context.Context, key string, body []byte, etag string) error {
	return s.conditionalPut(ctx, key, body, etag, "replace")
}

// conditionalPut writes body under key if none exists (etag "") or if it still has etag. An answer that
// does not tell whether the write was applied (a 5xx, a reset, a timeout, or a 412 that answers the SDK's
// retry of a write that had landed) is resolved by reading the object back: if it holds body, the write
// is ours. Otherwise the write is tried again while the outcome is unknown.
func (s *s3Store) conditionalPut(ctx context.Context, key string, body []byte, etag, verb string) error {
	in := &s3.PutObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key)), ContentLength: aws.Int64(int64(len(body)))}
	if etag == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(`"` + etag + `"`)
	}
	exists := func() error { return fmt.Errorf("%s: %w", key, ErrExists) }
	var err error
	for attempt := 0; attempt < writeAttempts; attempt++ {
		if attempt > 0 {
			if err := sleepCtx(ctx, backoff(attempt)); err != nil {
				return err
			}
		}
		in.Body = bytes.NewReader(body)
		if _, err = s.client.PutObject(ctx, in); err == nil {
			return nil
		}
		conflict := isPreconditionFailed(err)
		if etag != "" && isNotFound(err) {
			return exists() // replacing an object that is gone
		}
		if !conflict && rejected(err) {
			break
		}
		cur, rerr := ReadAll(ctx, s, key)
		switch {
		case rerr == nil && bytes.Equal(cur, body):
			return nil // an earlier attempt landed
		case rerr == nil && (conflict || etag == ""):
			return exists() // another writer's object
		case errors.Is(rerr, ErrNotFound) && etag != "" && conflict:
			return exists()
		}
		if ctx.Err() != nil {
			break
		}
	}
	return fmt.Errorf("%s s3://%s/%s: %w", verb, s.bucket, s.full(key), err)
}

// rejected reports whether S3 refused a request outright (a 4xx such as AccessDenied): it was not applied,
// and sending it again does not help.
func rejected(err error) bool {
	var re interface{ HTTPStatusCode() int }
	if !errors.As(err, &re) {
		return false
	}
	c := re.HTTPStatusCode()
	return c >= 400 && c < 500 && c != http.StatusRequestTimeout && c != http.StatusTooManyRequests
}

func (s *s3Store) Delete(ctx context.Context, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(s.full(key))})
	if err != nil && !isNotFound(err) {
		return fmt.Errorf("delete s3://%s/%s: %w", s.bucket, s.full(key), err)
	}
	return nil
}
