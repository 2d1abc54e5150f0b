// Package diff answers a hunt reviewer's question "what would this change find?": it runs the base and
// the changed version of every hunt whose content differs over the same window of the lake and compares
// their findings by finding id. Hunts run as in 'hunt run' (one locked DuckDB session each, nothing
// written to the lake, no baseline cache), so a hostile hunt in a pull request is held to the same
// sandbox as a scheduled one.
package diff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// Options configures Run.
type Options struct {
	Lake *lake.Lake
	// Base and Head are the hunts before and after the change.
	Base, Head []*huntfile.Hunt
	// From and To are the one window every hunt runs over.
	From, To time.Time
	// Budget bounds the whole diff (0: none). Hunts not started when it runs out are reported as not run.
	Budget       time.Duration
	Limits       engine.Limits
	Organization []string
}

// The kinds of change of a hunt.
const (
	Changed = "changed"
	New     = "new"
	Deleted = "deleted"
)

// Report is the diff of a whole hunts directory.
type Report struct {
	Lake        string    `json:"lake"`
	LakeVersion int64     `json:"lake_version"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// Hunts are the changed, new and deleted hunts, by id.
	Hunts []Hunt `json:"hunts"`
	// Unchanged are the ids of hunts whose content hash is the same on both sides: they were not run.
	Unchanged []string `json:"unchanged"`
	// Failed counts the hunt runs (either side) that failed or were not run within the budget.
	Failed int `json:"failed"`
}

// Hunt is one hunt's difference.
type Hunt struct {
	ID     string `json:"id"`
	Change string `json:"change"` // changed | new | deleted
	Title  string `json:"title"`
	Base   *Side  `json:"base,omitempty"` // nil for a new hunt
	Head   *Side  `json:"head,omitempty"` // nil for a deleted hunt
	// Added are found by the head only, Removed by the base only (every finding of a new or deleted hunt),
	// Unchanged by both (by finding id); SeverityChanges are the unchanged ones whose severity differs.
	Added           []Finding        `json:"added"`
	Removed         []Finding        `json:"removed"`
	Unchanged       []Finding        `json:"unchanged"`
	SeverityChanges []SeverityChange `json:"severity_changes"`
}

// Side is one version's run of a hunt.
type Side struct {
	Version        int      `json:"version"`
	ContentHash    string   `json:"content_hash"`
	Status         string   `json:"status"` // ok | failed | skipped | not run
	Error          string   `json:"error,omitempty"`
	Findings       int      `json:"findings"`
	DurationMillis int64    `json:"duration_ms"`
	RowsScanned    int64    `json:"rows_scanned"` // rows of the tables it reads in the window
	NoData         []string `json:"no_data,omitempty"`
}

// Finding is what a reviewer needs of a finding to judge it.
type Finding struct {
	ID        string `json:"id"`
	Severity  string `json:"severity"`
	Title     string `json:"title"`
	Entity    string `json:"entity"`
	AccountID string `json:"account_id,omitempty"`
	Count     int64  `json:"count"`
}

// SeverityChange is a finding both versions report, at different severities.
type SeverityChange struct {
	Finding
	From string `json:"from"`
}

// Run runs the base and head versions of every hunt that differs and compares their findings. The error
// is for a diff that could not start (no lake, an empty window); a hunt that fails is in its Side.
func Run(ctx context.Context, opts Options) (*Report, error) {
	if opts.Lake == nil {
		return nil, errors.New("no lake given: pass --lake DIR or s3://bucket/prefix")
	}
	if !opts.From.Before(opts.To) {
		return nil, fmt.Errorf("empty window: %s is not before %s", opts.From.Format(time.RFC3339), opts.To.Format(time.RFC3339))
	}
	snap, err := opts.Lake.FileSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	if snap.Version == 0 {
		return nil, fmt.Errorf("%s has no commits: not a lake yet (check --lake)", opts.Lake.URL())
	}
	if opts.Budget > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Budget)
		defer cancel()
	}
	rep := &Report{Lake: opts.Lake.URL(), LakeVersion: snap.Version, WindowStart: opts.From.UTC(), WindowEnd: opts.To.UTC(),
		Hunts: []Hunt{}, Unchanged: []string{}}
	base, head := byID(opts.Base), byID(opts.Head)
	ids := slices.Sorted(func(yield func(string) bool) {
		for id := range base {
			if !yield(id) {
				return
			}
		}
		for id := range head {
			if _, both := base[id]; !both && !yield(id) {
				return
			}
		}
	})
	for _, id := range ids {
		b, h := base[id], head[id]
		if b != nil && h != nil && b.ContentHash() == h.ContentHash() {
			rep.Unchanged = append(rep.Unchanged, id)
			continue
		}
		d := Hunt{ID: id, Added: []Finding{}, Removed: []Finding{}, Unchanged: []Finding{}, SeverityChanges: []SeverityChange{}}
		var bf, hf []lake.Finding
		switch {
		case b == nil:
			d.Change, d.Title = New, h.Title
		case h == nil:
			d.Change, d.Title = Deleted, b.Title
		default:
			d.Change, d.Title = Changed, h.Title
		}
		if b != nil {
			d.Base, bf = runSide(ctx, opts, b)
		}
		if h != nil {
			d.Head, hf = runSide(ctx, opts, h)
		}
		for _, s := range []*Side{d.Base, d.Head} {
			if s != nil && (s.Status == "failed" || s.Status == "not run") {
				rep.Failed++
			}
		}
		compare(&d, bf, hf)
		rep.Hunts = append(rep.Hunts, d)
	}
	return rep, nil
}

func byID(hs []*huntfile.Hunt) map[string]*huntfile.Hunt {
	m := map[string]*huntfile.Hunt{}
	for _, h := range hs {
		m[h.ID] = h
	}
	return m
}

// runSide runs one version of a hunt over the window.
func runSide(ctx context.Context, opts Options, h *huntfile.Hunt) (*Side, []lake.Finding) {
	s := &Side{Version: h.Version, ContentHash: h.ContentHash()}
	if err := ctx.Err(); err != nil {
		s.Status, s.Error = "not run", budgetMessage(err, opts.Budget)
		return s, nil
	}
	run, findings, err := engine.Run(ctx, engine.RunOptions{Lake: opts.Lake, Hunts: []*huntfile.Hunt{h},
		From: opts.From, To: opts.To, Now: func() time.Time { return opts.To }, Trigger: "hunt diff",
		Limits: opts.Limits, Organization: opts.Organization})
	if err != nil {
		s.Status, s.Error = "failed", err.Error()
		if ctx.Err() != nil {
			s.Error = budgetMessage(ctx.Err(), opts.Budget)
		}
		return s, nil
	}
	hr := run.Hunts[0]
	s.Status, s.Error, s.Findings, s.DurationMillis, s.NoData = hr.Status, hr.Error, hr.Findings, hr.DurationMillis, hr.NoData
	if hr.Status == "skipped" {
		s.Error = hr.SkipReason
	}
	if hr.Status == "failed" && ctx.Err() != nil {
		s.Error = budgetMessage(ctx.Err(), opts.Budget) + ": " + hr.Error
	}
	for _, c := range run.Coverage {
		s.RowsScanned += c.Rows
	}
	return s, findings
}

func budgetMessage(err error, budget time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) && budget > 0 {
		return fmt.Sprintf("the diff's time budget (--budget %s) ran out; give a longer --budget or a shorter window", budget)
	}
	return err.Error()
}

// compare fills the finding lists of d from the two versions' findings.
func compare(d *Hunt, base, head []lake.Finding) {
	old := map[string]lake.Finding{}
	for _, f := range base {
		old[f.ID] = f
	}
	seen := map[string]bool{}
	for _, f := range head {
		seen[f.ID] = true
		b, ok := old[f.ID]
		switch {
		case !ok:
			d.Added = append(d.Added, brief(f))
		case b.Severity != f.Severity:
			d.SeverityChanges = append(d.SeverityChanges, SeverityChange{Finding: brief(f), From: b.Severity})
			d.Unchanged = append(d.Unchanged, brief(f))
		default:
			d.Unchanged = append(d.Unchanged, brief(f))
		}
	}
	for _, f := range base {
		if !seen[f.ID] {
			d.Removed = append(d.Removed, brief(f))
		}
	}
	for _, l := range [][]Finding{d.Added, d.Removed, d.Unchanged} {
		sortFindings(l)
	}
	sort.SliceStable(d.SeverityChanges, func(i, j int) bool {
		return lake.SeverityRank(d.SeverityChanges[i].Severity) > lake.SeverityRank(d.SeverityChanges[j].Severity)
	})
}

// sortFindings puts the most severe first, then by entity: the examples a reviewer sees first.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		ri, rj := lake.SeverityRank(fs[i].Severity), lake.SeverityRank(fs[j].Severity)
		if ri != rj {
			return ri > rj
		}
		return strings.Compare(fs[i].Entity, fs[j].Entity) < 0
	})
}

func brief(f lake.Finding) Finding {
	return Finding{ID: f.ID, Severity: f.Severity, Title: f.Title, Entity: f.Entity.Key, AccountID: f.AccountID, Count: f.Count}
}
