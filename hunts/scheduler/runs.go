package scheduler

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
)

// Run directories and their index. Each window group of a tick is one run (one hunts run over one window),
// stored as a run directory: run.json, findings.jsonl and whatever Publish added (report.html, asff.json).
// The index has one small object per run, named so that a period's runs are found by listing alone:
//
//	_lakehunt/runs/index/<window start>_<window end>_<run id>.json   (times as 20060102T150405Z)
const (
	RunsPrefix  = lake.MetaPrefix + "runs/"
	indexPrefix = RunsPrefix + "index/"
	stampLayout = "20060102T150405Z"
)

// RunEntry is one stored run directory.
type RunEntry struct {
	ID string `json:"id"`
	// Store is the URL of the store holding the run directory, Dir its key prefix there (ends in '/').
	Store       string    `json:"store"`
	Dir         string    `json:"dir"`
	Owner       string    `json:"owner"`
	StartedAt   time.Time `json:"started_at"`
	FinishedAt  time.Time `json:"finished_at"`
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	LakeVersion int64     `json:"lake_version"`
	Hunts       []string  `json:"hunts"`
	Failed      []string  `json:"failed,omitempty"`
	Late        []string  `json:"late,omitempty"` // hunts that re-ran the window for late data
	Findings    int       `json:"findings"`
	// PublishError is why publishing failed: the run's hunts run the window again next tick, unless the
	// destination refused findings (ErrPublishRefused), which a retry cannot fix.
	PublishError string `json:"publish_error,omitempty"`
}

// Location is where the run directory is, for messages.
func (e RunEntry) Location() string { return strings.TrimSuffix(e.Store, "/") + "/" + e.Dir }

func indexKey(e RunEntry) string {
	return indexPrefix + e.WindowStart.UTC().Format(stampLayout) + "_" + e.WindowEnd.UTC().Format(stampLayout) + "_" + e.ID + ".json"
}

