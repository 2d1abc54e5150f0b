package scheduler

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// StatePrefix holds the scheduler's state in the lake, so that any machine can run the next tick:
//
//	_lakehunt/state/hunts/<hunt id>.json   one Ledger per hunt
//	_lakehunt/state/tick.json              the last tick's TickRecord
//	_lakehunt/runs/<run id>/...            run directories (unless Options.Runs puts them elsewhere)
//	_lakehunt/runs/index/...               the run index (one small object per run directory)
const (
	StatePrefix  = lake.MetaPrefix + "state/"
	ledgerPrefix = StatePrefix + "hunts/"
	tickKey      = StatePrefix + "tick.json"
)

// Ledger is one hunt's scheduling state.
type Ledger struct {
	HuntID string `json:"hunt_id"`
	// LastEnd is the end of the last window of the contiguous chain of successful windows: the next due
	// window starts exactly here.
	LastEnd time.Time `json:"last_end,omitzero"`
	// Windows are the successful windows whose end is within the late lookback, oldest first; older ones
	// are dropped (late data for them is reported, not hunted).
	Windows []WindowRun `json:"windows"`
	// Failures are windows whose last attempt failed and that have not succeeded since.
	Failures []Failure `json:"failures,omitempty"`
	Updated  time.Time `json:"updated"`
}

// WindowRun is one successful window of a hunt.
type WindowRun struct {
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	HuntVersion int       `json:"hunt_version"`
	RunID       string    `json:"run_id"`
	RanAt       time.Time `json:"ran_at"`
	LakeVersion int64     `json:"lake_version"`
	// Ingested is, per table the hunt reads, the newest ingested_at among the lake files the run could see
	// for this window: rows of the window ingested after it arrived late and re-open the window.
	Ingested map[string]time.Time `json:"ingested,omitempty"`
	Findings int                  `json:"findings"`
	// Runs counts how often the window ran: 1, plus one per late-data re-run.
	Runs int `json:"runs"`
}

// Failure is a window whose last attempt failed.
type Failure struct {
	Start    time.Time `json:"start"`
	End      time.Time `json:"end"`
	Late     bool      `json:"late,omitempty"` // a late-data re-run failed (the window had succeeded before)
	At       time.Time `json:"at"`
	Attempts int       `json:"attempts"`
	RunID    string    `json:"run_id,omitempty"`
	Error    string    `json:"error"`
}

func ledgerKey(huntID string) string { return ledgerPrefix + huntID + ".json" }

// ledgerFile is a ledger as read, with the ETag its conditional write must match ("" = not stored yet).
type ledgerFile struct {
	Ledger
	etag string
}

// ReadLedger reads a hunt's ledger; a hunt that never ran has an empty one.
func ReadLedger(ctx context.Context, st lake.Store, huntID string) (*Ledger, error) {
	lf, err := readLedger(ctx, st, huntID)
	if err != nil {
		return nil, err
	}
	return &lf.Ledger, nil
}

func readLedger(ctx context.Context, st lake.Store, huntID string) (*ledgerFile, error) {
	key := ledgerKey(huntID)
	info, err := st.Stat(ctx, key)
	if errors.Is(err, lake.ErrNotFound) {
		return &ledgerFile{Ledger: Ledger{HuntID: huntID}}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read scheduler state of hunt %s: %w", huntID, err)
	}
	b, err := lake.ReadAll(ctx, st, key)
	if err != nil {
		return nil, fmt.Errorf("read scheduler state of hunt %s: %w", huntID, err)
	}
	lf := &ledgerFile{etag: info.ETag}
	if err := json.Unmarshal(b, &lf.Ledger); err != nil {
		return nil, fmt.Errorf("%s in the lake is damaged (%v): fix it, or delete it and the hunt starts over with one window of its length", key, err)
	}
	if lf.HuntID != huntID {
		return nil, fmt.Errorf("%s belongs to hunt %q, not %q: restore it from the object's history", key, lf.HuntID, huntID)
	}
	return lf, nil
}

