// Package scheduler runs one scheduled tick (`lakehunt run --due`): under a lease in the lake so that only
// one runner works at a time, it compacts what is new, runs every hunt window that is due (contiguous,
// oldest first, bounded catch-up), re-runs past windows that received late data, writes run directories
// and a run index, and keeps each hunt's ledger in the lake so that any machine can run the next tick.
package scheduler

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/ti"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/schedule"
	"github.com/lakehunt/lakehunt/lake"
)

// ErrPublishRefused marks a publish error that a retry of the window cannot fix (see Options.Publish).
var ErrPublishRefused = errors.New("refused by the destination")

// Window is a half-open interval of event time.
type Window = schedule.Window

// LeaseName is the lease a tick holds in the lake.
const LeaseName = "scheduler"

// Defaults of Options.
const (
	DefaultDelay        = 15 * time.Minute
	DefaultMaxCatchUp   = 24
	DefaultLateLookback = 7 * 24 * time.Hour
	// DefaultLeaseTTL is short because nothing needs it long: the heartbeat renews the lease every third of
	// it, however long the tick and its windows take (a day's catch-up included), so it only has to outlast
	// one failed renewal. What it does bound is how long a killed tick blocks the others: 5 minutes is less
	// than the 15-minute cadence of the example schedules, so the next scheduled tick runs.
	DefaultLeaseTTL = 5 * time.Minute
)

// RawSource is one location of raw logs in the AWS delivery layout, compacted at the start of each tick.
type RawSource struct {
	Store    lake.Store
	Accounts []string            // only these accounts' objects; nil = all
	Sources  []string            // tables to fill; nil = all
	Prefixes map[string][]string // source -> prefixes of objects outside the AWSLogs/ layout (compact.Options.Prefixes)
	Settle   time.Duration       // local files modified less than this long ago wait for the next tick (compact.Options.Settle)
}

// TIFeed is a threat-intel feed re-imported at each tick (an unchanged feed commits nothing).
type TIFeed struct {
	Name    string
	Sources []ti.Source
}

// Options configures Tick.
type Options struct {
	Lake *lake.Lake
	// Raw is compacted before the hunts run; empty skips compaction.
	Raw     []RawSource
	TIFeeds []TIFeed
	Hunts   []*huntfile.Hunt
	// Now is the tick's clock reading (zero: time.Now). Tests and backfills pass a fake one; times taken
	// during the tick (ingested_at, run times) advance from it by the real elapsed time. The lease does
	// not use it: leases expire on the real clock, so a fake Now cannot make a live lease look expired.
	Now time.Time
	// Delay is how long after its end a window closes (late CloudTrail is usually in by then). Default 15m.
	Delay time.Duration
	// MaxCatchUp bounds, per hunt and tick, both the due windows and the late-data re-runs. Default 24.
	MaxCatchUp int
	// LateLookback is how far back late data re-opens windows. Default 7 days.
	LateLookback time.Duration
	// Runs is where run directories go; nil = the lake's store under _lakehunt/runs/.
	Runs lake.Store
	// Publish, if set, is called with each local run directory (run.json, findings.jsonl) before it is
	// stored: write report.html / asff.json into it, export to Security Hub. An error fails the hunts of
	// that run, so their windows run (and publish) again next tick; finding ids are stable, so that
	// updates rather than duplicates. An error wrapping ErrPublishRefused (the destination answered and
	// refused some findings: retrying cannot help) does not: the windows are done, the refusal is a
	// problem of the tick and stays in the run's index entry.
	Publish func(ctx context.Context, runDir string) error
	// LeaseTTL is how long the lease lasts without renewal (a crashed runner blocks others this long), on
	// the real clock. Default 5m; the lease is renewed before every window and every LeaseTTL/3.
	LeaseTTL time.Duration
	// Owner names this runner in the lease and the logs (default host/pid).
	Owner string
	// Organization and OrganizationID are passed to every run (engine.RunOptions).
	Organization   []string
	OrganizationID string
	// CacheDir keeps baseline day summaries between runs ("" = recompute).
	CacheDir string
	// Limits bounds each hunt's DuckDB session (engine.RunOptions).
	Limits      engine.Limits
	ToolVersion string
	GitRevision string
	Log         *slog.Logger
}

// Status is a tick's outcome.
type Status string

