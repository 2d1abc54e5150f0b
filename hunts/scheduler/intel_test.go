package scheduler

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/ti"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
)

// intelHunt finds principals calling from an IP listed in ti_indicators; its window (10 days) is longer
// than the late lookback (7 days), as the shipped ti-* retro-hunts' are.
const intelHunt = `id: sched-ti-ip
version: 1
title: Calls from a listed IP
status: test
authors: [test]
hypothesis: A listed address acted in the account.
description: One finding per principal and window.
attack: {tactics: [initial-access], techniques: [T1078.004]}
severity: HIGH
tables: [cloudtrail, ti_indicators]
schedule: "rate(12 hours)"
window: 10d
query: |
  SELECT c.principal_arn, min(c.account_id) AS account_id, min(c.region) AS region,
         count(*) AS event_count, min(c.event_time) AS first_seen, max(c.event_time) AS last_seen,
         list({'event_time': c.event_time, 'source_key': c.source_key, 'source_line': c.source_line, 'event_id': c.event_id} ORDER BY c.event_time) AS evidence
  FROM cloudtrail c JOIN ti_indicators t ON t.type = 'ipv4' AND t.indicator = c.source_ip_address
  WHERE c.event_time >= $window_start AND c.event_time < $window_end
  GROUP BY c.principal_arn
output:
  entity: {type: principal, key: principal_arn}
  title: "{{principal_arn}} called from a listed IP"
  evidence: evidence
  evidence_limit: 200
  types: ["TTPs/Initial Access"]
  resources:
    - {type: Other, id: "{{principal_arn}}"}
false_positives: [none]
tests:
  - name: placeholder
    window: {start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z"}
    expect: {count: 0}
`

// TestNewIntelReopensPastWindows: scheduled retro-hunting. Calls from an address happen for ten days while
// no feed lists it; then a feed lists it. The next tick re-runs every recorded window of the intel hunt
// (its whole 10-day window, beyond the 7-day late lookback) and finds every past call, under the same
// finding ids a window always has; the hunt that does not read intel is not re-run; an unchanged feed
// re-opens nothing.
func TestNewIntelReopensPastWindows(t *testing.T) {
	ctx := context.Background()
	day0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := newWorld(t)
	w.ip = "185.220.101.5"
	principal := "arn:aws:iam::111122223333:role/leaked"
	for h := 0; h < 13*24; h += 3 {
		at := day0.Add(time.Duration(h)*time.Hour + 20*time.Minute)
		w.add("StopLogging", principal, at, at.Add(15*time.Minute))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "sched-ti-ip.yaml"), []byte(intelHunt), 0o644); err != nil {
		t.Fatal(err)
	}
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: os.DirFS(dir), Name: dir})
	if err != nil || len(diags) > 0 || len(hs) != 1 {
		t.Fatalf("load intel hunt: %v %v", err, diags)
	}
	intel, plain := hs[0], loadHunt(t, "sched-stoplogging", "")
	lk := openLocalLake(t)
	tick := func(now time.Time) *TickResult {
		t.Helper()
		w.deliver(now)
		res, err := Tick(ctx, Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{intel, plain},
			Now: now, MaxCatchUp: 50, Owner: "test"})
		if err != nil {
			t.Fatalf("tick at %s: %v", now, err)
		}
		return res
	}
	feed := filepath.Join(t.TempDir(), "listed.txt")
	if err := os.WriteFile(feed, []byte("# advisory\n185.220.101.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	importFeed := func(now time.Time) {
		t.Helper()
		if _, err := ti.Import(ctx, lk, "advisory", []ti.Source{{URL: feed}}, now); err != nil {
			t.Fatal(err)
		}
	}

	for now := day0.AddDate(0, 0, 10).Add(30 * time.Minute); now.Before(day0.AddDate(0, 0, 11)); now = now.Add(12 * time.Hour) {
		for _, r := range tick(now).Windows {
			if r.HuntID == intel.ID && r.Findings != 0 {
				t.Fatalf("before any intel, window %s has %d findings", fmtWindow(Window{Start: r.Start, End: r.End}), r.Findings)
			}
		}
	}
	importFeed(day0.AddDate(0, 0, 11).Add(2 * time.Hour))
	res := tick(day0.AddDate(0, 0, 11).Add(12*time.Hour + 30*time.Minute))

	led, err := ReadLedger(ctx, lk.Store(), intel.ID)
	if err != nil {
		t.Fatal(err)
	}
	reopened := map[Window]bool{}
	for _, r := range res.Windows {
		if r.HuntID == plain.ID && r.Late {
			t.Errorf("the hunt that reads no intel re-ran window %s", fmtWindow(Window{Start: r.Start, End: r.End}))
		}
		if r.HuntID == intel.ID && r.Late {
			reopened[Window{Start: r.Start, End: r.End}] = true
		}
	}
	// Ticks at 03-12 00:30 and 12:30 ran [03-02, 03-12) (the first window is the hunt's 10 days) and
	// [03-12 00:00, 12:00); the tick after the import re-runs both and runs the two windows then due.
	if len(led.Windows) != 4 || !led.Windows[0].Start.Equal(day0) || !led.Windows[0].End.Equal(day0.AddDate(0, 0, 10)) {
		t.Fatalf("intel hunt ledger: %+v, want the 10-day first window and three 12-hour windows kept", led.Windows)
	}
	for _, rec := range led.Windows[:2] {
		if !reopened[Window{Start: rec.Start, End: rec.End}] || rec.Runs != 2 {
			t.Errorf("window %s ran %d times, re-opened by the import: %v; want a re-run for the new intel",
				fmtWindow(Window{Start: rec.Start, End: rec.End}), rec.Runs, reopened[Window{Start: rec.Start, End: rec.End}])
		}
	}

	// Every call from the listed address in the hunted windows is in a finding, each window once.
	found := map[string]bool{}
	ids := map[string]string{}
	entries, err := ListRuns(ctx, lk, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		sr, err := ReadRun(ctx, lk.Store(), e)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range sr.Findings {
			if f.HuntID != intel.ID {
				continue
			}
			k := fmt.Sprint(f.WindowStart.Unix(), f.WindowEnd.Unix())
			if prev, ok := ids[k]; ok && prev != f.ID {
				t.Errorf("window %s has two finding ids: %s and %s", k, prev, f.ID)
			}
			ids[k] = f.ID
			for id := range evidenceIDs(f) {
				found[id] = true
			}
		}
	}
	end := led.Windows[len(led.Windows)-1].End
	var missed []string
	for _, e := range w.events {
		if !e.at.Before(led.Windows[0].Start) && e.at.Before(end) && !found[e.id] {
			missed = append(missed, e.id+"@"+e.at.Format(time.RFC3339))
		}
	}
	if len(missed) > 0 {
		t.Errorf("%d calls from the listed address were not found after the import: %s", len(missed), strings.Join(missed, ", "))
	}
	if len(found) == 0 {
		t.Fatal("no findings at all after the import")
	}

	// The same feed again changes no indicator: nothing re-opens.
	importFeed(day0.AddDate(0, 0, 11).Add(14 * time.Hour))
	for _, r := range tick(day0.AddDate(0, 0, 12).Add(30 * time.Minute)).Windows {
		if r.Late {
			t.Errorf("an unchanged feed re-opened window %s of %s", fmtWindow(Window{Start: r.Start, End: r.End}), r.HuntID)
		}
	}
}