// write stores the ledger only if nobody changed it since it was read (If-Match / If-None-Match): a
// runner that lost its lease cannot overwrite the state of the runner that took over.
func (lf *ledgerFile) write(ctx context.Context, st lake.Store) error {
	key := ledgerKey(lf.HuntID)
	b, err := json.MarshalIndent(&lf.Ledger, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if lf.etag == "" {
		err = st.Create(ctx, key, b)
	} else {
		err = st.ReplaceIf(ctx, key, b, lf.etag)
	}
	if errors.Is(err, lake.ErrExists) {
		return fmt.Errorf("%w: %s changed under this runner", errLeaseLost, key)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	info, err := st.Stat(ctx, key)
	if err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	lf.etag = info.ETag
	return nil
}

var errLeaseLost = errors.New("the scheduler lease was lost")

// succeeded records a successful run of w. A due window extends the contiguous chain; a late re-run
// replaces the window's record.
func (l *Ledger) succeeded(w WindowRun, late bool) {
	l.clearFailure(w.Start, w.End)
	for i := range l.Windows {
		if l.Windows[i].Start.Equal(w.Start) && l.Windows[i].End.Equal(w.End) {
			w.Runs = l.Windows[i].Runs + 1
			l.Windows[i] = w
			return
		}
	}
	w.Runs = 1
	l.Windows = append(l.Windows, w)
	sort.Slice(l.Windows, func(i, j int) bool { return l.Windows[i].Start.Before(l.Windows[j].Start) })
	if !late && w.End.After(l.LastEnd) {
		l.LastEnd = w.End
	}
}

func (l *Ledger) failed(f Failure) {
	for i := range l.Failures {
		if l.Failures[i].Start.Equal(f.Start) && l.Failures[i].End.Equal(f.End) {
			f.Attempts = l.Failures[i].Attempts + 1
			l.Failures[i] = f
			return
		}
	}
	f.Attempts = 1
	l.Failures = append(l.Failures, f)
	sort.Slice(l.Failures, func(i, j int) bool { return l.Failures[i].Start.Before(l.Failures[j].Start) })
}

func (l *Ledger) clearFailure(start, end time.Time) {
	keep := l.Failures[:0]
	for _, f := range l.Failures {
		if !(f.Start.Equal(start) && f.End.Equal(end)) {
			keep = append(keep, f)
		}
	}
	l.Failures = keep
}

// prune drops window records that ended before cutoff: late data for them is no longer hunted.
func (l *Ledger) prune(cutoff time.Time) {
	keep := l.Windows[:0]
	for _, w := range l.Windows {
		if w.End.After(cutoff) {
			keep = append(keep, w)
		}
	}
	l.Windows = keep
}

// Gaps returns the stretches between recorded successful windows (oldest first). A healthy ledger has none.
func (l *Ledger) Gaps() []Window {
	var out []Window
	for i := 1; i < len(l.Windows); i++ {
		if prev, w := l.Windows[i-1], l.Windows[i]; !prev.End.Equal(w.Start) {
			out = append(out, Window{Start: prev.End, End: w.Start})
		}
	}
	return out
}

// TickRecord is what the last tick did, for `lakehunt status`.
type TickRecord struct {
	Owner      string    `json:"owner"`
	Now        time.Time `json:"now"` // the tick's clock reading (--now)
	FinishedAt time.Time `json:"finished_at"`
	Status     Status    `json:"status"`
	Windows    int       `json:"windows"`
	Failed     int       `json:"failed"`
	Problems   []string  `json:"problems,omitempty"`
}

func writeTickRecord(ctx context.Context, st lake.Store, r TickRecord) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return st.Put(ctx, tickKey, bytes.NewReader(append(b, '\n')), int64(len(b)+1))
}

// ReadTickRecord reads the last tick's record; nil when no tick has run.
func ReadTickRecord(ctx context.Context, st lake.Store) (*TickRecord, error) {
	b, err := lake.ReadAll(ctx, st, tickKey)
	if errors.Is(err, lake.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var r TickRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s is damaged: %v", tickKey, err)
	}
	return &r, nil
}
