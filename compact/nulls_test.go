package compact

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/rowtest"
)

// Every nullable column of every registered source's table keeps NULL and values (0, false included)
// apart, and holds NULL where the row had an empty string, in the files the compactor writes and in the
// files a merge rewrites, as any Parquet reader sees them: DuckDB's read_parquet, no view. The merge inputs
// are written as lakehunt wrote them before it stored empty strings as NULL (they hold empty strings): a
// merge rewrites those as NULL. The rows lay NULLs out in the 64-row blocks in which parquet-go v0.32
// wrote NULL as "" for optional value fields (62 rows at a time).
func TestNullableColumnsRoundTripThroughWriteAndMerge(t *testing.T) {
	ctx := context.Background()
	lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Lake: lk}
	opts.defaults()
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(ctx, &opts, snap, &Summary{PerTable: map[string]int64{}})
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, d := range registry {
		t.Run(d.Table(), func(t *testing.T) { d.(roundTripper).roundTrip(t, w, db) })
	}
}

type roundTripper interface {
	roundTrip(t *testing.T, w *writer, db *sql.DB)
}

func (x *descriptor[T]) roundTrip(t *testing.T, w *writer, db *sql.DB) {
	roundTrip[T](t, w, db, x.d.Table)
}

func roundTrip[T any](t *testing.T, w *writer, db *sql.DB, table string) {
	b := w.tables[table].(*tableBuf[T])
	rows := rowtest.Rows[T](300)
	ptrs := make([]*T, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
	want := rowtest.EmptyStringsNull(rows)
	k := partKey{"111122223333", "us-east-1", b.at(ptrs[0]).Format(time.DateOnly)}
	path := func(fe lake.FileEntry) string {
		p, err := w.opts.Lake.LocalPaths(w.ctx, []lake.FileEntry{fe})
		if err != nil {
			t.Fatal(err)
		}
		return p[0]
	}

	whole, err := b.write(w, k, ptrs)
	if err != nil {
		t.Fatal(err)
	}
	rowtest.Check(t, db, path(whole), "source_line", want)

	var old []lake.FileEntry
	for i, rs := range [][]T{rows[:100], rows[100:230], rows[230:]} {
		fe := writeUnnulled(t, w, b, k, i, rs)
		rowtest.Check(t, db, path(fe), "source_line", rs)
		old = append(old, fe)
	}
	if err := w.commit(lake.Commit{Operation: "compact", Add: old}); err != nil {
		t.Fatal(err)
	}
	if err := b.mergeGroup(w, old); err != nil {
		t.Fatal(err)
	}
	live := w.snap.FilesFor(b.name, time.Time{}, time.Time{})
	if len(live) != 1 || live[0].Rows != int64(len(rows)) {
		t.Fatalf("after the merge: %+v", live)
	}
	rowtest.Check(t, db, path(live[0]), "source_line", want)
}

// writeUnnulled stores rows (in event-time order) as one lake file the way lakehunt wrote them before it
// stored empty strings as NULL: a *string pointing to "" is an empty string in the file.
func writeUnnulled[T any](t *testing.T, w *writer, b *tableBuf[T], k partKey, n int, rows []T) lake.FileEntry {
	t.Helper()
	var buf bytes.Buffer
	pw := parquet.NewGenericWriter[T](&buf)
	if _, err := pw.Write(rows); err != nil {
		t.Fatal(err)
	}
	if err := pw.Close(); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(buf.Bytes())
	fe := lake.FileEntry{Table: b.name, Key: fmt.Sprintf("%s/part-old-%d.parquet", lake.PartitionPath(b.name, k.account, k.region, k.day), n),
		AccountID: k.account, Region: k.region, Day: k.day, Rows: int64(len(rows)), Size: int64(buf.Len()),
		MinTime: b.at(&rows[0]).UTC(), MaxTime: b.at(&rows[len(rows)-1]).UTC(), SHA256: hex.EncodeToString(sum[:])}
	if err := w.opts.Lake.Store().Put(w.ctx, fe.Key, bytes.NewReader(buf.Bytes()), fe.Size); err != nil {
		t.Fatal(err)
	}
	return fe
}

// BenchmarkNullEmptyStrings is what storing empty strings as NULL costs the writer per CloudTrail row
// (generated events), on the 4096-row chunks the writer hands parquet-go. Compare BenchmarkWriteCloudTrail.
func BenchmarkNullEmptyStrings(b *testing.B) {
	rows, err := benchCT()
	if err != nil {
		b.Fatal(err)
	}
	var chunks [][]lake.CloudTrailEvent
	for c := range slices.Chunk(rows, 4096) {
		chunk := make([]lake.CloudTrailEvent, len(c))
		for i, r := range c {
			chunk[i] = *r
		}
		chunks = append(chunks, chunk)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		for _, c := range chunks {
			lake.NullEmptyStrings(c)
		}
	}
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N*len(rows)), "cpu-ns/row")
}
