package engine

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
)

// RunOptions configures Run.
type RunOptions struct {
	Lake  *lake.Lake
	Hunts []*huntfile.Hunt
	// From and To fix the window for every hunt. Zero To means the current hour (Now truncated);
	// zero From means each hunt's own window ending at To.
	From, To time.Time
	Now      func() time.Time
	// CacheDir keeps baseline day summaries between runs ("" = recompute every run).
	CacheDir    string
	Trigger     string
	ToolVersion string
	GitRevision string
	// Log receives one progress line per hunt (nil = quiet).
	Log io.Writer
	// Organization lists the accounts that are ours (org_accounts() in hunt SQL); empty means every
	// account the lake holds logs for. OrganizationID is recorded with it.
	Organization   []string
	OrganizationID string
	// Limits bounds each hunt's DuckDB session: memory, threads and time (zero fields: the defaults).
	Limits Limits
	// AllTables: the run's coverage lists every lake table, those no hunt reads too (marked Unread).
	AllTables bool
}

// HuntWindow is the window a hunt runs over for the run's From/To.
func HuntWindow(h *huntfile.Hunt, from, to time.Time) Window {
	w := Window{Start: from.UTC(), End: to.UTC()}
	if from.IsZero() {
		w.Start = w.End.Add(-h.Window.D())
	}
	w.BaselineStart = w.Start
	if h.Baseline != nil {
		days := int((h.Baseline.Window.D() + 24*time.Hour - 1) / (24 * time.Hour))
		w.BaselineDays = days
		w.BaselineStart = midnight(w.Start).AddDate(0, 0, -days)
	}
	return w
}