// Tick outcomes; the CLI maps each to an exit code.
const (
	StatusOK         Status = "ok"          // windows ran, none failed
	StatusNothingDue Status = "nothing-due" // no window was due or late
	StatusFailed     Status = "failed"      // some hunt window or publish failed, a window had no data, a TI import failed, or input was quarantined
	StatusBusy       Status = "busy"        // another tick holds the lease
	StatusError      Status = "error"       // the tick could not run (Tick also returns the error)
)

// TickResult is what a tick did.
type TickResult struct {
	Status     Status              `json:"status"`
	Owner      string              `json:"owner"`
	Now        time.Time           `json:"now"`
	Holder     string              `json:"holder,omitempty"` // StatusBusy: who holds the lease
	Compaction []*compact.Summary  `json:"compaction,omitempty"`
	TI         []*ti.ImportSummary `json:"ti,omitempty"`
	Windows    []WindowResult      `json:"windows"`
	Runs       []RunEntry          `json:"runs"`
	Failed     int                 `json:"failed"`
	// Problems are what went wrong besides hunt failures (quarantined input, TI import errors, late data
	// older than the lookback, hunts with a bad schedule, windows in which a table had no data).
	Problems []string `json:"problems,omitempty"`
}

// WindowResult is one hunt window run by the tick.
type WindowResult struct {
	HuntID   string    `json:"hunt_id"`
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Late     bool      `json:"late,omitempty"`      // a re-run for late data
	LateRows int64     `json:"late_rows,omitempty"` // late rows that re-opened it
	Status   string    `json:"status"`              // ok | failed
	Error    string    `json:"error,omitempty"`
	NoData   []string  `json:"no_data,omitempty"` // tables that had no rows in the window: the hunt checked nothing there
	Findings int       `json:"findings"`
	RunID    string    `json:"run_id,omitempty"`
}

type ticker struct {
	opts    Options
	started time.Time
	log     *slog.Logger
	lease   *lake.Lease
	leaseMu sync.Mutex
	db      *sql.DB
	res     *TickResult
	ledgers map[string]*ledgerFile
}

func (o *Options) defaults() error {
	if o.Lake == nil {
		return errors.New("no lake given: pass --lake DIR or s3://bucket/prefix")
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
	if o.Delay <= 0 {
		o.Delay = DefaultDelay
	}
	if o.MaxCatchUp <= 0 {
		o.MaxCatchUp = DefaultMaxCatchUp
	}
	if o.LateLookback <= 0 {
		o.LateLookback = DefaultLateLookback
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = DefaultLeaseTTL
	}
	if o.Owner == "" {
		host, _ := os.Hostname()
		o.Owner = fmt.Sprintf("%s/%d", host, os.Getpid())
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return nil
}

// Tick runs one scheduled tick. A tick that finds the lease held returns StatusBusy and does nothing.
// The error is for a tick that could not run (lake unreadable, compaction failed, lease lost); hunt
// failures are in the result.
func Tick(ctx context.Context, opts Options) (*TickResult, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	t := &ticker{opts: opts, started: time.Now(), log: opts.Log, ledgers: map[string]*ledgerFile{},
		res: &TickResult{Owner: opts.Owner, Now: opts.Now, Windows: []WindowResult{}, Runs: []RunEntry{}}}
	defer func() {
		if t.db != nil {
			t.db.Close()
		}
	}()
	lease, err := opts.Lake.AcquireLease(ctx, LeaseName, opts.Owner, opts.LeaseTTL)
	if errors.Is(err, lake.ErrLeaseHeld) {
		t.res.Status, t.res.Holder = StatusBusy, err.Error()
		t.log.Info("another tick is running", "lake", opts.Lake.URL(), "holder", err.Error())
		return t.res, nil
	}
	if err != nil {
		return nil, err
	}
	t.lease = lease
	ctx, stop := t.heartbeat(ctx)
	defer func() {
		stop()
		if err := lease.Release(context.WithoutCancel(ctx)); err != nil {
			t.log.Warn("could not release the lease; it expires by itself", "error", err.Error(), "expires", lease.Expires)
		}
	}()
	t.log.Info("tick started", "lake", opts.Lake.URL(), "now", opts.Now, "owner", opts.Owner, "hunts", len(opts.Hunts))
	if err := t.run(ctx); err != nil {
		if cause := context.Cause(ctx); errors.Is(cause, errLeaseLost) {
			err = cause
		}
		t.log.Error("tick could not run", "error", err.Error())
		t.res.Status, t.res.Problems = StatusError, append(t.res.Problems, err.Error())
		t.recordTick(context.WithoutCancel(ctx))
		return t.res, err
	}
	t.finish(ctx)
	return t.res, nil
}

// renew extends the lease (from the main loop between windows and from the heartbeat during long ones).
// The error wraps errLeaseLost if the lease was taken over or has expired; otherwise the renewal failed
// (S3 unreachable) but the lease is still ours until it expires.
func (t *ticker) renew(ctx context.Context) error {
	t.leaseMu.Lock()
	defer t.leaseMu.Unlock()
	err := t.lease.Renew(ctx, t.opts.LeaseTTL)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, lake.ErrLeaseHeld) || !time.Now().Before(t.lease.Expires):
		return fmt.Errorf("%w: %v", errLeaseLost, err)
	}
	return fmt.Errorf("renew the scheduler lease (held until %s): %w", t.lease.Expires.Format(time.RFC3339), err)
}

