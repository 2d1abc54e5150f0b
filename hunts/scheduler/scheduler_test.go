package scheduler

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

const (
	acct   = "111122223333"
	region = "us-east-1"
)

// huntYAML is a small hunt: one finding per principal and window that called StopLogging, with every
// event id as evidence, scheduled every 12 hours. where is spliced into the WHERE clause (to break it).
func huntYAML(id, where string) string {
	return fmt.Sprintf(`id: %s
version: 1
title: StopLogging per principal
status: test
authors: [test]
hypothesis: Someone stops CloudTrail.
description: One finding per principal and window.
attack: {tactics: [defense-evasion], techniques: [T1562.008]}
severity: HIGH
tables: [cloudtrail]
schedule: "rate(12 hours)"
window: 12h
query: |
  SELECT principal_arn, min(account_id) AS account_id, min(region) AS region,
         count(*) AS event_count, min(event_time) AS first_seen, max(event_time) AS last_seen,
         list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line, 'event_id': event_id} ORDER BY event_time) AS evidence
  FROM cloudtrail
  WHERE event_time >= $window_start AND event_time < $window_end AND event_name = 'StopLogging' %s
  GROUP BY principal_arn
output:
  entity: {type: principal, key: principal_arn}
  title: "StopLogging by {{principal_arn}}"
  evidence: evidence
  evidence_limit: 200
  types: ["TTPs/Defense Evasion/Logging Disabled"]
  resources:
    - {type: Other, id: "{{principal_arn}}"}
false_positives: [none]
tests:
  - name: placeholder
    window: {start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z"}
    expect: {count: 0}
`, id, where)
}

func loadHunt(t *testing.T, id, where string) *huntfile.Hunt {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, id+".yaml"), []byte(huntYAML(id, where)), 0o644); err != nil {
		t.Fatal(err)
	}
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: os.DirFS(dir), Name: dir})
	if err != nil || len(diags) > 0 || len(hs) != 1 {
		t.Fatalf("load hunt %s: %v %v", id, err, diags)
	}
	return hs[0]
}

// event is one CloudTrail record and when AWS delivers it.
type event struct {
	id, name, principal string
	at, delivered       time.Time
}

// world is raw CloudTrail delivered over simulated time into a local "bucket".
type world struct {
	t       *testing.T
	raw     string
	pending map[time.Time][]event // delivery time → events in one file
	events  []event
	seq     int
	ip      string // sourceIPAddress of every event ("" means 198.51.100.7)
}

func newWorld(t *testing.T) *world {
	return &world{t: t, raw: t.TempDir(), pending: map[time.Time][]event{}}
}

func (w *world) add(name, principal string, at, delivered time.Time) event {
	w.seq++
	e := event{id: fmt.Sprintf("ev-%05d", w.seq), name: name, principal: principal, at: at, delivered: delivered}
	w.pending[delivered] = append(w.pending[delivered], e)
	w.events = append(w.events, e)
	return e
}

// deliver writes every file due by now, as CloudTrail names and shapes them.
func (w *world) deliver(now time.Time) {
	for at, evs := range w.pending {
		if at.After(now) {
			continue
		}
		var recs []map[string]any
		for _, e := range evs {
			recs = append(recs, map[string]any{
				"eventVersion": "1.08", "eventTime": e.at.UTC().Format(time.RFC3339), "eventSource": "cloudtrail.amazonaws.com",
				"eventName": e.name, "awsRegion": region, "sourceIPAddress": cmp.Or(w.ip, "198.51.100.7"), "userAgent": "aws-cli/2.15",
				"eventID": e.id, "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": acct, "readOnly": false,
				"userIdentity": map[string]any{"type": "AssumedRole", "arn": e.principal + "/session", "accountId": acct,
					"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": e.principal, "accountId": acct}}},
			})
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if err := json.NewEncoder(zw).Encode(map[string]any{"Records": recs}); err != nil {
			w.t.Fatal(err)
		}
		zw.Close()
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%04d.json.gz", acct, region, at.Format("2006/01/02"),
			acct, region, at.Format("20060102T1504Z"), len(evs))
		p := filepath.Join(w.raw, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			w.t.Fatal(err)
		}
		delete(w.pending, at)
	}
}