func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// Run runs hunts over a lake snapshot. One failing hunt never stops the others: its error is in its
// HuntRun (status "failed") and in Run.FailedCount. The error return is for a run that could not start.
func Run(ctx context.Context, opts RunOptions) (*lake.Run, []lake.Finding, error) {
	if opts.Lake == nil {
		return nil, nil, errors.New("no lake given: pass --lake DIR or s3://bucket/prefix")
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	started := now().UTC()
	to := opts.To
	if to.IsZero() {
		to = started.Truncate(time.Hour)
	}
	if !opts.From.IsZero() && !to.After(opts.From) {
		return nil, nil, fmt.Errorf("empty window: --from %s is not before --to %s", opts.From.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	snap, err := opts.Lake.FileSnapshot(ctx)
	if err != nil {
		return nil, nil, err
	}
	run := &lake.Run{
		ID: newRunID(started), StartedAt: started, Trigger: opts.Trigger, ToolVersion: opts.ToolVersion,
		GitRevision: opts.GitRevision, Lake: opts.Lake.URL(), LakeVersion: snap.Version, Hunts: []lake.HuntRun{},
	}
	run.Organization = &lake.Organization{ID: opts.OrganizationID, Accounts: opts.Organization, Source: "config"}
	if len(opts.Organization) == 0 {
		run.Organization.Accounts, run.Organization.Source = snap.Accounts(), "lake"
		opts.Organization = run.Organization.Accounts
	}
	var findings []lake.Finding
	tables := map[string]bool{}
	for _, h := range opts.Hunts {
		w := HuntWindow(h, opts.From, to)
		if run.WindowStart.IsZero() || w.Start.Before(run.WindowStart) {
			run.WindowStart = w.Start
		}
		if w.End.After(run.WindowEnd) {
			run.WindowEnd = w.End
		}
		for _, t := range h.Tables {
			tables[t] = true
		}
		t0 := time.Now()
		hr, fs, bst, err := runHunt(ctx, opts, snap, h, w, started)
		hr.DurationMillis = time.Since(t0).Milliseconds()
		if err == nil {
			hr.NoData, err = emptyTables(ctx, opts.Lake, snap, h.Tables, w, opts.Limits)
		}
		if err != nil {
			hr.Status, hr.Error = "failed", err.Error()
			run.FailedCount++
		} else {
			findings = append(findings, fs...)
		}
		if opts.Log != nil {
			status := fmt.Sprintf("%d findings", hr.Findings)
			if hr.Findings == 1 {
				status = "1 finding"
			}
			if h.Baseline != nil {
				status += fmt.Sprintf(" (baseline: %d of %d days hold data; %d from the cache, %d summarised)",
					hr.BaselineDaysWithData, hr.BaselineDays, bst.DaysCached, bst.DaysComputed)
			}
			if hr.ColdStart != "" {
				status += "; " + hr.ColdStart
			}
			if len(hr.NoData) > 0 {
				status += ", no data in " + strings.Join(hr.NoData, ", ") + ": checked nothing there"
			}
			if err != nil {
				status = "FAILED: " + safetext.Line(hr.Error) // the error may quote values from the lake
			}
			fmt.Fprintf(opts.Log, "%-32s v%-3d %6dms  %s\n", h.ID, h.Version, hr.DurationMillis, status)
		}
		run.Hunts = append(run.Hunts, hr)
	}
	cov, err := coverage(ctx, opts.Lake, snap, tables, run.WindowStart, run.WindowEnd, opts.Limits, true)
	if err != nil {
		return nil, nil, err
	}
	if opts.AllTables {
		unread := map[string]bool{}
		for _, t := range lake.Tables() {
			if !tables[t.Name] {
				unread[t.Name] = true
			}
		}
		more, err := coverage(ctx, opts.Lake, snap, unread, run.WindowStart, run.WindowEnd, opts.Limits, false)
		if err != nil {
			return nil, nil, err
		}
		for i := range more {
			more[i].Unread = true
		}
		cov = append(cov, more...)
		slices.SortFunc(cov, func(a, b lake.Coverage) int { return strings.Compare(a.Table, b.Table) })
	}
	run.Coverage = cov
	run.FindingCount = len(findings)
	run.FinishedAt = now().UTC()
	return run, findings, nil
}

func newRunID(t time.Time) string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
}

func huntRun(h *huntfile.Hunt, w Window) lake.HuntRun {
	hr := lake.HuntRun{
		ID: h.ID, Version: h.Version, Title: h.Title, Status: "ok", SQLHash: h.SQLHash(), Tables: h.Tables,
		WindowStart: w.Start, WindowEnd: w.End, Severity: h.Severity.Label,
		Tactics: h.Attack.Tactics, Techniques: h.Attack.Techniques, Stratus: h.Attack.Stratus, FalsePositives: h.FalsePositives,
		Triage: h.Triage, References: h.References, Description: strings.TrimSpace(h.Hypothesis + "\n\n" + h.Description),
	}
	if h.Baseline != nil {
		hr.BaselineStart = w.BaselineStart
	}
	return hr
}

func runHunt(ctx context.Context, opts RunOptions, snap *lake.Snapshot, h *huntfile.Hunt, w Window, now time.Time) (hr lake.HuntRun, _ []lake.Finding, bst BaselineStats, err error) {
	hr = huntRun(h, w)
	files := map[string][]string{}
	for _, t := range h.Tables {
		if _, err := lake.LookupTable(t); err != nil {
			return hr, nil, bst, err
		}
		paths, err := opts.Lake.LocalPaths(ctx, snap.FilesFor(t, w.Start, w.End))
		if err != nil {
			return hr, nil, bst, err
		}
		files[t] = paths
	}
	in := dayInput(opts.Lake, snap, h, w.BaselineStart, w.Start)
	if h.Baseline != nil {
		hr.BaselineDays, hr.BaselineDaysWithData = w.BaselineDays, min(in.daysWithData(), w.BaselineDays)
		if cs := h.Baseline.ColdStart; hr.BaselineDaysWithData < cs.MinDays && cs.Action == "skip" {
			hr.Status = "skipped"
			hr.SkipReason = fmt.Sprintf("cold start: %d of %d baseline days hold data, the hunt needs %d", hr.BaselineDaysWithData, hr.BaselineDays, cs.MinDays)
			hr.ColdStart = hr.SkipReason
			return hr, nil, bst, nil
		}
	}
	s, err := NewSession(ctx, files, opts.Limits)
	if err != nil {
		return hr, nil, bst, err
	}
	defer s.Close()
	if err := s.SetOrganization(ctx, opts.Organization); err != nil {
		return hr, nil, bst, err
	}
	for _, dt := range h.DataTables {
		if err := s.LoadData(ctx, dt); err != nil {
			return hr, nil, bst, err
		}
	}
	if bst, err = s.BuildBaselines(ctx, h, in, opts.CacheDir); err != nil {
		return hr, nil, bst, err
	}
	res, err := s.Query(ctx, h.Query, w)
	if err != nil {
		return hr, nil, bst, fmt.Errorf("query: %w", err)
	}
	hr.RowsReturned = int64(len(res.Rows))
	if opts.CacheDir != "" && h.Baseline != nil {
		// The window's whole days are the next runs' baseline: summarising them now, while their files are
		// at hand, lets the next day's run read one new day of history instead of this whole window again.
		// A failure here only costs that later run the time; it summarises the day itself and reports it.
		_ = s.WarmBaselines(ctx, h, dayInput(opts.Lake, snap, h, w.Start, w.End), opts.CacheDir)
	}
	prog, diags := Compile(h, res.Columns, now)
	var errs []string
	for _, d := range diags {
		if !d.Warning {
			errs = append(errs, d.String())
		}
	}
	if len(errs) > 0 {
		return hr, nil, bst, fmt.Errorf("hunt does not fit its result (run `lakehunt hunt lint`): %s", strings.Join(errs, "; "))
	}
	out, err := prog.Findings(res, w, now)
	if err != nil {
		return hr, nil, bst, err
	}
	if h.Baseline != nil && hr.BaselineDaysWithData < h.Baseline.ColdStart.MinDays {
		switch cs := h.Baseline.ColdStart; cs.Action {
		case "cap":
			hr.ColdStart = capSeverity(out.Findings, cs, hr.BaselineDaysWithData, hr.BaselineDays)
		case "run":
			hr.ColdStart = fmt.Sprintf("cold start: %d of %d baseline days hold data (the hunt needs %d); run unchanged", hr.BaselineDaysWithData, hr.BaselineDays, cs.MinDays)
		}
	}
	hr.Findings, hr.Suppressed = len(out.Findings), out.Suppressed
	return hr, out.Findings, bst, nil
}

// capSeverity applies a "cap" cold-start rule: no finding is above cs.Severity while the baseline is
// too short to tell unusual from usual. Each capped finding says so in its description.
func capSeverity(fs []lake.Finding, cs huntfile.ColdStart, have, days int) string {
	rule := fmt.Sprintf("cold start: %d of %d baseline days hold data (the hunt needs %d); severity capped at %s", have, days, cs.MinDays, cs.Severity)
	capped := 0
	for i := range fs {
		if lake.SeverityRank(fs[i].Severity) > lake.SeverityRank(cs.Severity) {
			fs[i].Description = strings.TrimSpace(fs[i].Description + fmt.Sprintf(" [%s; the hunt rated it %s]", rule, fs[i].Severity))
			fs[i].Severity = cs.Severity
			capped++
		}
	}
	return fmt.Sprintf("%s (%d of %d findings lowered)", rule, capped, len(fs))
}

// dayInput lists, per profile table and UTC day from midnight(from) to to, the local files to summarise
// (the day of from starts at from, the day of to ends at to). Nothing is downloaded here: Fetch downloads
// a day only when its summary is not cached.
func dayInput(lk *lake.Lake, snap *lake.Snapshot, h *huntfile.Hunt, from, to time.Time) BaselineInput {
	in := BaselineInput{Tables: map[string][]DaySlice{}}
	if h.Baseline == nil {
		return in
	}
	entries := map[string][]lake.FileEntry{} // table + day → files
	in.Fetch = func(ctx context.Context, table string, day DaySlice) ([]string, error) {
		return lk.LocalPaths(ctx, entries[table+"@"+day.Start.Format(time.RFC3339)])
	}
	for _, p := range h.Baseline.Profiles {
		if _, done := in.Tables[p.Table]; done {
			continue
		}
		var slices []DaySlice
		for d := midnight(from); d.Before(to); d = d.AddDate(0, 0, 1) {
			sliceStart, sliceEnd := d, d.AddDate(0, 0, 1)
			if sliceEnd.After(to) {
				sliceEnd = to // a partial day before the window
			}
			if from.After(d) {
				sliceStart = from
			}
			files := snap.FilesFor(p.Table, sliceStart, sliceEnd)
			entries[p.Table+"@"+sliceStart.Format(time.RFC3339)] = files
			ds := DaySlice{Start: sliceStart, End: sliceEnd}
			for _, e := range files {
				ds.Files = append(ds.Files, LocalFile{SHA256: e.SHA256})
			}
			slices = append(slices, ds)
		}
		in.Tables[p.Table] = slices
	}
	return in
}

// emptyTables returns the tables with no rows in the hunt's window (tables without event time: no rows
// at all). Most answers come from the files' event-time ranges; only a file that spans the whole window
// is queried.
func emptyTables(ctx context.Context, lk *lake.Lake, snap *lake.Snapshot, tables []string, w Window, lim Limits) ([]string, error) {
	var empty []string
	for _, t := range tables {
		table, err := lake.LookupTable(t)
		if err != nil {
			return nil, err
		}
		found, err := hasRows(ctx, lk, snap, table, w, lim)
		if err != nil {
			return nil, fmt.Errorf("check for data in %s: %w", t, err)
		}
		if !found {
			empty = append(empty, t)
		}
	}
	return empty, nil
}

func hasRows(ctx context.Context, lk *lake.Lake, snap *lake.Snapshot, t *lake.Table, w Window, lim Limits) (bool, error) {
	timed := t.HasColumn("event_time")
	var spanning []lake.FileEntry
	for _, f := range snap.FilesFor(t.Name, w.Start, w.End) {
		switch {
		case f.Rows == 0:
		case !timed || !f.MinTime.Before(w.Start) || f.MaxTime.Before(w.End):
			return true, nil // its first or last row is in the window
		default:
			spanning = append(spanning, f)
		}
	}
	if len(spanning) == 0 {
		return false, nil
	}
	paths, err := lk.LocalPaths(ctx, spanning)
	if err != nil {
		return false, err
	}
	s, err := NewSession(ctx, map[string][]string{t.Name: paths}, lim)
	if err != nil {
		return false, err
	}
	defer s.Close()
	var found bool
	q := fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE event_time >= $window_start AND event_time < $window_end)", ident(t.Name))
	if err := s.db.QueryRowContext(ctx, q, w.params()...).Scan(&found); err != nil {
		return false, sqlError(err)
	}
	return found, nil
}

// coverage counts each table's data in the window; with gaps, also its gaps and hourly counts.
func coverage(ctx context.Context, lk *lake.Lake, snap *lake.Snapshot, tables map[string]bool, from, to time.Time, lim Limits, withGaps bool) ([]lake.Coverage, error) {
	var out []lake.Coverage
	for _, t := range slices.Sorted(maps.Keys(tables)) {
		table, err := lake.LookupTable(t)
		if err != nil {
			continue // the hunt that names it has failed already
		}
		entries := snap.FilesFor(t, from, to)
		c := lake.Coverage{Table: t, Accounts: []string{}, Regions: []string{}, Files: len(entries), Newest: snap.Stats(t).Newest}
		accts, regions, parts := map[string]bool{}, map[string]bool{}, map[string]bool{}
		for _, e := range entries {
			accts[e.AccountID], regions[e.Region], parts[e.Partition()] = true, true, true
		}
		c.Accounts, c.Regions, c.Partitions = slices.Sorted(maps.Keys(accts)), slices.Sorted(maps.Keys(regions)), len(parts)
		if !withGaps {
			// Rows only: a file whose events all lie in the window counts its entry's rows; DuckDB counts
			// only the files that straddle the window's edges.
			if c.Rows, err = rowsIn(ctx, lk, table, entries, from, to, lim); err != nil {
				return nil, fmt.Errorf("coverage of %s: %w", t, err)
			}
			out = append(out, c)
			continue
		}
		if len(entries) > 0 {
			// The day before the window too: gaps compares a stream's silence with its own activity then.
			paths, err := lk.LocalPaths(ctx, snap.FilesFor(t, from.Add(-24*time.Hour), to))
			if err != nil {
				return nil, err
			}
			s, err := NewSession(ctx, map[string][]string{t: paths}, lim)
			if err != nil {
				return nil, err
			}
			q := fmt.Sprintf("SELECT count(*) FROM %s", ident(t))
			if table.HasColumn("event_time") {
				q += " WHERE event_time >= $window_start AND event_time < $window_end"
			}
			err = s.db.QueryRowContext(ctx, q, Window{Start: from, End: to}.params()...).Scan(&c.Rows)
			if err == nil && table.HasColumn("event_time") {
				c.Gaps, err = gaps(ctx, s, t, from, to)
			}
			if err == nil && table.HasColumn("event_time") {
				c.Hourly, err = hourly(ctx, s, t, from, to)
			}
			s.Close()
			if err != nil {
				return nil, fmt.Errorf("coverage of %s: %w", t, sqlError(err))
			}
		}
		if table.HasColumn("event_time") {
			c.Gaps = append(c.Gaps, silentStreams(snap, t, from, to)...)
		}
		out = append(out, c)
	}
	return out, nil
}

// rowsIn counts the rows of entries (files of table) whose event time is in [from, to).
func rowsIn(ctx context.Context, lk *lake.Lake, table *lake.Table, entries []lake.FileEntry, from, to time.Time, lim Limits) (int64, error) {
	var n int64
	var straddle []lake.FileEntry
	for _, e := range entries {
		if !table.HasColumn("event_time") || (!e.MinTime.IsZero() && !e.MinTime.Before(from) && e.MaxTime.Before(to)) {
			n += e.Rows
		} else {
			straddle = append(straddle, e)
		}
	}
	if len(straddle) == 0 {
		return n, nil
	}
	paths, err := lk.LocalPaths(ctx, straddle)
	if err != nil {
		return 0, err
	}
	s, err := NewSession(ctx, map[string][]string{table.Name: paths}, lim)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	var m int64
	q := fmt.Sprintf("SELECT count(*) FROM %s WHERE event_time >= $window_start AND event_time < $window_end", ident(table.Name))
	if err := s.db.QueryRowContext(ctx, q, Window{Start: from, End: to}.params()...).Scan(&m); err != nil {
		return 0, sqlError(err)
	}
	return n + m, nil
}

// hourly counts a table's rows per hour of the window, for the report's heatmap.
func hourly(ctx context.Context, s *Session, table string, from, to time.Time) ([]int64, error) {
	first := from.UTC().Truncate(time.Hour)
	n := int((to.Sub(first) + time.Hour - 1) / time.Hour)
	if n <= 0 || n > lake.MaxHourly {
		return nil, nil
	}
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT date_trunc('hour', event_time) AS h, count(*) FROM %s
		WHERE event_time >= $window_start AND event_time < $window_end GROUP BY 1`, ident(table)), Window{Start: from, End: to}.params()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]int64, n)
	for rows.Next() {
		var h time.Time
		var c int64
		if err := rows.Scan(&h, &c); err != nil {
			return nil, err
		}
		if i := int(h.UTC().Sub(first) / time.Hour); i >= 0 && i < n {
			out[i] += c
		}
	}
	return out, rows.Err()
}

// gapMinHours is the shortest stretch of silence reported as a gap in a stream that is normally busy
// (data in at least half of the window's hours).
const gapMinHours = 2

// gaps finds, per account and region, stretches of whole hours without a row in a table that has rows
// in most hours of the window: a stopped trail, a deleted flow log, a broken delivery. An auditor must
// see when a hunt was blind. A stream that is quiet over most of the window but falls silent until its
// end, in hours that had rows the day before, stopped too (a trail stopped at 02:00); a stream that is
// simply quiet at night is not reported.
func gaps(ctx context.Context, s *Session, table string, from, to time.Time) ([]lake.Gap, error) {
	// Agents without aws.* labels give hids rows no account or region (NULL in the views): one stream of its own.
	rows, err := s.db.QueryContext(ctx, fmt.Sprintf(`SELECT coalesce(account_id, ''), coalesce(region, ''), list(DISTINCT date_trunc('hour', event_time))
		FROM %s WHERE event_time >= $window_start - INTERVAL 1 DAY AND event_time < $window_end GROUP BY ALL ORDER BY ALL`, ident(table)),
		Window{Start: from, End: to}.params()...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	first, last := from.UTC().Truncate(time.Hour), to.UTC().Add(-time.Nanosecond).Truncate(time.Hour)
	total := int(last.Sub(first)/time.Hour) + 1
	var out []lake.Gap
	for rows.Next() {
		var acct, region string
		var hours []any
		if err := rows.Scan(&acct, &region, &hours); err != nil {
			return nil, err
		}
		seen, active := map[time.Time]bool{}, map[time.Time]bool{}
		var lastActive time.Time
		for _, h := range hours {
			if t, ok := h.(time.Time); ok {
				t = t.UTC()
				seen[t] = true
				if !t.Before(first) {
					active[t] = true
					if t.After(lastActive) {
						lastActive = t
					}
				}
			}
		}
		if len(active) == 0 {
			continue // silentStreams reports streams with no data in the window
		}
		if len(active)*2 < total {
			silent, expected := 0, 0
			for h := lastActive.Add(time.Hour); !h.After(last); h = h.Add(time.Hour) {
				silent++
				if seen[h.Add(-24*time.Hour)] {
					expected++
				}
			}
			if silent >= gapMinHours && expected >= gapMinHours && expected*2 >= silent {
				out = append(out, lake.Gap{AccountID: acct, Region: region, Start: lastActive.Add(time.Hour), End: to.UTC(),
					Reason: fmt.Sprintf("no %s rows for the last %dh of the window, hours of which %d had rows the day before: stopped logging or broken delivery?",
						table, silent, expected)})
			}
			continue // otherwise a stream that is often quiet: silence says nothing
		}
		var start time.Time
		for h := first; !h.After(last.Add(time.Hour)); h = h.Add(time.Hour) {
			silent := !h.After(last) && !active[h]
			switch {
			case silent && start.IsZero():
				start = h
			case !silent && !start.IsZero():
				if n := int(h.Sub(start) / time.Hour); n >= gapMinHours {
					out = append(out, lake.Gap{AccountID: acct, Region: region, Start: start, End: h,
						Reason: fmt.Sprintf("no %s rows for %dh in a stream with rows in %d of %d hours of the window", table, n, len(active), total)})
				}
				start = time.Time{}
			}
		}
	}
	return out, rows.Err()
}

// silentStreams reports accounts and regions that have data in the table but none in the window.
func silentStreams(snap *lake.Snapshot, table string, from, to time.Time) []lake.Gap {
	in, before := map[[2]string]bool{}, map[[2]string]time.Time{}
	for _, f := range snap.FilesFor(table, time.Time{}, time.Time{}) {
		k := [2]string{f.AccountID, f.Region}
		if f.MaxTime.Before(from) {
			if f.MaxTime.After(before[k]) {
				before[k] = f.MaxTime
			}
		} else if f.MinTime.Before(to) {
			in[k] = true
		}
	}
	var out []lake.Gap
	for _, k := range slices.SortedFunc(maps.Keys(before), func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) }) {
		if !in[k] {
			out = append(out, lake.Gap{AccountID: k[0], Region: k[1], Start: from, End: to,
				Reason: fmt.Sprintf("no %s data in the window; the last data for this account and region is from %s", table, before[k].Format(time.RFC3339))})
		}
	}
	return out
}

// WriteRunDir writes RUNDIR/findings.jsonl (one finding per line, each with its finding group's id)
// and RUNDIR/run.json, each atomically.
func WriteRunDir(dir string, run *lake.Run, findings []lake.Finding) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("run directory: %w", err)
	}
	group.Assign(findings)
	var fb strings.Builder
	enc := json.NewEncoder(&fb)
	enc.SetEscapeHTML(false)
	for _, f := range findings {
		if err := enc.Encode(f); err != nil {
			return fmt.Errorf("finding %s: %w", f.ID, err)
		}
	}
	if err := lake.WriteFileAtomic(filepath.Join(dir, lake.FindingsFile), []byte(fb.String())); err != nil {
		return err
	}
	return lake.WriteRunFile(dir, run)
}

// NoData is a table that had no rows in a window hunts read it over: those hunts checked nothing.
type NoData struct {
	Table      string
	Start, End time.Time // zero for a table without event time (all of its rows are read)
	Newest     time.Time // the table's latest event time in the lake; zero if it has none
	Hunts      []string
}

func (n NoData) String() string {
	const layout = "2006-01-02T15:04Z"
	hunts := "hunt "
	if len(n.Hunts) > 1 {
		hunts = "hunts "
	}
	hunts += strings.Join(n.Hunts, ", ")
	if n.Start.IsZero() {
		return fmt.Sprintf("no %s data in the lake; %s checked nothing", n.Table, hunts)
	}
	newest := "the lake has no " + n.Table + " data at all"
	if !n.Newest.IsZero() {
		newest = "newest: " + n.Newest.UTC().Format(layout)
	}
	return fmt.Sprintf("no %s data in %s..%s (%s); %s checked nothing", n.Table, n.Start.UTC().Format(layout), n.End.UTC().Format(layout), newest, hunts)
}

// NoDataIn lists, per table and window, the hunts of a run that had no data to read (HuntRun.NoData).
func NoDataIn(run *lake.Run) []NoData {
	newest := map[string]time.Time{}
	for _, c := range run.Coverage {
		newest[c.Table] = c.Newest
	}
	var out []NoData
	at := map[string]int{}
	for _, h := range run.Hunts {
		for _, t := range h.NoData {
			n := NoData{Table: t, Start: h.WindowStart, End: h.WindowEnd, Newest: newest[t]}
			if tbl, err := lake.LookupTable(t); err == nil && !tbl.HasColumn("event_time") {
				n.Start, n.End = time.Time{}, time.Time{}
			}
			key := fmt.Sprint(t, n.Start.Unix(), n.End.Unix())
			i, ok := at[key]
			if !ok {
				i, at[key] = len(out), len(out)
				out = append(out, n)
			}
			out[i].Hunts = append(out[i].Hunts, h.ID)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].Start.Before(out[j].Start)
	})
	return out
}