// heartbeat renews the lease every third of its TTL while the tick runs; if the lease is lost the
// tick's context is cancelled, so it stops before writing state another runner now owns.
func (t *ticker) heartbeat(ctx context.Context) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	done, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		tk := time.NewTicker(t.opts.LeaseTTL / 3)
		defer tk.Stop()
		for {
			select {
			case <-done:
				return
			case <-tk.C:
				err := t.renew(ctx)
				if err != nil && ctx.Err() == nil && !errors.Is(err, errLeaseLost) {
					t.log.Warn("could not renew the scheduler lease; trying again", "error", err.Error())
				} else if err != nil && ctx.Err() == nil {
					t.log.Error("lost the scheduler lease; stopping", "error", err.Error())
					cancel(err)
					return
				}
			}
		}
	}()
	return ctx, func() { close(done); <-exited; cancel(nil) }
}

// clock is the tick's Now advanced by the real time elapsed since the tick started.
func (t *ticker) clock() time.Time { return t.opts.Now.Add(time.Since(t.started)).UTC() }

func (t *ticker) problem(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	t.res.Problems = append(t.res.Problems, msg)
	t.log.Warn(msg)
}

func (t *ticker) run(ctx context.Context) error {
	before, err := t.opts.Lake.FileSnapshot(ctx)
	if err != nil {
		return err
	}
	if err := t.ingest(ctx); err != nil {
		return err
	}
	snap, err := t.opts.Lake.FileSnapshot(ctx)
	if err != nil {
		return err
	}
	t.reportTooLate(before, snap)
	groups, err := t.plan(ctx, snap)
	if err != nil {
		return err
	}
	for _, g := range groups {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("stopped before window %s: %w", fmtWindow(g.w), err)
		}
		if err := t.renew(ctx); err != nil {
			return err
		}
		if err := t.runGroup(ctx, snap, g); err != nil {
			return err
		}
	}
	return nil
}

// ingest imports the TI feeds and compacts the raw sources.
func (t *ticker) ingest(ctx context.Context) error {
	for _, f := range t.opts.TIFeeds {
		sum, err := ti.Import(ctx, t.opts.Lake, f.Name, f.Sources, t.clock())
		if err != nil {
			t.problem("threat-intel feed %s was not imported (hunts use its previous state): %v", f.Name, err)
			continue
		}
		t.res.TI = append(t.res.TI, sum)
		t.log.Info("threat-intel feed imported", "feed", f.Name, "changed", sum.Changed, "indicators", sum.Indicators, "new", sum.New, "closed", sum.Closed)
	}
	for _, r := range t.opts.Raw {
		sum, err := compact.Run(ctx, compact.Options{From: r.Store, Lake: t.opts.Lake, Accounts: r.Accounts, Sources: r.Sources, Prefixes: r.Prefixes, Settle: r.Settle, Now: t.clock, Log: t.log})
		if err != nil {
			return fmt.Errorf("compact %s into %s: %w", r.Store.URL(), t.opts.Lake.URL(), err)
		}
		t.res.Compaction = append(t.res.Compaction, sum)
		t.log.Info("compacted", "from", r.Store.URL(), "objects_read", sum.ObjectsRead, "records_written", sum.RecordsWritten,
			"duplicates_dropped", sum.DuplicatesDropped, "lake_version", sum.LakeVersion)
		if msg := sum.NothingFound(); msg != "" {
			t.problem("raw logs: %s", msg)
		}
		if sum.Incomplete() {
			t.problem("compaction of %s could not read %d objects (S3 or network errors); the next tick reads them", r.Store.URL(), sum.ObjectsFailed)
		}
		if sum.Quarantined() {
			t.problem("compaction of %s quarantined %d objects and %d records, %d consumed objects changed since; list them with 'lakehunt quarantine --lake %s'",
				r.Store.URL(), sum.ObjectsQuarantined, sum.RecordsQuarantined, sum.ObjectsChangedAfterConsumed, t.opts.Lake.URL())
		}
		if n := sum.ObjectsNotFiles; n > 0 {
			t.problem("%d entries under %s are not files and were not read, e.g. %s: %s", n, r.Store.URL(), sum.NotFiles[0].Key, sum.NotFiles[0].Reason)
		}
	}
	return nil
}

