package scheduler

import (
	"context"
	"errors"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/schedule"
	"github.com/lakehunt/lakehunt/lake"
)

// StatusReport is what `lakehunt status` shows.
type StatusReport struct {
	Lake     string       `json:"lake"`
	Now      time.Time    `json:"now"`
	Lease    *LeaseInfo   `json:"lease,omitempty"`
	LastTick *TickRecord  `json:"last_tick,omitempty"`
	Hunts    []HuntStatus `json:"hunts"`
	Tables   []TableData  `json:"tables"`
}

// TableData is how much a lake table holds and how fresh its newest data is.
type TableData struct {
	lake.TableStats
	Age time.Duration `json:"age_ns,omitempty"` // Now - Newest
}

// LeaseInfo is the scheduler lease as stored.
type LeaseInfo struct {
	Owner   string    `json:"owner"`
	Since   time.Time `json:"since"`
	Expires time.Time `json:"expires"`
	Held    bool      `json:"held"` // unexpired now: leases run on the real clock, not on Now
}

// HuntStatus is one hunt's scheduling state.
type HuntStatus struct {
	ID       string `json:"id"`
	Version  int    `json:"version,omitempty"`
	Schedule string `json:"schedule,omitempty"`
	// Loaded is false for a hunt that has a ledger in the lake but is not among the loaded hunts.
	Loaded  bool      `json:"loaded"`
	LastEnd time.Time `json:"last_end,omitzero"` // the next due window starts here
	// Lag is how far LastEnd is behind the newest closed fire time (0 = up to date).
	Lag        time.Duration `json:"lag_ns"`
	NextDue    time.Time     `json:"next_due,omitzero"` // when the next window closes (or is already due)
	LastRunAt  time.Time     `json:"last_run_at,omitzero"`
	LastRunID  string        `json:"last_run_id,omitempty"`
	Windows    int           `json:"windows"`     // successful windows within the late lookback
	LateReruns int           `json:"late_reruns"` // re-runs for late data among them
	Gaps       []Window      `json:"gaps,omitempty"`
	Failures   []Failure     `json:"failures,omitempty"`
	Error      string        `json:"error,omitempty"` // e.g. an unparsable schedule
}

// ReadStatus reports the lease, the last tick and every hunt's ledger (loaded hunts first, then ledgers
// of hunts that are no longer loaded), as of now with the given window close delay.
func ReadStatus(ctx context.Context, lk *lake.Lake, hunts []*huntfile.Hunt, now time.Time, delay time.Duration) (*StatusReport, error) {
	if delay <= 0 {
		delay = DefaultDelay
	}
	st := lk.Store()
	rep := &StatusReport{Lake: lk.URL(), Now: now.UTC(), Hunts: []HuntStatus{}, Tables: []TableData{}}
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range lake.Tables() {
		td := TableData{TableStats: snap.Stats(t.Name)}
		if !td.Newest.IsZero() {
			td.Age = now.Sub(td.Newest)
		}
		rep.Tables = append(rep.Tables, td)
	}
	if owner, since, expires, err := lk.LeaseInfo(ctx, LeaseName); err == nil {
		rep.Lease = &LeaseInfo{Owner: owner, Since: since, Expires: expires, Held: time.Now().Before(expires)}
	} else if !errors.Is(err, lake.ErrNotFound) {
		return nil, err
	}
	if rep.LastTick, err = ReadTickRecord(ctx, st); err != nil {
		return nil, err
	}
	loaded := map[string]bool{}
	for _, h := range hunts {
		loaded[h.ID] = true
		led, err := ReadLedger(ctx, st, h.ID)
		if err != nil {
			return nil, err
		}
		hs := huntStatus(led)
		hs.Loaded, hs.Version, hs.Schedule = true, h.Version, h.Schedule
		sched, err := schedule.Parse(h.Schedule)
		if err != nil {
			hs.Error = err.Error()
		} else {
			closed := sched.Prev(now.Add(-delay))
			switch {
			case led.LastEnd.IsZero():
				hs.NextDue = now.UTC() // never ran: its first window is due at the next tick
			case closed.After(led.LastEnd):
				hs.Lag = closed.Sub(led.LastEnd)
				hs.NextDue = now.UTC() // behind: windows from LastEnd are due at the next tick
			default:
				hs.NextDue = sched.Next(led.LastEnd).Add(delay)
			}
		}
		rep.Hunts = append(rep.Hunts, hs)
	}
	var orphans []string
	err = st.List(ctx, ledgerPrefix, func(o lake.ObjectInfo) error {
		id := strings.TrimSuffix(path.Base(o.Key), ".json")
		if strings.HasSuffix(o.Key, ".json") && !loaded[id] {
			orphans = append(orphans, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(orphans)
	for _, id := range orphans {
		led, err := ReadLedger(ctx, st, id)
		if err != nil {
			return nil, err
		}
		rep.Hunts = append(rep.Hunts, huntStatus(led))
	}
	return rep, nil
}

func huntStatus(led *Ledger) HuntStatus {
	hs := HuntStatus{ID: led.HuntID, LastEnd: led.LastEnd, Windows: len(led.Windows), Gaps: led.Gaps(), Failures: led.Failures}
	for _, w := range led.Windows {
		hs.LateReruns += w.Runs - 1
		if w.RanAt.After(hs.LastRunAt) {
			hs.LastRunAt, hs.LastRunID = w.RanAt, w.RunID
		}
	}
	return hs
}