type findingKey struct {
	start     time.Time
	principal string
}

// truth is, per 12-hour window and principal, the StopLogging event ids.
func (w *world) truth() map[findingKey]map[string]bool {
	out := map[findingKey]map[string]bool{}
	for _, e := range w.events {
		if e.name != "StopLogging" {
			continue
		}
		k := findingKey{e.at.Truncate(12 * time.Hour), e.principal}
		if out[k] == nil {
			out[k] = map[string]bool{}
		}
		out[k][e.id] = true
	}
	return out
}

func openLocalLake(t *testing.T) *lake.Lake {
	lk, err := lake.Open(context.Background(), t.TempDir(), lake.Options{CacheDir: t.TempDir(), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

func rawStore(t *testing.T, dir string) lake.Store {
	st, err := lake.OpenStore(context.Background(), dir, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func evidenceIDs(f lake.Finding) map[string]bool {
	ids := map[string]bool{}
	for _, e := range f.Evidence {
		if id, ok := e.Row["event_id"].(string); ok {
			ids[id] = true
		}
	}
	return ids
}

func sameSet(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

// TestSimulatedDays ticks every three hours over five simulated days with a two-day outage, a hunt that
// fails for its first ticks, and CloudTrail files delivered hours or days after their window closed.
func TestSimulatedDays(t *testing.T) {
	ctx := context.Background()
	day0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	at := func(day int, hhmm string) time.Time {
		d, _ := time.ParseDuration(strings.Replace(hhmm, ":", "h", 1) + "m")
		return day0.AddDate(0, 0, day).Add(d)
	}
	w := newWorld(t)
	principals := []string{"arn:aws:iam::111122223333:role/ops-a", "arn:aws:iam::111122223333:role/ops-b"}
	for h := 0; h < 5*24; h++ {
		hour := day0.Add(time.Duration(h) * time.Hour)
		onTime := hour.Add(time.Hour + 8*time.Minute) // CloudTrail's usual few minutes
		w.add("DescribeTrails", principals[0], hour.Add(10*time.Minute), onTime)
		w.add("StopLogging", principals[h%2], hour.Add(20*time.Minute), onTime)
		w.add("GetTrailStatus", principals[1], hour.Add(40*time.Minute), onTime)
	}
	intruder := "arn:aws:iam::111122223333:role/intruder"
	late := []event{
		// hours late, into a window that already has a finding for the principal: the finding grows
		w.add("StopLogging", principals[0], at(0, "07:45"), at(0, "16:00")),
		// one file for two windows: the first already ran, the second has not
		w.add("StopLogging", principals[1], at(0, "10:00"), at(0, "17:00")),
		w.add("StopLogging", principals[1], at(0, "14:00"), at(0, "17:00")),
		// a new principal in a closed window, delivered during the outage
		w.add("StopLogging", intruder, at(0, "23:10"), at(2, "09:00")),
		// into a window that ran during the catch-up after the outage
		w.add("StopLogging", intruder, at(3, "04:00"), at(3, "20:00")),
		// into a closed window while the next one is due
		w.add("StopLogging", intruder, at(4, "05:00"), at(4, "23:00")),
	}

	lk := openLocalLake(t)
	good := loadHunt(t, "sched-stoplogging", "")
	broken := loadHunt(t, "sched-flaky", "AND no_such_column = 1")
	fixed := loadHunt(t, "sched-flaky", "")
	fixedAt := at(0, "14:00")
	outage := [2]time.Time{at(1, "12:00"), at(3, "12:00")}

	results := map[time.Time]*TickResult{}
	for now := at(0, "12:30"); !now.After(at(5, "03:30")); now = now.Add(3 * time.Hour) {
		if !now.Before(outage[0]) && now.Before(outage[1]) {
			continue
		}
		w.deliver(now)
		flaky := broken
		if now.After(fixedAt) {
			flaky = fixed
		}
		res, err := Tick(ctx, Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{good, flaky},
			Now: now, MaxCatchUp: 2, Owner: "test"})
		if err != nil {
			t.Fatalf("tick at %s: %v", now, err)
		}
		results[now] = res
	}

	// Outcomes along the way.
	for _, c := range []struct {
		at   time.Time
		want Status
	}{
		{at(0, "12:30"), StatusFailed},     // the flaky hunt fails its first window
		{at(0, "15:30"), StatusOK},         // fixed: it retries exactly that window
		{at(0, "18:30"), StatusOK},         // late data re-opens 00:00-12:00
		{at(0, "21:30"), StatusNothingDue}, // 12:00-24:00 has not closed, no late data
	} {
		if got := results[c.at].Status; got != c.want {
			t.Errorf("tick at %s: status %s, want %s (%+v)", c.at.Format(time.RFC3339), got, c.want, results[c.at].Windows)
		}
	}
	// Bounded catch-up after the outage: oldest first, 2 windows per hunt per tick.
	var caught []Window
	for _, r := range results[at(3, "12:30")].Windows {
		if r.HuntID == good.ID && !r.Late {
			caught = append(caught, Window{Start: r.Start, End: r.End})
		}
	}
	if len(caught) != 2 || !caught[0].Start.Equal(at(1, "00:00")) || !caught[1].Start.Equal(at(1, "12:00")) {
		t.Errorf("first tick after the outage ran %v, want the 2 oldest windows from %s", caught, at(1, "00:00"))
	}

	// Contiguous windows in the ledgers: no gap, no overlap, from the first window to the last closed one.
	for _, id := range []string{good.ID, fixed.ID} {
		led, err := ReadLedger(ctx, lk.Store(), id)
		if err != nil {
			t.Fatal(err)
		}
		if gaps := led.Gaps(); len(gaps) > 0 {
			t.Errorf("%s: gaps between windows: %v", id, gaps)
		}
		if n := len(led.Windows); n == 0 || !led.Windows[0].Start.Equal(day0) || !led.Windows[n-1].End.Equal(at(5, "00:00")) || !led.LastEnd.Equal(at(5, "00:00")) {
			t.Errorf("%s: windows %d, last end %s: want contiguous %s .. %s", id, n, led.LastEnd, day0, at(5, "00:00"))
		}
		if len(led.Failures) > 0 {
			t.Errorf("%s: failures left after the fix: %+v", id, led.Failures)
		}
	}
	led, _ := ReadLedger(ctx, lk.Store(), good.ID)
	for _, e := range late {
		ws := e.at.Truncate(12 * time.Hour)
		for _, rec := range led.Windows {
			if rec.Start.Equal(ws) && rec.Runs < 2 && e.delivered.After(rec.End.Add(15*time.Minute)) && !rec.RanAt.After(e.delivered) {
				t.Errorf("window %s received late event %s but was not re-run", fmtWindow(Window{Start: rec.Start, End: rec.End}), e.id)
			}
		}
	}
	// Exactly the windows that received late rows re-ran, once each: merged files or files that merely
	// touch a window do not re-open it.
	reruns := map[time.Time]int{}
	for _, rec := range led.Windows {
		if rec.Runs > 1 {
			reruns[rec.Start] = rec.Runs - 1
		}
	}
	wantReruns := map[time.Time]int{at(0, "00:00"): 1, at(0, "12:00"): 1, at(3, "00:00"): 1, at(4, "00:00"): 1}
	if fmt.Sprint(reruns) != fmt.Sprint(wantReruns) {
		t.Errorf("late re-runs per window: %v, want %v", reruns, wantReruns)
	}
	// The fixed hunt retried exactly the window it failed, not a later first window.
	var retried []Window
	for _, r := range results[at(0, "15:30")].Windows {
		if r.HuntID == fixed.ID {
			retried = append(retried, Window{Start: r.Start, End: r.End})
		}
	}
	if len(retried) != 1 || !retried[0].Start.Equal(day0) || !retried[0].End.Equal(at(0, "12:00")) {
		t.Errorf("after the fix the flaky hunt ran %v, want its failed first window", retried)
	}

	// Every stored run directory: one id per (hunt, entity, window), and the latest version of each
	// finding holds every event of its window, late ones included.
	entries, err := ListRuns(ctx, lk, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var runs []*StoredRun
	idsFor := map[string]map[string]bool{}
	for _, e := range entries {
		sr, err := ReadRun(ctx, lk.Store(), e)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, sr)
		seen := map[string]bool{}
		for _, f := range sr.Findings {
			if seen[f.ID] {
				t.Errorf("run %s holds finding %s twice", e.ID, f.ID)
			}
			seen[f.ID] = true
			k := fmt.Sprint(f.HuntID, f.Entity.Key, f.WindowStart.Unix(), f.WindowEnd.Unix())
			if idsFor[k] == nil {
				idsFor[k] = map[string]bool{}
			}
			idsFor[k][f.ID] = true
		}
	}
	for k, ids := range idsFor {
		if len(ids) != 1 {
			t.Errorf("%s has %d finding ids across run directories, want 1", k, len(ids))
		}
	}
	period, merged := Combine(runs, day0, at(5, "00:00"))
	// Over the whole period both hunts checked every window: the flaky hunt's failures were retried.
	for _, h := range period.Hunts {
		if h.Status != "ok" || !h.WindowStart.Equal(day0) || !h.WindowEnd.Equal(at(5, "00:00")) {
			t.Errorf("period report: hunt %s %s over %s..%s (%s%s)", h.ID, h.Status, h.WindowStart, h.WindowEnd, h.Error, h.SkipReason)
		}
	}
	if len(period.Hunts) != 2 || period.FailedCount != 0 {
		t.Errorf("period report: %d hunt entries, %d failed; want 2 and 0", len(period.Hunts), period.FailedCount)
	}
	truth := w.truth()
	got := map[findingKey]lake.Finding{}
	for _, f := range merged {
		if f.HuntID != good.ID {
			continue
		}
		k := findingKey{f.WindowStart, f.Entity.Key}
		if _, dup := got[k]; dup {
			t.Errorf("two findings for %s %s", k.start, k.principal)
		}
		got[k] = f
	}
	if len(got) != len(truth) {
		t.Errorf("%d findings, want %d (one per window and principal)", len(got), len(truth))
	}
	for k, ids := range truth {
		f, ok := got[k]
		if !ok {
			t.Errorf("no finding for %s in window %s", k.principal, k.start)
			continue
		}
		if f.Count != int64(len(ids)) || !sameSet(evidenceIDs(f), ids) {
			t.Errorf("finding for %s in %s: count %d, evidence %v; want %d events %v", k.principal, k.start, f.Count, evidenceIDs(f), len(ids), ids)
		}
	}
	for _, e := range late {
		f := got[findingKey{e.at.Truncate(12 * time.Hour), e.principal}]
		if !evidenceIDs(f)[e.id] {
			t.Errorf("late event %s (%s, delivered %s) was not hunted", e.id, e.at, e.delivered)
		}
	}
}

// activity is a slog handler that tracks how many ticks are between "tick started" and "tick finished".
type activity struct {
	mu          sync.Mutex
	active, max int
}

func (a *activity) Enabled(context.Context, slog.Level) bool { return true }
func (a *activity) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a *activity) WithGroup(string) slog.Handler            { return a }
func (a *activity) Handle(_ context.Context, r slog.Record) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch r.Message {
	case "tick started":
		a.active++
		a.max = max(a.max, a.active)
	case "tick finished", "tick could not run":
		a.active--
	}
	return nil
}

// TestConcurrentTicksOnS3 starts two ticks at once, three times, against a lake on a real S3 server:
// exactly one runs each time, the other reports that another tick is running, and every window runs once.
// Then a runner that crashed holding the lease blocks ticks until its lease expires.
func TestConcurrentTicksOnS3(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	lk, err := lake.Open(ctx, srv.Bucket(t, "sched-lake")+"lake/", lake.Options{CacheDir: t.TempDir(), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	day0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := newWorld(t)
	for h := 0; h < 48; h++ {
		hour := day0.Add(time.Duration(h) * time.Hour)
		w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", hour.Add(20*time.Minute), hour.Add(time.Hour+5*time.Minute))
	}
	hunt := loadHunt(t, "sched-stoplogging", "")
	act := &activity{}
	var publishing, maxPublishing atomic.Int32
	opts := func(now time.Time, owner string) Options {
		return Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{hunt}, Now: now, Owner: owner,
			Log: slog.New(act), Publish: func(ctx context.Context, dir string) error {
				n := publishing.Add(1)
				defer publishing.Add(-1)
				if n > maxPublishing.Load() {
					maxPublishing.Store(n)
				}
				time.Sleep(100 * time.Millisecond) // widen the overlap
				return nil
			}}
	}
	for round := 0; round < 3; round++ {
		now := day0.Add(time.Duration(round+1)*12*time.Hour + 30*time.Minute)
		w.deliver(now)
		var wg sync.WaitGroup
		start := make(chan struct{})
		results := make([]*TickResult, 2)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res, err := Tick(ctx, opts(now, fmt.Sprintf("runner-%d", i)))
				if err != nil {
					t.Errorf("round %d runner %d: %v", round, i, err)
				}
				results[i] = res
			}()
		}
		close(start)
		wg.Wait()
		ran, other := 0, 0
		for _, r := range results {
			switch {
			case r == nil:
			case r.Status == StatusOK:
				ran++
			case r.Status == StatusBusy:
				other++
			case r.Status == StatusNothingDue: // started after the other finished: it found the work done
				other++
			default:
				t.Errorf("round %d: unexpected result %+v", round, r)
			}
		}
		if ran != 1 || other != 1 {
			t.Errorf("round %d: %d ticks ran and %d stood aside, want 1 and 1", round, ran, other)
		}
	}
	if act.max != 1 || maxPublishing.Load() != 1 {
		t.Errorf("%d ticks ran at once (%d publishing at once), want 1", act.max, maxPublishing.Load())
	}
	entries, err := ListRuns(ctx, lk, time.Time{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	perWindow := map[string]int{}
	for _, e := range entries {
		perWindow[fmtWindow(Window{Start: e.WindowStart, End: e.WindowEnd})]++
	}
	if len(perWindow) != 3 {
		t.Errorf("windows run: %v, want 3", perWindow)
	}
	for win, n := range perWindow {
		if n != 1 {
			t.Errorf("window %s ran %d times", win, n)
		}
	}
	led, err := ReadLedger(ctx, lk.Store(), hunt.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(led.Windows) != 3 || len(led.Gaps()) > 0 || !led.LastEnd.Equal(day0.Add(36*time.Hour)) {
		t.Errorf("ledger after 3 rounds: %d windows, gaps %v, last end %s", len(led.Windows), led.Gaps(), led.LastEnd)
	}

	// A runner crashes holding the lease: ticks stand aside until it expires (on the real clock, whatever
	// --now a tick runs with), then one runs.
	crashAt := day0.Add(48*time.Hour + 30*time.Minute)
	crashed, err := lk.AcquireLease(ctx, LeaseName, "crashed-runner", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w.deliver(crashAt)
	res, err := Tick(ctx, opts(crashAt.Add(DefaultLeaseTTL+time.Hour), "runner-x"))
	if err != nil || res.Status != StatusBusy || !strings.Contains(res.Holder, "crashed-runner") {
		t.Fatalf("tick during a crashed runner's lease: %+v, %v", res, err)
	}
	time.Sleep(time.Until(crashed.Expires) + 10*time.Millisecond)
	res, err = Tick(ctx, opts(crashAt.Add(5*time.Minute), "runner-x"))
	if err != nil || res.Status != StatusOK || len(res.Windows) != 1 {
		t.Fatalf("tick after the crashed runner's lease expired: %+v, %v", res, err)
	}
}

// TestDataOlderThanTheLookbackIsReported: late data no window re-opens for is named, not dropped silently.
func TestDataOlderThanTheLookbackIsReported(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 20, 12, 30, 0, 0, time.UTC)
	w := newWorld(t)
	w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", now.Add(-2*time.Hour), now.Add(-time.Hour))
	lk := openLocalLake(t)
	opts := Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{loadHunt(t, "sched-stoplogging", "")}, Now: now}
	w.deliver(now)
	if res, err := Tick(ctx, opts); err != nil || res.Status != StatusOK || len(res.Problems) > 0 {
		t.Fatalf("first tick: %+v %v", res, err)
	}
	w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", now.AddDate(0, 0, -10), now.Add(time.Hour))
	w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", now.Add(-30*time.Minute), now.Add(time.Hour))
	opts.Now = now.Add(3 * time.Hour)
	w.deliver(opts.Now)
	res, err := Tick(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != StatusFailed || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "older than the late lookback") || !strings.Contains(res.Problems[0], "2026-03-10") {
		t.Errorf("old late data: status %s, problems %q", res.Status, res.Problems)
	}
}

// TestEmptyWindowIsReported: a window in which a table a hunt reads has no rows is run and recorded, but
// the tick says that the hunt checked nothing, as a warning and in its status (the CLI exits 3).
func TestEmptyWindowIsReported(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 20, 12, 30, 0, 0, time.UTC)
	w := newWorld(t)
	last := w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", now.AddDate(0, 0, -3), now.AddDate(0, 0, -3)).at
	w.deliver(now)
	var logs bytes.Buffer
	h := loadHunt(t, "sched-stoplogging", "")
	res, err := Tick(ctx, Options{Lake: openLocalLake(t), Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{h}, Now: now,
		Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("no cloudtrail data in 2026-03-20T00:00Z..2026-03-20T12:00Z (newest: %s); hunt sched-stoplogging checked nothing", last.Format("2006-01-02T15:04Z"))
	if res.Status != StatusFailed || res.Failed != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], want) {
		t.Errorf("empty window: status %s, %d failed, problems %q; want failed with the problem %q", res.Status, res.Failed, res.Problems, want)
	}
	if len(res.Windows) != 1 || res.Windows[0].Status != "ok" || fmt.Sprint(res.Windows[0].NoData) != "[cloudtrail]" {
		t.Errorf("windows %+v: want the one window run, without cloudtrail data", res.Windows)
	}
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"run `) || !strings.Contains(logs.String(), want) {
		t.Errorf("the empty window was not logged as a warning:\n%s", logs.String())
	}
}

// TestLostLeaseStopsTheTick: a runner whose lease was taken over (it stalled past the TTL) stores no
// state; the new holder runs the window.
func TestLostLeaseStopsTheTick(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 2, 12, 30, 0, 0, time.UTC)
	w := newWorld(t)
	w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", now.Add(-2*time.Hour), now.Add(-time.Hour))
	w.deliver(now)
	lk := openLocalLake(t)
	hunt := loadHunt(t, "sched-stoplogging", "")
	stalled := Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{hunt}, Now: now, Owner: "stalled",
		Publish: func(ctx context.Context, dir string) error {
			// While this runner publishes, it stalls past its lease and another runner takes the lease over.
			return lake.PutBytes(ctx, lk.Store(), "_lakehunt/leases/"+LeaseName+".json",
				[]byte(`{"owner":"thief","token":"thief-token","since":"2026-03-02T12:30:00Z","expires":"2099-01-01T00:00:00Z"}`))
		}}
	if res, err := Tick(ctx, stalled); err == nil || !errors.Is(err, errLeaseLost) {
		t.Fatalf("tick that lost its lease: %+v, %v; want an error saying the lease was lost", res, err)
	}
	led, err := ReadLedger(ctx, lk.Store(), hunt.ID)
	if err != nil || len(led.Windows) != 0 || !led.LastEnd.IsZero() {
		t.Fatalf("the stalled runner recorded state after losing its lease: %+v %v", led, err)
	}
}

