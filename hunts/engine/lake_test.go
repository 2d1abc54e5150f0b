package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/parquet-go/parquet-go"
)

// commitEvents writes CloudTrail rows into the lake, one Parquet file per (account, region, day) as the
// compactor lays them out, and commits them. Each call adds new files (late data arrives this way).
func commitEvents(t testing.TB, lk *lake.Lake, events []lake.CloudTrailEvent) {
	t.Helper()
	commitRows(t, lk, lake.TableCloudTrail, events, func(e lake.CloudTrailEvent) (string, string, time.Time) {
		return e.AccountID, e.Region, e.EventTime
	})
}

// commitRows is commitEvents for any table; at gives a row's account, region and event time.
func commitRows[T any](t testing.TB, lk *lake.Lake, table string, rows []T, at func(T) (acct, region string, when time.Time)) {
	t.Helper()
	ctx := context.Background()
	type part struct{ acct, region, day string }
	parts := map[part][]T{}
	for _, r := range rows {
		a, rg, when := at(r)
		p := part{a, rg, when.UTC().Format(time.DateOnly)}
		parts[p] = append(parts[p], r)
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	timeOf := func(r T) time.Time { _, _, when := at(r); return when }
	var add []lake.FileEntry
	for p, rows := range parts {
		sort.Slice(rows, func(i, j int) bool { return timeOf(rows[i]).Before(timeOf(rows[j])) })
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[T](&buf, parquet.Compression(&parquet.Zstd))
		if _, err := w.Write(rows); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		key := fmt.Sprintf("%s/part-v%d-%s.parquet", lake.PartitionPath(table, p.acct, p.region, p.day), snap.Version+1, hex.EncodeToString(sum[:4]))
		if err := lake.PutBytes(ctx, lk.Store(), key, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		add = append(add, lake.FileEntry{Table: table, Key: key, AccountID: p.acct, Region: p.region, Day: p.day,
			Rows: int64(len(rows)), Size: int64(buf.Len()), MinTime: timeOf(rows[0]), MaxTime: timeOf(rows[len(rows)-1]),
			SHA256: hex.EncodeToString(sum[:])})
	}
	if _, err := lk.Commit(ctx, snap, lake.Commit{Operation: "test", Add: add}); err != nil {
		t.Fatal(err)
	}
}

func newLake(t testing.TB) *lake.Lake {
	t.Helper()
	lk, err := lake.Open(context.Background(), t.TempDir(), lake.Options{CacheDir: t.TempDir(), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

var eventSeq int

// ev is a successful API call by an IAM user.
func ev(user, at, source, name, region, agent string) lake.CloudTrailEvent {
	eventSeq++
	ts, err := time.Parse(time.RFC3339, at)
	if err != nil {
		panic(err)
	}
	ro := name[:3] == "Get" || name[:3] == "Lis" || name[:3] == "Des"
	arn := "arn:aws:iam::111122223333:user/" + user
	return lake.CloudTrailEvent{
		EventTime: ts, AccountID: "111122223333", Region: region, EventID: fmt.Sprintf("ev-%06d", eventSeq),
		EventName: name, EventSource: source, EventType: new("AwsApiCall"), ReadOnly: &ro,
		SourceIPAddress: new("203.0.113.10"), UserAgent: new(agent), UserIdentityType: new("IAMUser"), UserIdentityARN: new(arn),
		PrincipalARN: new(arn), RecipientAccountID: new("111122223333"),
		Lineage: lake.Lineage{SourceKey: "AWSLogs/111122223333/CloudTrail/" + region + "/x.json.gz", SourceLine: int64(eventSeq), IngestedAt: ts},
	}
}

func libraryHunt(t testing.TB, id string) *huntfile.Hunt {
	t.Helper()
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: library.FS, Name: "hunts/library"})
	if err != nil || len(diags) > 0 {
		t.Fatalf("load library: %v %v", err, diags)
	}
	for _, h := range hs {
		if h.ID == id {
			return h
		}
	}
	t.Fatalf("no library hunt %s", id)
	return nil
}