// store writes the run directory locally, publishes it, copies it to the runs store and indexes it.
// A nil entry means nothing was stored (the error says why); an entry with an error means the run is
// stored but publishing failed.
func (t *ticker) store(ctx context.Context, run *lake.Run, findings []lake.Finding, items []item) (*RunEntry, error) {
	tmp, err := os.MkdirTemp("", "lakehunt-run-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(tmp, run.ID)
	if err := engine.WriteRunDir(dir, run, findings); err != nil {
		return nil, err
	}
	var perr error
	if t.opts.Publish != nil {
		if perr = t.opts.Publish(ctx, dir); errors.Is(perr, ErrPublishRefused) {
			t.log.Error("publishing refused; the windows are done and not retried", "run_id", run.ID, "error", perr.Error())
		} else if perr != nil {
			t.log.Error("publishing failed; the run's windows run again next tick", "run_id", run.ID, "error", perr.Error())
		}
	}
	st, prefix := t.opts.Runs, ""
	if st == nil {
		st, prefix = t.opts.Lake.Store(), RunsPrefix
	}
	e := RunEntry{ID: run.ID, Store: st.URL(), Dir: prefix + run.ID + "/", Owner: t.opts.Owner, StartedAt: run.StartedAt,
		FinishedAt: run.FinishedAt, WindowStart: run.WindowStart, WindowEnd: run.WindowEnd, LakeVersion: run.LakeVersion, Findings: len(findings)}
	if perr != nil {
		e.PublishError = perr.Error()
	}
	for i, hr := range run.Hunts {
		e.Hunts = append(e.Hunts, hr.ID)
		if hr.Status != "ok" {
			e.Failed = append(e.Failed, hr.ID)
		}
		if i < len(items) && items[i].late {
			e.Late = append(e.Late, hr.ID)
		}
	}
	if err := uploadDir(ctx, st, dir, e.Dir); err != nil {
		return nil, fmt.Errorf("store run directory %s: %w", e.Location(), err)
	}
	b, err := json.MarshalIndent(e, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := lake.PutBytes(ctx, t.opts.Lake.Store(), indexKey(e), append(b, '\n')); err != nil {
		return nil, fmt.Errorf("index run %s: %w", run.ID, err)
	}
	t.res.Runs = append(t.res.Runs, e)
	t.log.Info("run stored", "run_id", e.ID, "location", e.Location(), "window_start", e.WindowStart, "window_end", e.WindowEnd,
		"hunts", len(e.Hunts), "failed", len(e.Failed), "late", len(e.Late), "findings", e.Findings)
	return &e, perr
}

// uploadDir copies the files of dir and of its folders (entities/) to prefix, run.json last: a run
// directory without run.json is incomplete.
func uploadDir(ctx context.Context, st lake.Store, dir, prefix string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case p == dir:
		case strings.HasPrefix(d.Name(), "."):
			if d.IsDir() {
				return filepath.SkipDir
			}
		case d.Type().IsRegular() && rel != lake.RunFile:
			names = append(names, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		return err
	}
	names = append(names, lake.RunFile)
	for _, n := range names {
		if err := lake.PutFile(ctx, st, prefix+n, filepath.Join(dir, filepath.FromSlash(n))); err != nil {
			return err
		}
	}
	return nil
}

// ListRuns returns the index entries of the runs whose window overlaps [from, to) (zero = unbounded),
// ordered by window start.
func ListRuns(ctx context.Context, lk *lake.Lake, from, to time.Time) ([]RunEntry, error) {
	var keys []string
	err := lk.Store().List(ctx, indexPrefix, func(o lake.ObjectInfo) error {
		name := strings.TrimSuffix(path.Base(o.Key), ".json")
		parts := strings.SplitN(name, "_", 3)
		if len(parts) != 3 {
			return nil // not an index entry
		}
		ws, err1 := time.Parse(stampLayout, parts[0])
		we, err2 := time.Parse(stampLayout, parts[1])
		if err1 != nil || err2 != nil {
			return nil
		}
		if (!to.IsZero() && !ws.Before(to)) || (!from.IsZero() && !we.After(from)) {
			return nil
		}
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list the run index of %s: %w", lk.URL(), err)
	}
	out := make([]RunEntry, len(keys))
	err = parallel(ctx, len(keys), func(i int) error {
		b, err := lake.ReadAll(ctx, lk.Store(), keys[i])
		if err != nil {
			return fmt.Errorf("read run index entry %s: %w", keys[i], err)
		}
		if err := json.Unmarshal(b, &out[i]); err != nil || out[i].ID == "" {
			return fmt.Errorf("run index entry %s in %s is damaged (%v): delete it, the run directory itself is unaffected", keys[i], lk.URL(), err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// parallel calls fn(0..n-1) on up to 8 goroutines (S3 round trips dominate) and returns the first error.
func parallel(ctx context.Context, n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		sem   = make(chan struct{}, 8)
	)
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := fn(i); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// StoredRun is a run directory read back from its store.
type StoredRun struct {
	Entry    RunEntry
	Run      *lake.Run
	Findings []lake.Finding
}

// ReadRun reads the run directory of e from st.
func ReadRun(ctx context.Context, st lake.Store, e RunEntry) (*StoredRun, error) {
	b, err := lake.ReadAll(ctx, st, e.Dir+lake.RunFile)
	if errors.Is(err, lake.ErrNotFound) {
		return nil, fmt.Errorf("run %s is in the index but %s%s is missing: the run directory was deleted or never completed", e.ID, e.Location(), lake.RunFile)
	}
	if err != nil {
		return nil, err
	}
	var run lake.Run
	if err := json.Unmarshal(b, &run); err != nil || run.ID == "" {
		return nil, fmt.Errorf("%s%s is not a valid run file (%v)", e.Location(), lake.RunFile, err)
	}
	sr := &StoredRun{Entry: e, Run: &run}
	rc, err := st.Open(ctx, e.Dir+lake.FindingsFile)
	if err != nil && !errors.Is(err, lake.ErrNotFound) {
		return nil, err
	}
	if err == nil {
		defer rc.Close()
		if sr.Findings, err = scanFindings(rc, e.Location()+lake.FindingsFile); err != nil {
			return nil, err
		}
	}
	if len(sr.Findings) != run.FindingCount {
		return nil, fmt.Errorf("%s%s has %d findings but run.json says %d: the run directory is incomplete",
			e.Location(), lake.FindingsFile, len(sr.Findings), run.FindingCount)
	}
	return sr, nil
}

func scanFindings(r io.Reader, name string) ([]lake.Finding, error) {
	br := bufio.NewReaderSize(r, 1<<16)
	var out []lake.Finding
	for line := 1; ; line++ {
		b, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, fmt.Errorf("read %s line %d: %w", name, line, err)
		}
		if b = bytes.TrimSpace(b); len(b) > 0 {
			var f lake.Finding
			if jerr := json.Unmarshal(b, &f); jerr != nil || f.ID == "" {
				return nil, fmt.Errorf("%s line %d is not a finding (%v): the run directory is damaged", name, line, jerr)
			}
			out = append(out, f)
		}
		if err == io.EOF {
			return out, nil
		}
	}
}
