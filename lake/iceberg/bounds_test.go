package iceberg_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	ice "github.com/apache/iceberg-go"
	iceio "github.com/apache/iceberg-go/io"
	icetable "github.com/apache/iceberg-go/table"
	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/iceberg"
)

// Each data file carries event_time bounds, so an engine skips files outside a query's hours within a
// day partition, and the filtered scan still returns every row of those hours (a bound that is too
// narrow would drop rows silently).
func TestEventTimeBoundsPruneFilesAndKeepRows(t *testing.T) {
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true, Catalog: iceberg.Catalog{}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Three runs, each a file per day: hours 0-7, 8-15 and 16-23 of 2022-11-10 and -11.
	for run := range 3 {
		var recs []string
		for h := run * 8; h < run*8+8; h++ {
			for day := 10; day <= 11; day++ {
				recs = append(recs, fmt.Sprintf(`{"eventVersion":"1.08","eventID":"r%d-%d-%d","eventTime":"2022-11-%dT%02d:01:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"%s"}`,
					run, day, h, day, h, acct))
			}
		}
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/2022/11/10/%s_CloudTrail_us-east-1_20221110T%02d00Z_b%d.json.gz", acct, acct, run, run)
		if err := lake.PutBytes(ctx, raw, key, gz(t, `{"Records":[`+strings.Join(recs, ",")+`]}`)); err != nil {
			t.Fatal(err)
		}
		if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: lk, MergeMinFiles: 100}); err != nil {
			t.Fatal(err)
		}
		if err := lk.CatalogErr(); err != nil {
			t.Fatal(err)
		}
	}
	ptr, _, err := iceberg.ReadPointer(ctx, lk)
	if err != nil || ptr == nil {
		t.Fatalf("no Iceberg pointer: %v", err)
	}
	loc := lk.ObjectURL(ptr.Tables[lake.TableCloudTrail])
	tbl, err := icetable.NewFromLocation(ctx, []string{lake.TableCloudTrail}, loc, iceio.LoadFSFunc(nil, loc), nil)
	if err != nil {
		t.Fatal(err)
	}
	all, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ := lk.FileSnapshot(ctx)
	for _, c := range []struct {
		name     string
		from, to time.Time
	}{
		{"10:00-19:00 of the first day", time.Date(2022, 11, 10, 10, 0, 0, 0, time.UTC), time.Date(2022, 11, 10, 19, 0, 0, 0, time.UTC)},
		{"the exact second of one event", time.Date(2022, 11, 11, 9, 1, 0, 0, time.UTC), time.Date(2022, 11, 11, 9, 1, 1, 0, time.UTC)},
		{"both days", time.Date(2022, 11, 10, 0, 0, 0, 0, time.UTC), time.Date(2022, 11, 12, 0, 0, 0, 0, time.UTC)},
	} {
		ts := func(t time.Time) ice.Timestamp { return ice.Timestamp(t.UnixMicro()) }
		filter := ice.NewAnd(ice.GreaterThanEqual(ice.Reference("event_time"), ts(c.from)), ice.LessThan(ice.Reference("event_time"), ts(c.to)))
		scan := tbl.Scan(icetable.WithRowFilter(filter))
		tasks, err := scan.PlanFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		at, err := scan.ToArrowTable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		got := at.NumRows()
		at.Release()
		var want int64
		for _, f := range snap.FilesFor(lake.TableCloudTrail, time.Time{}, time.Time{}) {
			b, _ := lake.ReadAll(ctx, lk.Store(), f.Key)
			rows, err := readCloudTrail(b)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				if !r.EventTime.Before(c.from) && r.EventTime.Before(c.to) {
					want++
				}
			}
		}
		if got != want || want == 0 {
			t.Errorf("%s: the filtered Iceberg scan returned %d rows, the lake holds %d", c.name, got, want)
		}
		// Files of the days the range touches: what day() partition pruning alone leaves.
		sameDays := 0
		for _, f := range snap.FilesFor(lake.TableCloudTrail, time.Time{}, time.Time{}) {
			if d, _ := time.Parse(time.DateOnly, f.Day); d.Before(c.to) && !d.AddDate(0, 0, 1).Before(c.from) {
				sameDays++
			}
		}
		if c.name != "both days" && len(tasks) >= sameDays {
			t.Errorf("%s: the scan plans %d of the %d files of its days (%d in all): the event_time bounds pruned nothing", c.name, len(tasks), sameDays, len(all))
		}
	}
}

func readCloudTrail(b []byte) ([]lake.CloudTrailEvent, error) {
	return parquet.Read[lake.CloudTrailEvent](bytes.NewReader(b), int64(len(b)))
}

func gz(t *testing.T, s string) []byte {
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return z.Bytes()
}
