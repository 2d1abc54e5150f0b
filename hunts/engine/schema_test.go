package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/parquet-go/parquet-go"
)

// olderCloudTrail is a CloudTrail file as an older lakehunt wrote it: without columns added since.
type olderCloudTrail struct {
	EventTime   time.Time `parquet:"event_time,timestamp(microsecond:local)"`
	AccountID   string    `parquet:"account_id"`
	Region      string    `parquet:"region"`
	EventID     string    `parquet:"event_id"`
	EventName   string    `parquet:"event_name"`
	EventSource string    `parquet:"event_source"`
}

func writeParquet[T any](t *testing.T, path string, rows []T) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := parquet.NewGenericWriter[T](f)
	if _, err := w.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// Files of one schema are read without union_by_name (it costs a schema read per file and statement);
// files of several still are, and a column an older file lacks reads as NULL.
func TestViewsReadFilesOfSeveralSchemas(t *testing.T) {
	dir := t.TempDir()
	now := mustTime("2024-09-01T10:00:00Z")
	cur := ev("alice", "2024-09-01T10:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2")
	a, b, old := filepath.Join(dir, "a.parquet"), filepath.Join(dir, "b.parquet"), filepath.Join(dir, "old.parquet")
	writeParquet(t, a, []lake.CloudTrailEvent{cur})
	writeParquet(t, b, []lake.CloudTrailEvent{cur, cur})
	writeParquet(t, old, []olderCloudTrail{{EventTime: now, AccountID: "111122223333", Region: "us-east-1", EventID: "old-1", EventName: "GetObject", EventSource: "s3.amazonaws.com"}})
	ctx := context.Background()
	cases := []struct {
		name        string
		files       []string
		union       bool
		rows, users int64
	}{
		{"one schema", []string{a, b}, false, 3, 3},
		{"an older file last", []string{a, b, old}, true, 4, 3},
		{"an older file first", []string{old, a}, true, 2, 1},
		{"a file that is not Parquet", []string{a, filepath.Join(dir, "missing.parquet")}, true, -1, -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := &Session{}
			if got := !s.sameSchema(c.files); got != c.union {
				t.Fatalf("union_by_name = %v, want %v", got, c.union)
			}
			if c.rows < 0 {
				return
			}
			sess, err := NewSession(ctx, map[string][]string{lake.TableCloudTrail: c.files}, Limits{})
			if err != nil {
				t.Fatal(err)
			}
			defer sess.Close()
			res, err := sess.Query(ctx, "SELECT count(*), count(user_identity_arn) FROM cloudtrail", Window{})
			if err != nil {
				t.Fatal(err)
			}
			if r := res.Rows[0]; r[0] != c.rows || r[1] != c.users {
				t.Errorf("rows, with a user = %v, want %d, %d", r, c.rows, c.users)
			}
		})
	}
}
