package lake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// ErrNotFound is returned when an object does not exist.
var ErrNotFound = errors.New("object not found")

// ErrExists is returned by Create when the object already exists (S3 If-None-Match: * failed),
// and by ReplaceIf when the object changed since it was read (If-Match failed).
var ErrExists = errors.New("object already exists or changed")

// ObjectInfo describes one stored object.
type ObjectInfo struct {
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag,omitempty"`
	Modified time.Time `json:"modified"`
}

// Store is a flat key space of immutable-ish objects: a local directory or an S3 prefix.
// Keys use '/' and are relative to the store's root.
type Store interface {
	// URL is the root the store was opened on, for messages.
	URL() string
	// List calls fn for every object whose key starts with prefix, in lexical key order.
	List(ctx context.Context, prefix string, fn func(ObjectInfo) error) error
	// Open reads an object. ErrNotFound if it does not exist. Any other error, from Open or from reading
	// the body, is a failure to read (the body was fetched again where that can help), not bad content:
	// a body that reads to io.EOF is the whole object.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Stat describes an object. ErrNotFound if it does not exist.
	Stat(ctx context.Context, key string) (ObjectInfo, error)
	// Put writes an object whole, replacing any previous one. Readers see the old or the new object, never a part.
	Put(ctx context.Context, key string, body io.Reader, size int64) error
	// Create writes an object only if none exists under key; ErrExists otherwise. Atomic.
	// A write whose answer was lost (S3: a 5xx, a reset, a 412 answering a retry of a write that landed)
	// is resolved by reading the object back: if it holds exactly body, Create succeeds. So callers that
	// must tell writers apart put something unique to the writer in body.
	Create(ctx context.Context, key string, body []byte) error
	// ReplaceIf overwrites an object only if its ETag is still etag; ErrExists otherwise. Lost answers are
	// resolved as in Create.
	ReplaceIf(ctx context.Context, key string, body []byte, etag string) error
	// Delete removes an object; deleting a missing object is not an error.
	Delete(ctx context.Context, key string) error
}

// StoreOptions configures OpenStore.
type StoreOptions struct {
	// S3Endpoint is an S3-compatible endpoint (e.g. http://127.0.0.1:9000); path-style addressing is used.
	// Empty means AWS_ENDPOINT_URL_S3 if set, else AWS itself.
	S3Endpoint string
	// S3Region overrides the region for the S3 client (default: from the environment, else us-east-1).
	S3Region string
	// S3MaxBackoff caps the pause between retries of one S3 request (default: the SDK's, 20 s; the first
	// retries wait about a second). Tests that inject many faults set it low.
	S3MaxBackoff time.Duration
}

// OpenStore opens "s3://bucket/prefix" or a local directory path (created by the first write).
func OpenStore(ctx context.Context, url string, opts StoreOptions) (Store, error) {
	if url == "" {
		return nil, errors.New("no location given: pass a local directory or s3://bucket/prefix")
	}
	if strings.HasPrefix(url, "s3://") {
		return openS3(ctx, url, opts)
	}
	if strings.Contains(url, "://") {
		return nil, fmt.Errorf("unsupported location %q: use a local directory or s3://bucket/prefix", url)
	}
	return openLocal(url)
}

// ReadAll reads a whole object.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, err := s.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}

// PutBytes writes a whole object from memory.
func PutBytes(ctx context.Context, s Store, key string, b []byte) error {
	return s.Put(ctx, key, strings.NewReader(string(b)), int64(len(b)))
}

// PutFile uploads a local file as key.
func PutFile(ctx context.Context, s Store, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	return s.Put(ctx, key, f, st.Size())
}
