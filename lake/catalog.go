package lake

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

// Catalog mirrors the lake's commits into another table format (lake/iceberg). The commit log stays the
// source of truth: a catalog is written after each commit and must be able to catch up on commits it
// missed (a crash between the commit and its catalog write leaves it behind, never wrong).
type Catalog interface {
	// Committed runs after commit c is in the log.
	Committed(ctx context.Context, l *Lake, c *Commit) error
	// CatchUp brings the catalog to at least commit version. Commit calls it before writing on top of a
	// version the catalog may lack (a writer killed after its commit), so that a kill never leaves the
	// catalog more than one commit behind.
	CatchUp(ctx context.Context, l *Lake, version int64) error
	// Expire runs at the start of Vacuum: it drops catalog history no reader can need any more (what
	// stopped being current before cutoff) and returns the data file keys the history it keeps still
	// references, which Vacuum must not delete.
	Expire(ctx context.Context, l *Lake, cutoff time.Time) (map[string]bool, error)
}

// CatalogError is a commit that succeeded while its catalog write did not. Commit returns the new
// snapshot together with it: the lake changed, only the mirror is behind.
type CatalogError struct {
	Version int64
	Err     error
}

func (e *CatalogError) Error() string {
	return fmt.Sprintf("lake commit %d succeeded but its Iceberg metadata was not written (%v); the next commit catches up, or run 'lakehunt catalog rebuild'", e.Version, e.Err)
}

func (e *CatalogError) Unwrap() error { return e.Err }

// ObjectURL is the absolute location of a lake object for other engines: file:///abs/path for a local
// lake, s3://bucket/prefix/key for an S3 one.
func (l *Lake) ObjectURL(key string) string {
	switch s := l.store.(type) {
	case *localStore:
		return "file://" + filepath.ToSlash(s.Path(key))
	case *s3Store:
		return "s3://" + s.bucket + "/" + s.full(key)
	}
	return l.store.URL() + "/" + key
}

// ReadCommit reads commit v from the log.
func (l *Lake) ReadCommit(ctx context.Context, v int64) (*Commit, error) {
	b, err := ReadAll(ctx, l.store, logKey(v))
	if err != nil {
		return nil, fmt.Errorf("read commit %d: %w", v, err)
	}
	var c Commit
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("commit %s is not valid JSON (%v); the lake is damaged", logKey(v), err)
	}
	return &c, nil
}

// CatalogErr is the last failed catalog write of a commit through this handle (a *CatalogError), or nil.
func (l *Lake) CatalogErr() error { return l.catalogErr }
