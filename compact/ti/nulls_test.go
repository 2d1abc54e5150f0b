package ti

import (
	"bytes"
	"context"
	"slices"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/rowtest"
)

// Every nullable column of ti_indicators keeps NULL and values (0 included) apart in the feed files, and
// holds NULL where a row had an empty string, as DuckDB's read_parquet sees them (no view), with NULLs in
// the 64-row layouts in which parquet-go v0.32 wrote NULL as "" for optional value fields. Reading a feed
// file written before that (it holds "" and 0 for some NULLs) back for the next import turns them into
// NULL: a feed has no empty values.
func TestNullableColumnsRoundTrip(t *testing.T) {
	ctx := context.Background()
	lk := openLake(t, t.TempDir())
	rows := rowtest.Rows[lake.TIIndicator](300)
	want := rowtest.EmptyStringsNull(rows)
	fe, err := writeFile(ctx, lk, "nulls", slices.Clone(rows), day(1))
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, []lake.FileEntry{fe})
	if err != nil {
		t.Fatal(err)
	}
	rowtest.Check(t, duck(t), paths[0], "valid_from", want)

	var old bytes.Buffer
	if err := parquet.Write(&old, rows); err != nil {
		t.Fatal(err)
	}
	oldFile := lake.FileEntry{Table: lake.TableTIIndicators, Key: FeedPrefix("nulls") + "part-old.parquet", Size: int64(old.Len())}
	if err := lake.PutBytes(ctx, lk.Store(), oldFile.Key, old.Bytes()); err != nil {
		t.Fatal(err)
	}
	back, err := readRows(ctx, lk, []lake.FileEntry{oldFile})
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(rows) {
		t.Fatalf("read %d rows back, wrote %d", len(back), len(rows))
	}
	for i := range rows {
		got := rowtest.Cells(back[i])
		for c, v := range rowtest.Cells(want[i]) {
			if c == "source_line" && v == `int64 "0"` {
				v = "NULL"
			}
			if got[c] != v {
				t.Errorf("row %d column %s read back as %s, want %s", i, c, got[c], v)
			}
		}
	}
}
