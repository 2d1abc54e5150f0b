package scheduler

import (
	"slices"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

func storedRun(id string, finished time.Time, w Window, status, errText string, rows int64, findings ...lake.Finding) *StoredRun {
	hr := lake.HuntRun{ID: "h", Version: 1, Title: "hunt h", Status: status, Error: errText, Tables: []string{"cloudtrail"},
		WindowStart: w.Start, WindowEnd: w.End}
	run := &lake.Run{ID: id, StartedAt: finished.Add(-time.Minute), FinishedAt: finished, WindowStart: w.Start, WindowEnd: w.End,
		Hunts: []lake.HuntRun{hr}, FindingCount: len(findings),
		Coverage: []lake.Coverage{{Table: "cloudtrail", Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, Partitions: 1, Files: 1, Rows: rows}}}
	return &StoredRun{Entry: RunEntry{ID: id}, Run: run, Findings: findings}
}

func TestCombineLatestWinsAndNamesWhatWasNotChecked(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	win := func(i int) Window {
		return Window{Start: t0.Add(time.Duration(i) * 12 * time.Hour), End: t0.Add(time.Duration(i+1) * 12 * time.Hour)}
	}
	finding := func(id string, w Window, count int64) lake.Finding {
		return lake.Finding{ID: id, HuntID: "h", Entity: lake.Entity{Type: "principal", Key: "p"}, Count: count, WindowStart: w.Start, WindowEnd: w.End}
	}
	runs := []*StoredRun{
		storedRun("r1", t0.Add(13*time.Hour), win(0), "ok", "", 100, finding("f0", win(0), 1)),
		storedRun("r2", t0.Add(25*time.Hour), win(1), "failed", "query: boom", 0),
		storedRun("r3", t0.Add(26*time.Hour), win(0), "ok", "", 105, finding("f0", win(0), 2)), // late re-run of window 0
		// window 2 never ran
		storedRun("r4", t0.Add(49*time.Hour), win(3), "ok", "", 50, finding("f3", win(3), 1)),
	}
	for _, r := range runs { // rows per hour: 1 in each hour of a window, 2 in the re-run of window 0
		if r.Run.Coverage[0].Rows > 0 {
			r.Run.Coverage[0].Hourly = slices.Repeat([]int64{r.Run.Coverage[0].Rows / 50}, 12)
		}
	}
	run, findings := Combine(runs, win(0).Start.Add(6*time.Hour), win(3).End)
	if len(findings) != 2 || findings[0].ID != "f0" || findings[0].Count != 2 || findings[1].ID != "f3" {
		t.Fatalf("findings %+v: want f0 at its latest version (count 2) and f3", findings)
	}
	if run.FindingCount != 2 || run.FailedCount != 1 {
		t.Errorf("finding count %d, failed %d; want 2 and 1", run.FindingCount, run.FailedCount)
	}
	want := []struct {
		status     string
		start, end time.Time
	}{
		{"skipped", win(2).Start, win(2).End},
		{"failed", win(1).Start, win(1).End},
		{"ok", win(0).Start.Add(6 * time.Hour), win(3).End}, // clipped to the period
	}
	if len(run.Hunts) != len(want) {
		t.Fatalf("hunt entries %+v, want %d", run.Hunts, len(want))
	}
	for i, w := range want {
		h := run.Hunts[i]
		if h.Status != w.status || !h.WindowStart.Equal(w.start) || !h.WindowEnd.Equal(w.end) {
			t.Errorf("entry %d: %s %s..%s, want %s %s..%s", i, h.Status, h.WindowStart, h.WindowEnd, w.status, w.start, w.end)
		}
	}
	if run.Hunts[1].Error == "" || run.Hunts[0].SkipReason == "" || run.Hunts[2].Findings != 2 {
		t.Errorf("failed entry must say why, skipped entry must say what, ok entry counts findings: %+v", run.Hunts)
	}
	// Rows: the re-run of window 0 replaces the first run, windows 1 (failed, no rows) and 3 add theirs.
	if len(run.Coverage) != 1 || run.Coverage[0].Rows != 155 {
		t.Fatalf("coverage %+v, want 155 rows (105 + 0 + 50)", run.Coverage)
	}
	// Partitions and files add up the same way: one partition and file per counted run, as one run over the period would read.
	if c := run.Coverage[0]; c.Partitions != 3 || c.Files != 3 {
		t.Errorf("coverage %d partitions, %d files; want 3 and 3 (one per counted window)", c.Partitions, c.Files)
	}
	// Rows per hour from the period's first hour: the last 6 hours of the re-run window 0, nothing for the
	// failed window 1 and the missing window 2, window 3's 12 hours.
	wantHourly := slices.Concat(slices.Repeat([]int64{2}, 6), make([]int64, 24), slices.Repeat([]int64{1}, 12))
	if got := run.Coverage[0].Hourly; !slices.Equal(got, wantHourly) {
		t.Errorf("hourly %v, want %v", got, wantHourly)
	}
}

// A period's table is unread only if no run of the period read it.
func TestCombineCoverageKeepsUnread(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	run := func(d int, cov ...lake.Coverage) *StoredRun {
		from := day.AddDate(0, 0, d)
		return &StoredRun{Run: &lake.Run{WindowStart: from, WindowEnd: from.AddDate(0, 0, 1), Coverage: cov}}
	}
	runs := []*StoredRun{
		run(1, lake.Coverage{Table: "waf", Rows: 5, Unread: true}, lake.Coverage{Table: "alb", Rows: 2}),
		run(0, lake.Coverage{Table: "waf", Rows: 4, Unread: true}, lake.Coverage{Table: "alb", Rows: 3, Unread: true}),
	}
	used := map[*StoredRun]bool{runs[0]: true, runs[1]: true}
	got := map[string]lake.Coverage{}
	for _, c := range combineCoverage(runs, used, day, day.AddDate(0, 0, 2)) {
		got[c.Table] = c
	}
	if w := got["waf"]; !w.Unread || w.Rows != 9 {
		t.Errorf("waf: %+v, want unread with 9 rows", w)
	}
	if a := got["alb"]; a.Unread || a.Rows != 5 {
		t.Errorf("alb (read by one run of the period): %+v, want read with 5 rows", a)
	}
}