// reportTooLate names, per table, new data older than the late lookback: no window re-opens for it, so say so.
func (t *ticker) reportTooLate(before, after *lake.Snapshot) {
	var newest time.Time
	old := map[string]bool{}
	for _, f := range before.Files {
		old[f.Key] = true
		if f.MaxIngested.After(newest) {
			newest = f.MaxIngested
		}
	}
	cutoff := t.opts.Now.Add(-t.opts.LateLookback)
	type stale struct {
		partitions map[string]bool
		oldest     time.Time
	}
	byTable := map[string]*stale{}
	for _, f := range after.Files {
		tbl, err := lake.LookupTable(f.Table)
		if old[f.Key] || err != nil || !tbl.HasColumn("event_time") || !f.MaxIngested.After(newest) || !f.MinTime.Before(cutoff) {
			continue
		}
		s := byTable[f.Table]
		if s == nil {
			s = &stale{partitions: map[string]bool{}, oldest: f.MinTime}
			byTable[f.Table] = s
		}
		s.partitions[f.Partition()] = true
		if f.MinTime.Before(s.oldest) {
			s.oldest = f.MinTime
		}
	}
	for _, table := range slices.Sorted(maps.Keys(byTable)) {
		s := byTable[table]
		t.problem("%s: %d partitions received events older than the late lookback (%s), the oldest from %s: no scheduled window re-runs for them; hunt them with 'lakehunt hunt run --lake %s --from %s --to %s'",
			table, len(s.partitions), t.opts.LateLookback, s.oldest.Format(time.RFC3339), t.opts.Lake.URL(), s.oldest.Format(time.DateOnly), cutoff.Format(time.DateOnly))
	}
}

// item is one hunt window to run.
type item struct {
	hunt     *huntfile.Hunt
	late     bool
	lateRows int64
}

type group struct {
	w     Window
	items []item
}

// plan reads each hunt's ledger and lists its late windows and due windows, grouped by window (hunts
// with the same schedule share a run), oldest first.
func (t *ticker) plan(ctx context.Context, snap *lake.Snapshot) ([]*group, error) {
	byWindow := map[Window]*group{}
	add := func(w Window, it item) {
		g := byWindow[w]
		if g == nil {
			g = &group{w: w}
			byWindow[w] = g
		}
		g.items = append(g.items, it)
	}
	seen := map[string]bool{}
	for _, h := range t.opts.Hunts {
		if seen[h.ID] {
			return nil, fmt.Errorf("hunt id %s is loaded twice (%s): hunt ids must be unique", h.ID, h.File)
		}
		seen[h.ID] = true
		sched, err := schedule.Parse(h.Schedule)
		if err != nil {
			t.res.Failed++
			t.problem("hunt %s (%s) does not run: %v", h.ID, h.File, err)
			continue
		}
		lf, err := readLedger(ctx, t.opts.Lake.Store(), h.ID)
		if err != nil {
			return nil, err
		}
		lf.prune(t.opts.Now.Add(-lookback(h, t.opts.LateLookback)))
		t.ledgers[h.ID] = lf
		late, err := t.lateWindows(ctx, snap, h, &lf.Ledger)
		if err != nil {
			return nil, err
		}
		if len(late) > t.opts.MaxCatchUp {
			t.log.Info("late re-runs bounded; the rest run next tick", "hunt", h.ID, "late_windows", len(late), "max", t.opts.MaxCatchUp)
			late = late[:t.opts.MaxCatchUp]
		}
		for _, lw := range late {
			add(lw.Window, item{hunt: h, late: true, lateRows: lw.Rows})
		}
		due := t.dueWindows(sched, h, &lf.Ledger)
		for _, w := range due {
			add(w, item{hunt: h})
		}
		if n := len(due); n > 0 && !due[n-1].End.Equal(sched.Prev(t.opts.Now.Add(-t.opts.Delay))) {
			t.log.Info("catching up: more windows are due than one tick runs", "hunt", h.ID, "through", due[n-1].End, "max", t.opts.MaxCatchUp)
		}
	}
	groups := make([]*group, 0, len(byWindow))
	for _, g := range byWindow {
		groups = append(groups, g)
	}
	sort.Slice(groups, func(i, j int) bool {
		if !groups[i].w.Start.Equal(groups[j].w.Start) {
			return groups[i].w.Start.Before(groups[j].w.Start)
		}
		return groups[i].w.End.Before(groups[j].w.End)
	})
	return groups, nil
}

