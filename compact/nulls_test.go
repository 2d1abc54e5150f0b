package compact

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/rowtest"
)

// Every nullable column keeps NULL and "" (or 0, false) apart in the files the compactor writes, and in
// the files a merge rewrites from them, as any Parquet reader sees them: DuckDB's read_parquet, no view.
// The rows lay NULLs out in the 64-row blocks in which parquet-go v0.32 wrote NULL as "" for optional
// value fields (62 rows at a time).
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
	t.Run(lake.TableCloudTrail, func(t *testing.T) {
		roundTrip(t, w, db, w.tables[lake.TableCloudTrail].(*tableBuf[lake.CloudTrailEvent]))
	})
	t.Run(lake.TableVPCFlow, func(t *testing.T) { roundTrip(t, w, db, w.tables[lake.TableVPCFlow].(*tableBuf[lake.VPCFlowRecord])) })
	t.Run(lake.TableRoute53Resolver, func(t *testing.T) {
		roundTrip(t, w, db, w.tables[lake.TableRoute53Resolver].(*tableBuf[lake.Route53ResolverQuery]))
	})
}

func roundTrip[T any](t *testing.T, w *writer, db *sql.DB, b *tableBuf[T]) {
	rows := rowtest.Rows[T](300)
	ptrs := make([]*T, len(rows))
	for i := range rows {
		ptrs[i] = &rows[i]
	}
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
	rowtest.Check(t, db, path(whole), "source_line", rows)

	var parts []lake.FileEntry
	for _, rs := range [][]*T{ptrs[:100], ptrs[100:230], ptrs[230:]} {
		fe, err := b.write(w, k, rs)
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, fe)
	}
	if err := w.commit(lake.Commit{Operation: "compact", Add: parts}); err != nil {
		t.Fatal(err)
	}
	if err := b.mergeGroup(w, parts); err != nil {
		t.Fatal(err)
	}
	live := w.snap.FilesFor(b.name, time.Time{}, time.Time{})
	if len(live) != 1 || live[0].Rows != int64(len(rows)) {
		t.Fatalf("after the merge: %+v", live)
	}
	rowtest.Check(t, db, path(live[0]), "source_line", rows)
}
