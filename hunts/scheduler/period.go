package scheduler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// Period reads the stored runs whose windows overlap [from, to) and combines them into one run and its
// findings, for a report over the period. open opens a run store by URL (the lake's own store is reused).
func Period(ctx context.Context, lk *lake.Lake, from, to time.Time, open func(ctx context.Context, url string) (lake.Store, error)) (*lake.Run, []lake.Finding, error) {
	entries, err := ListRuns(ctx, lk, from, to)
	if err != nil {
		return nil, nil, err
	}
	stores := map[string]lake.Store{lk.Store().URL(): lk.Store()}
	for _, e := range entries {
		if stores[e.Store] == nil {
			if stores[e.Store], err = open(ctx, e.Store); err != nil {
				return nil, nil, fmt.Errorf("open the store of run %s: %w", e.ID, err)
			}
		}
	}
	runs := make([]*StoredRun, len(entries))
	err = parallel(ctx, len(entries), func(i int) error {
		var err error
		runs[i], err = ReadRun(ctx, stores[entries[i].Store], entries[i])
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	run, findings := Combine(runs, from, to)
	run.Lake = lk.URL()
	return run, findings, nil
}

// Combine merges stored runs into one run over [from, to) for a report:
//   - findings whose window overlaps the period; a finding id seen in several runs (a window re-run for
//     late data, or after a failed publish) keeps its latest version;
//   - per hunt, the latest outcome of each window: the windows that succeeded become one "ok" entry, each
//     stretch of failed windows a "failed" entry, and each stretch of the period no stored run covered a
//     "skipped" entry, so the report says what was not checked;
//   - coverage per table over the runs that were latest for some window.
//
// The period ends at to, or at the end of the latest stored window if that is earlier.
func Combine(runs []*StoredRun, from, to time.Time) (*lake.Run, []lake.Finding) {
	sorted := append([]*StoredRun(nil), runs...)
	sort.SliceStable(sorted, func(i, j int) bool { return newer(sorted[j].Run, sorted[i].Run) })

	out := &lake.Run{ID: "period-" + from.UTC().Format(stampLayout) + "-" + to.UTC().Format(stampLayout), Hunts: []lake.HuntRun{},
		WindowStart: from.UTC(), Trigger: fmt.Sprintf("report over %d stored scheduled runs", len(runs))}
	latestFinding := map[string]lake.Finding{}
	type outcome struct {
		hr  lake.HuntRun
		run *StoredRun
	}
	latest := map[string]map[Window]outcome{} // hunt → window → latest outcome
	var end time.Time
	for _, sr := range sorted {
		r := sr.Run
		if out.StartedAt.IsZero() || r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if r.FinishedAt.After(out.FinishedAt) {
			out.FinishedAt = r.FinishedAt
		}
		if r.LakeVersion > out.LakeVersion {
			out.LakeVersion = r.LakeVersion
		}
		out.ToolVersion, out.GitRevision = r.ToolVersion, r.GitRevision
		for _, f := range sr.Findings {
			if overlaps(f.WindowStart, f.WindowEnd, from, to) {
				latestFinding[f.ID] = f
			}
		}
		for _, hr := range r.Hunts {
			if !overlaps(hr.WindowStart, hr.WindowEnd, from, to) {
				continue
			}
			if latest[hr.ID] == nil {
				latest[hr.ID] = map[Window]outcome{}
			}
			latest[hr.ID][Window{Start: hr.WindowStart, End: hr.WindowEnd}] = outcome{hr, sr}
			if hr.WindowEnd.After(end) {
				end = hr.WindowEnd
			}
		}
	}
	if end.IsZero() || (!to.IsZero() && to.Before(end)) {
		end = to
	}
	out.WindowEnd = end.UTC()

	findings := make([]lake.Finding, 0, len(latestFinding))
	perHunt := map[string]int{}
	for _, f := range latestFinding {
		findings = append(findings, f)
		perHunt[f.HuntID]++
	}
	sort.Slice(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if !a.WindowStart.Equal(b.WindowStart) {
			return a.WindowStart.Before(b.WindowStart)
		}
		if a.HuntID != b.HuntID {
			return a.HuntID < b.HuntID
		}
		return a.ID < b.ID
	})

	used := map[*StoredRun]bool{}
	for _, id := range slices.Sorted(maps.Keys(latest)) {
		var ok, failed []Window
		var last lake.HuntRun
		var lastRun *lake.Run
		okRun := lake.HuntRun{}
		noData := map[string]bool{} // tables that had no rows in at least one of its ok windows
		for w, o := range latest[id] {
			used[o.run] = true
			if lastRun == nil || newer(o.run.Run, lastRun) {
				last, lastRun = o.hr, o.run.Run
			}
			if o.hr.Status == "ok" {
				ok = append(ok, w)
				okRun.RowsReturned += o.hr.RowsReturned
				okRun.DurationMillis += o.hr.DurationMillis
				okRun.Suppressed += o.hr.Suppressed
				for _, t := range o.hr.NoData {
					noData[t] = true
				}
				if !o.hr.BaselineStart.IsZero() && (okRun.BaselineStart.IsZero() || o.hr.BaselineStart.Before(okRun.BaselineStart)) {
					okRun.BaselineStart = o.hr.BaselineStart
				}
			} else {
				failed = append(failed, w)
			}
		}
		meta := func(status string, w Window) lake.HuntRun {
			hr := last
			hr.Status, hr.Error, hr.SkipReason = status, "", ""
			hr.WindowStart, hr.WindowEnd = clip(w, from, out.WindowEnd)
			hr.BaselineStart, hr.RowsReturned, hr.DurationMillis, hr.Suppressed, hr.Findings, hr.NoData = time.Time{}, 0, 0, 0, 0, nil
			return hr
		}
		covered := merge(append(append([]Window(nil), ok...), failed...))
		for _, gap := range uncovered(covered, from, out.WindowEnd) {
			hr := meta("skipped", gap)
			switch {
			case len(covered) > 0 && !gap.Start.Before(covered[len(covered)-1].End):
				hr.SkipReason = fmt.Sprintf("not checked %s: after its last stored window (its next window had not closed, or the scheduler has not caught up)", fmtWindow(gap))
			case len(covered) > 0 && !gap.End.After(covered[0].Start):
				hr.SkipReason = fmt.Sprintf("not checked %s: before its first stored scheduled run", fmtWindow(gap))
			default:
				hr.SkipReason = fmt.Sprintf("not checked %s: no stored scheduled run covers it", fmtWindow(gap))
			}
			out.Hunts = append(out.Hunts, hr)
		}
		for _, stretch := range merge(failed) {
			hr := meta("failed", stretch)
			n, msg, newest := 0, "", (*lake.Run)(nil)
			for w, o := range latest[id] {
				if o.hr.Status != "ok" && !w.Start.Before(stretch.Start) && !w.End.After(stretch.End) {
					n++
					if newest == nil || newer(o.run.Run, newest) {
						msg, newest = o.hr.Error, o.run.Run
					}
				}
			}
			hr.Error = fmt.Sprintf("%d window(s) failed over %s and were not checked; last error: %s", n, fmtWindow(stretch), msg)
			out.Hunts = append(out.Hunts, hr)
			out.FailedCount++
		}
		if len(ok) > 0 {
			span := merge(ok)
			hr := meta("ok", Window{Start: span[0].Start, End: span[len(span)-1].End})
			hr.RowsReturned, hr.DurationMillis, hr.Suppressed, hr.BaselineStart = okRun.RowsReturned, okRun.DurationMillis, okRun.Suppressed, okRun.BaselineStart
			hr.Findings = perHunt[id]
			if len(noData) > 0 {
				hr.NoData = slices.Sorted(maps.Keys(noData))
			}
			out.Hunts = append(out.Hunts, hr) // last, so a finding's hunt resolves to this entry
		}
	}
	out.Coverage = combineCoverage(sorted, used, from, out.WindowEnd)
	out.FindingCount = len(findings)
	return out, findings
}

// addHourly adds a run's rows per hour (from its window's first hour) to the period's, from the period's
// first hour. A period longer than lake.MaxHourly hours has none.
func addHourly(c *lake.Coverage, hourly []int64, start, from, to time.Time) {
	first := from.UTC().Truncate(time.Hour)
	n := int((to.Sub(first) + time.Hour - 1) / time.Hour)
	if len(hourly) == 0 || n <= 0 || n > lake.MaxHourly {
		return
	}
	if c.Hourly == nil {
		c.Hourly = make([]int64, n)
	}
	off := int(start.UTC().Truncate(time.Hour).Sub(first) / time.Hour)
	for i, v := range hourly {
		if j := off + i; j >= 0 && j < n {
			c.Hourly[j] += v
		}
	}
}

// newer orders runs by finish time, then start time, then id.
func newer(a, b *lake.Run) bool {
	if !a.FinishedAt.Equal(b.FinishedAt) {
		return a.FinishedAt.After(b.FinishedAt)
	}
	if !a.StartedAt.Equal(b.StartedAt) {
		return a.StartedAt.After(b.StartedAt)
	}
	return a.ID > b.ID
}

func overlaps(s, e, from, to time.Time) bool {
	return (to.IsZero() || s.Before(to)) && (from.IsZero() || e.After(from))
}

func clip(w Window, from, to time.Time) (time.Time, time.Time) {
	s, e := w.Start, w.End
	if !from.IsZero() && s.Before(from) {
		s = from
	}
	if !to.IsZero() && e.After(to) {
		e = to
	}
	return s.UTC(), e.UTC()
}

// merge sorts windows and joins the ones that touch or overlap.
func merge(ws []Window) []Window {
	sort.Slice(ws, func(i, j int) bool { return ws[i].Start.Before(ws[j].Start) })
	var out []Window
	for _, w := range ws {
		if n := len(out); n > 0 && !w.Start.After(out[n-1].End) {
			if w.End.After(out[n-1].End) {
				out[n-1].End = w.End
			}
			continue
		}
		out = append(out, w)
	}
	return out
}

// uncovered returns the parts of [from, to) outside the merged windows.
func uncovered(merged []Window, from, to time.Time) []Window {
	var out []Window
	cur := from
	for _, w := range merged {
		if cur.IsZero() {
			cur = w.Start
		}
		if w.Start.After(cur) && (to.IsZero() || cur.Before(to)) {
			e := w.Start
			if !to.IsZero() && e.After(to) {
				e = to
			}
			out = append(out, Window{Start: cur, End: e})
		}
		if w.End.After(cur) {
			cur = w.End
		}
	}
	if !to.IsZero() && !cur.IsZero() && cur.Before(to) {
		out = append(out, Window{Start: cur, End: to})
	}
	return out
}

// combineCoverage merges the coverage of the runs used: accounts and regions are unions; rows, partitions
// and files are summed over runs whose windows do not overlap (a window re-run counts once), so a week of
// daily runs reports what one run over the week reads; gaps are all gaps inside the period.
func combineCoverage(runs []*StoredRun, used map[*StoredRun]bool, from, to time.Time) []lake.Coverage {
	type acc struct {
		c        lake.Coverage
		accounts map[string]bool
		regions  map[string]bool
		gaps     map[string]lake.Gap
		counted  []Window
		read     bool
	}
	byTable := map[string]*acc{}
	for _, sr := range runs { // newest first: a re-run's rows count, the older run's are skipped
		if !used[sr] {
			continue
		}
		w := Window{Start: sr.Run.WindowStart, End: sr.Run.WindowEnd}
		for _, c := range sr.Run.Coverage {
			a := byTable[c.Table]
			if a == nil {
				a = &acc{c: lake.Coverage{Table: c.Table}, accounts: map[string]bool{}, regions: map[string]bool{}, gaps: map[string]lake.Gap{}}
				byTable[c.Table] = a
			}
			a.read = a.read || !c.Unread
			for _, x := range c.Accounts {
				a.accounts[x] = true
			}
			for _, x := range c.Regions {
				a.regions[x] = true
			}
			if c.Newest.After(a.c.Newest) {
				a.c.Newest = c.Newest
			}
			free := true
			for _, cw := range a.counted {
				if w.Start.Before(cw.End) && cw.Start.Before(w.End) {
					free = false
					break
				}
			}
			if free {
				a.c.Rows += c.Rows
				a.c.Partitions += c.Partitions
				a.c.Files += c.Files
				addHourly(&a.c, c.Hourly, sr.Run.WindowStart, from, to)
				a.counted = append(a.counted, w)
			}
			for _, g := range c.Gaps {
				if overlaps(g.Start, g.End, from, to) {
					a.gaps[strings.Join([]string{g.AccountID, g.Region, g.Start.String(), g.End.String()}, "|")] = g
				}
			}
		}
	}
	var out []lake.Coverage
	for _, t := range slices.Sorted(maps.Keys(byTable)) {
		a := byTable[t]
		a.c.Accounts, a.c.Regions = slices.Sorted(maps.Keys(a.accounts)), slices.Sorted(maps.Keys(a.regions))
		a.c.Unread = !a.read
		for _, k := range slices.Sorted(maps.Keys(a.gaps)) {
			a.c.Gaps = append(a.c.Gaps, a.gaps[k])
		}
		out = append(out, a.c)
	}
	return out
}