// dueWindows continues the hunt's chain of windows from LastEnd. A hunt whose very first window failed
// retries exactly that window (rather than a first window ending later), so no stretch is skipped.
func (t *ticker) dueWindows(sched *schedule.Schedule, h *huntfile.Hunt, led *Ledger) []Window {
	from := led.LastEnd
	var due []Window
	if from.IsZero() {
		for _, f := range led.Failures {
			if !f.Late {
				due, from = []Window{{Start: f.Start, End: f.End}}, f.End
				break
			}
		}
	}
	if from.IsZero() {
		return schedule.Due(sched, from, t.opts.Now, t.opts.Delay, h.Window.D(), t.opts.MaxCatchUp)
	}
	return append(due, schedule.Due(sched, from, t.opts.Now, t.opts.Delay, h.Window.D(), t.opts.MaxCatchUp-len(due))...)
}

// runGroup runs the hunts of one window, stores the run directory, then updates the ledgers: a window
// counts as done only once its run directory is stored (and published).
func (t *ticker) runGroup(ctx context.Context, snap *lake.Snapshot, g *group) error {
	var hs []*huntfile.Hunt
	var items []item
	anyLate := false
	for _, it := range g.items {
		if !it.late && t.blocked(it.hunt.ID) {
			continue // an earlier window of this hunt failed this tick: windows stay contiguous
		}
		hs, items = append(hs, it.hunt), append(items, it)
		anyLate = anyLate || it.late
	}
	if len(hs) == 0 {
		return nil
	}
	marks := map[string]map[string]time.Time{}
	for _, h := range hs {
		marks[h.ID] = watermarks(snap, h, g.w)
	}
	trigger := "schedule " + t.opts.Owner
	if anyLate {
		trigger += " (late data)"
	}
	run, findings, err := engine.Run(ctx, engine.RunOptions{Lake: t.opts.Lake, Hunts: hs, From: g.w.Start, To: g.w.End, Now: t.clock,
		CacheDir: t.opts.CacheDir, Trigger: trigger, ToolVersion: t.opts.ToolVersion, GitRevision: t.opts.GitRevision,
		Organization: t.opts.Organization, OrganizationID: t.opts.OrganizationID, Limits: t.opts.Limits, AllTables: true})
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		for _, it := range items {
			t.record(g.w, it, lake.HuntRun{ID: it.hunt.ID, Status: "failed", Error: err.Error()}, "", 0, nil, 0)
		}
		return t.writeLedgers(ctx, hs)
	}
	entry, perr := t.store(ctx, run, findings, items)
	if entry == nil {
		return perr // the run directory could not be stored: nothing is recorded, the windows stay due
	}
	if errors.Is(perr, ErrPublishRefused) {
		t.problem("run %s (%s): publishing refused, not retried: %v; the run is stored at %s, fix the cause and publish it again with 'lakehunt export securityhub --run DIR' or 'lakehunt export handoff --run DIR'",
			run.ID, fmtWindow(g.w), perr, entry.Location())
		perr = nil
	}
	for _, n := range engine.NoDataIn(run) {
		t.problem("run %s: %s", run.ID, n)
	}
	perFinding := map[string]int{}
	for _, f := range findings {
		perFinding[f.HuntID]++
	}
	for i, it := range items {
		hr := run.Hunts[i]
		if hr.ID != it.hunt.ID {
			return fmt.Errorf("internal error: run %s lists hunt %s where %s was expected", run.ID, hr.ID, it.hunt.ID)
		}
		if hr.Status == "ok" && perr != nil {
			hr.Status, hr.Error = "failed", "publish: "+perr.Error()
		}
		t.record(g.w, it, hr, run.ID, perFinding[hr.ID], marks[hr.ID], run.LakeVersion)
	}
	return t.writeLedgers(ctx, hs)
}

