package compact

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// A partition left with many small files (by runs that did not merge, or one killed while merging) is
// merged by the next run even if that run writes nothing to it, and every event stays exactly once.
func TestSmallFilesOfPartitionsARunDoesNotWriteAreMerged(t *testing.T) {
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	object := func(day string, n int) {
		var recs []json.RawMessage
		for i := 0; i < 10; i++ {
			recs = append(recs, json.RawMessage(fmt.Sprintf(`{"eventVersion":"1.08","eventID":"%s-%d-%d","eventTime":"%sT%02d:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"%s"}`, day, n, i, day, i, n, acct)))
		}
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%sT%02d00Z_n%d.json.gz", acct, day[:4]+"/"+day[5:7]+"/"+day[8:], acct, day[:4]+day[5:7]+day[8:], n, n)
		if err := lake.PutBytes(ctx, raw, key, gz(t, recordsFile(recs))); err != nil {
			t.Fatal(err)
		}
	}
	partFiles := func(day string) int {
		snap, err := lk.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, f := range snap.FilesFor(lake.TableCloudTrail, time.Time{}, time.Time{}) {
			if f.Day == day {
				n++
			}
		}
		return n
	}
	// Twenty runs that never merge leave twenty small files in the 2022-11-10 partition.
	for n := 0; n < 20; n++ {
		object("2022-11-10", n)
		if _, err := Run(ctx, Options{From: raw, Lake: lk, MergeMinFiles: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	if got := partFiles("2022-11-10"); got != 20 {
		t.Fatalf("%d files in the partition before, want 20", got)
	}
	// The next run has input for another day only.
	object("2022-11-11", 0)
	sum, err := Run(ctx, Options{From: raw, Lake: lk})
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordsWritten != 10 || sum.PartitionsWritten != 1 {
		t.Fatalf("the run wrote %d records to %d partitions, want 10 to 1", sum.RecordsWritten, sum.PartitionsWritten)
	}
	if got := partFiles("2022-11-10"); got != 1 || sum.FilesMerged != 20 {
		t.Errorf("the untouched partition has %d files after the run (%d merged), want 1 (20 merged)", got, sum.FilesMerged)
	}
	got := readLake(t, lk)
	if len(got.eventIDs) != 210 {
		t.Errorf("%d distinct events, want 210", len(got.eventIDs))
	}
	for id, n := range got.eventIDs {
		if n != 1 {
			t.Errorf("event %s present %d times", id, n)
		}
	}
	// Merged partitions stay merged: a run with nothing new rewrites nothing.
	sum, err = Run(ctx, Options{From: raw, Lake: lk})
	if err != nil || sum.FilesMerged != 0 || sum.Commits != 0 {
		t.Errorf("a run with no new input merged %d files in %d commits (%v), want none", sum.FilesMerged, sum.Commits, err)
	}
}