// TestPublishRefusalDoesNotStallTheHunt: findings that Security Hub refuses (wrong account, invalid input)
// are refused again on every retry, so they must not hold a hunt's windows back: the window is done,
// the tick reports the refusal, the next window runs. A transient publish failure (throttling, network)
// keeps the window due, and the next tick runs and publishes it again.
func TestPublishRefusalDoesNotStallTheHunt(t *testing.T) {
	ctx := context.Background()
	day0 := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	w := newWorld(t)
	for h := 0; h < 48; h += 2 {
		at := day0.Add(time.Duration(h)*time.Hour + 20*time.Minute)
		w.add("StopLogging", "arn:aws:iam::111122223333:role/ops-a", at, at.Add(10*time.Minute))
	}
	lk := openLocalLake(t)
	hunt := loadHunt(t, "sched-stoplogging", "")
	var publishErr error
	published := 0
	tick := func(now time.Time) *TickResult {
		t.Helper()
		w.deliver(now)
		res, err := Tick(ctx, Options{Lake: lk, Raw: []RawSource{{Store: rawStore(t, w.raw)}}, Hunts: []*huntfile.Hunt{hunt}, Now: now, Owner: "test",
			Publish: func(context.Context, string) error { published++; return publishErr }})
		if err != nil {
			t.Fatalf("tick at %s: %v", now, err)
		}
		return res
	}

	publishErr = fmt.Errorf("security hub: 3 findings were not imported: InvalidAccessException (%w)", ErrPublishRefused)
	res := tick(day0.Add(12*time.Hour + 30*time.Minute))
	if res.Status != StatusFailed || res.Failed != 0 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "publishing refused") {
		t.Errorf("refused publish: status %s, %d failed windows, problems %q; want the refusal reported as a problem, no failed window", res.Status, res.Failed, res.Problems)
	}
	led, _ := ReadLedger(ctx, lk.Store(), hunt.ID)
	if !led.LastEnd.Equal(day0.Add(12*time.Hour)) || len(led.Failures) != 0 {
		t.Fatalf("after a refused publish the window is not done: last end %s, failures %+v", led.LastEnd, led.Failures)
	}
	if len(res.Runs) != 1 || !strings.Contains(res.Runs[0].PublishError, "InvalidAccessException") {
		t.Errorf("the run's index entry does not keep the refusal: %+v", res.Runs)
	}
	res = tick(day0.Add(24*time.Hour + 30*time.Minute))
	if len(res.Windows) != 1 || !res.Windows[0].Start.Equal(day0.Add(12*time.Hour)) || res.Windows[0].Status != "ok" {
		t.Errorf("the next window did not run after a refusal: %+v", res.Windows)
	}

	publishErr = errors.New("security hub: ThrottlingException: gave up after 8 attempts")
	res = tick(day0.Add(36*time.Hour + 30*time.Minute))
	if res.Failed != 1 {
		t.Errorf("transient publish failure: %d failed windows, want 1 (it is retried)", res.Failed)
	}
	publishErr = nil
	before := published
	res = tick(day0.Add(37 * time.Hour))
	if len(res.Windows) != 1 || !res.Windows[0].Start.Equal(day0.Add(24*time.Hour)) || res.Windows[0].Status != "ok" || published != before+1 {
		t.Errorf("after a transient failure the window was not run and published again: %+v (published %d times)", res.Windows, published-before)
	}
}