func (t *ticker) blocked(huntID string) bool {
	for _, r := range t.res.Windows {
		if r.HuntID == huntID && !r.Late && r.Status != "ok" {
			return true
		}
	}
	return false
}

// record notes one hunt window's outcome in the result and in the hunt's ledger (written by writeLedgers).
func (t *ticker) record(w Window, it item, hr lake.HuntRun, runID string, findings int, marks map[string]time.Time, lakeVersion int64) {
	r := WindowResult{HuntID: it.hunt.ID, Start: w.Start, End: w.End, Late: it.late, LateRows: it.lateRows, Status: hr.Status, Error: hr.Error,
		NoData: hr.NoData, Findings: findings, RunID: runID}
	led := &t.ledgers[it.hunt.ID].Ledger
	attrs := []any{"hunt", r.HuntID, "version", it.hunt.Version, "window_start", w.Start, "window_end", w.End, "late", it.late, "run_id", runID}
	if it.late {
		attrs = append(attrs, "late_rows", it.lateRows)
	}
	if hr.Status == "ok" {
		led.succeeded(WindowRun{Start: w.Start, End: w.End, HuntVersion: it.hunt.Version, RunID: runID, RanAt: t.clock(),
			LakeVersion: lakeVersion, Ingested: marks, Findings: findings}, it.late)
		t.log.Info("hunt window done", append(attrs, "findings", findings)...)
	} else {
		r.Status = "failed"
		t.res.Failed++
		led.failed(Failure{Start: w.Start, End: w.End, Late: it.late, At: t.clock(), RunID: runID, Error: hr.Error})
		t.log.Error("hunt window failed; it runs again next tick", append(attrs, "error", hr.Error)...)
	}
	t.res.Windows = append(t.res.Windows, r)
}

// writeLedgers stores the ledgers of hs. Renewing the lease first fences the write: a runner whose lease
// was taken over stops here instead of recording windows the new holder is running.
func (t *ticker) writeLedgers(ctx context.Context, hs []*huntfile.Hunt) error {
	if err := t.renew(ctx); err != nil {
		return err
	}
	for _, h := range hs {
		lf := t.ledgers[h.ID]
		lf.Updated = t.clock()
		if err := lf.write(ctx, t.opts.Lake.Store()); err != nil {
			return err
		}
	}
	return nil
}

// finish sets the status and records the tick in the lake.
func (t *ticker) finish(ctx context.Context) {
	switch {
	case t.res.Failed > 0 || len(t.res.Problems) > 0:
		t.res.Status = StatusFailed
	case len(t.res.Windows) == 0:
		t.res.Status = StatusNothingDue
	default:
		t.res.Status = StatusOK
	}
	t.recordTick(ctx)
	t.log.Info("tick finished", "status", string(t.res.Status), "windows", len(t.res.Windows), "failed", t.res.Failed,
		"runs", len(t.res.Runs), "problems", len(t.res.Problems), "seconds", time.Since(t.started).Seconds())
}

// recordTick stores what the tick did for 'lakehunt status'.
func (t *ticker) recordTick(ctx context.Context) {
	rec := TickRecord{Owner: t.opts.Owner, Now: t.opts.Now, FinishedAt: t.clock(), Status: t.res.Status,
		Windows: len(t.res.Windows), Failed: t.res.Failed, Problems: t.res.Problems}
	if err := writeTickRecord(ctx, t.opts.Lake.Store(), rec); err != nil {
		t.log.Warn("could not record the tick for 'lakehunt status'", "error", err.Error())
	}
}

func fmtWindow(w Window) string {
	return w.Start.UTC().Format(time.RFC3339) + " .. " + w.End.UTC().Format(time.RFC3339)
}
