package scheduler

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	_ "github.com/duckdb/duckdb-go/v2" // registers the "duckdb" driver

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// readsIntel reports whether h reads ti_indicators. New or changed intel re-opens such a hunt's recorded
// windows (as far back as its window or the late lookback, whichever is longer): "with today's intel,
// what happened in the past" is the question a retro-hunt answers, also when it runs unattended.
func readsIntel(h *huntfile.Hunt) bool { return slices.Contains(h.Tables, lake.TableTIIndicators) }

// intelMark is the newest imported_at of the live intel: any import that adds, re-lists or closes an
// indicator moves it.
func intelMark(snap *lake.Snapshot) time.Time {
	var mark time.Time
	for _, f := range snap.FilesFor(lake.TableTIIndicators, time.Time{}, time.Time{}) {
		if f.MaxIngested.After(mark) {
			mark = f.MaxIngested
		}
	}
	return mark
}

// intelRowsSince counts the indicator rows of intel files imported after t.
func intelRowsSince(snap *lake.Snapshot, t time.Time) int64 {
	var n int64
	for _, f := range snap.FilesFor(lake.TableTIIndicators, time.Time{}, time.Time{}) {
		if f.MaxIngested.After(t) {
			n += f.Rows
		}
	}
	return n
}

// lookback is how far back h's recorded windows are kept and re-opened.
func lookback(h *huntfile.Hunt, late time.Duration) time.Duration {
	if readsIntel(h) && h.Window.D() > late {
		return h.Window.D()
	}
	return late
}

// eventTables are the tables of h that have event time; only their rows can arrive late for a window.
// (ti_indicators has no event time: intel changes are tracked by readsIntel and intelMark.)
func eventTables(h *huntfile.Hunt) []string {
	var out []string
	for _, name := range h.Tables {
		if t, err := lake.LookupTable(name); err == nil && t.HasColumn("event_time") && t.HasColumn("ingested_at") {
			out = append(out, name)
		}
	}
	return out
}

// watermarks records, per event table of h, the newest ingested_at of the files a run of w reads in snap.
// Every row of w that the run can see was ingested at or before it; a row of w ingested after it is late.
func watermarks(snap *lake.Snapshot, h *huntfile.Hunt, w Window) map[string]time.Time {
	out := map[string]time.Time{}
	for _, t := range eventTables(h) {
		var max time.Time
		for _, f := range snap.FilesFor(t, w.Start, w.End) {
			if f.MaxIngested.After(max) {
				max = f.MaxIngested
			}
		}
		out[t] = max
	}
	if readsIntel(h) {
		out[lake.TableTIIndicators] = intelMark(snap)
	}
	return out
}

// lateWindow is a window that already ran and now has late rows.
type lateWindow struct {
	Window
	Rows int64
}

// lateWindows finds the recorded windows of a hunt for which the lake now holds rows with event time in
// the window that were ingested after the window's run (selected by ingest time as well as event time).
// Files are the first filter (their event-time range overlaps, their newest ingested_at is newer than
// the window's watermark); the rows then decide, so a merged file or a file that only touches the window
// at its edge does not re-run it. Oldest first.
func (t *ticker) lateWindows(ctx context.Context, snap *lake.Snapshot, h *huntfile.Hunt, led *Ledger) ([]lateWindow, error) {
	type probe struct {
		i     int // index into led.Windows
		table string
		wm    time.Time
	}
	var probes []probe
	files := map[string]map[string]lake.FileEntry{} // table → key → file
	for i, rec := range led.Windows {
		for _, table := range eventTables(h) {
			wm := rec.Ingested[table]
			for _, f := range snap.FilesFor(table, rec.Start, rec.End) {
				if !f.MaxIngested.After(wm) {
					continue
				}
				if files[table] == nil {
					files[table] = map[string]lake.FileEntry{}
				}
				files[table][f.Key] = f
				if len(probes) == 0 || probes[len(probes)-1].i != i || probes[len(probes)-1].table != table {
					probes = append(probes, probe{i, table, wm})
				}
			}
		}
	}
	rows := map[int]int64{}
	if readsIntel(h) {
		mark := intelMark(snap)
		for i, rec := range led.Windows {
			if wm := rec.Ingested[lake.TableTIIndicators]; mark.After(wm) {
				rows[i] += intelRowsSince(snap, wm)
			}
		}
	}
	for table, byKey := range files {
		entries := make([]lake.FileEntry, 0, len(byKey))
		for _, f := range byKey {
			entries = append(entries, f)
		}
		sort.Slice(entries, func(i, j int) bool { return entries[i].Key < entries[j].Key })
		paths, err := t.opts.Lake.LocalPaths(ctx, entries)
		if err != nil {
			return nil, fmt.Errorf("late data check for hunt %s: %w", h.ID, err)
		}
		var values []string
		for _, p := range probes {
			if p.table == table {
				rec := led.Windows[p.i]
				values = append(values, fmt.Sprintf("(%d, %s, %s, %s)", p.i, tsLiteral(rec.Start), tsLiteral(rec.End), tsLiteral(p.wm)))
			}
		}
		q := fmt.Sprintf(`SELECT w.i, count(*) FROM read_parquet([%s], union_by_name = true, hive_partitioning = false) r
JOIN (VALUES %s) w(i, s, e, wm) ON r.event_time >= w.s AND r.event_time < w.e AND r.ingested_at > w.wm
GROUP BY w.i`, quoteList(paths), strings.Join(values, ", "))
		if err := t.query(ctx, q, func(i int, n int64) { rows[i] += n }); err != nil {
			return nil, fmt.Errorf("late data check for hunt %s over %s: %w", h.ID, table, err)
		}
	}
	var out []lateWindow
	for i, rec := range led.Windows {
		if n := rows[i]; n > 0 {
			out = append(out, lateWindow{Window: Window{Start: rec.Start, End: rec.End}, Rows: n})
		}
	}
	return out, nil
}

func (t *ticker) query(ctx context.Context, q string, row func(i int, n int64)) error {
	if t.db == nil {
		db, err := sql.Open("duckdb", "")
		if err != nil {
			return fmt.Errorf("open DuckDB: %w", err)
		}
		db.SetMaxOpenConns(1)
		if _, err := db.ExecContext(ctx, "SET TimeZone = 'UTC'"); err != nil {
			db.Close()
			return err
		}
		t.db = db
	}
	rs, err := t.db.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rs.Close()
	for rs.Next() {
		var i int
		var n int64
		if err := rs.Scan(&i, &n); err != nil {
			return err
		}
		row(i, n)
	}
	return rs.Err()
}

// tsLiteral is a DuckDB TIMESTAMP literal; lake times are UTC TIMESTAMPs without zone.
func tsLiteral(t time.Time) string {
	return "TIMESTAMP '" + t.UTC().Format("2006-01-02 15:04:05.999999") + "'"
}

func quoteList(paths []string) string {
	q := make([]string, len(paths))
	for i, p := range paths {
		q[i] = "'" + strings.ReplaceAll(p, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}
