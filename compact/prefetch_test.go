package compact

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// slowStore answers every Open after a delay, as a cold disk or S3 does, and records how many Opens
// were waiting at once.
type slowStore struct {
	lake.Store
	delay            time.Duration
	waiting, maxWait atomic.Int64
}

func (s *slowStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	n := s.waiting.Add(1)
	defer s.waiting.Add(-1)
	for m := s.maxWait.Load(); n > m && !s.maxWait.CompareAndSwap(m, n); m = s.maxWait.Load() {
	}
	time.Sleep(s.delay)
	return s.Store.Open(ctx, key)
}

// TestReadsAheadOfParsing: small objects are read ahead of the parse workers, many at once, so that
// waiting for storage (a cold page cache, S3) overlaps parsing instead of leaving the cores idle; and
// no more at once than the read-ahead bound.
func TestReadsAheadOfParsing(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	local, err := lake.OpenStore(ctx, dir, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	const objects, perObject = 80, 3
	for i := range objects {
		putObjects(t, local, map[string][]byte{
			fmt.Sprintf("%s%s_CloudTrail_us-east-1_20221110T1625Z_%03d.json.gz", ctDir, acct, i): ctObject(t, fmt.Sprintf("o%d", i), perObject),
		})
	}
	raw := &slowStore{Store: local, delay: 100 * time.Millisecond}
	lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, Options{From: raw, Lake: lk, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sum.ObjectsRead != objects || sum.RecordsWritten != objects*perObject {
		t.Fatalf("read %d objects, wrote %d rows; want %d and %d", sum.ObjectsRead, sum.RecordsWritten, objects, objects*perObject)
	}
	// One parse worker: reading only when parsing (as before) never has more than one read waiting.
	if got := raw.maxWait.Load(); got < 8 || got > prefetchAhead+2 {
		t.Errorf("at most %d reads waited at once with one parse worker; want at least 8 (read ahead) and at most %d", got, prefetchAhead+2)
	}
}
