// Package reports reads a hunt run directory (RUNDIR/run.json, RUNDIR/findings.jsonl) for the
// writers in its sub-packages: asff (ASFF files), securityhub (BatchImportFindings) and html (the report).
package reports

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// Files the writers add to a run directory.
const (
	ASFFFile   = "asff.json"
	ReportFile = "report.html"
)

// ReadRunDir reads the run and all its findings. The run's finding count must match findings.jsonl:
// a mismatch means the directory was cut short (a crash while writing) and reporting it would hide findings.
func ReadRunDir(dir string) (*lake.Run, []lake.Finding, error) {
	run, err := ReadRun(dir)
	if err != nil {
		return nil, nil, err
	}
	var findings []lake.Finding
	n, err := ScanFindings(dir, func(f lake.Finding) error {
		findings = append(findings, f)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if n != run.FindingCount {
		return nil, nil, fmt.Errorf("%s has %d findings but %s says %d: the run directory is incomplete; re-run the hunts with --out %s",
			filepath.Join(dir, lake.FindingsFile), n, filepath.Join(dir, lake.RunFile), run.FindingCount, dir)
	}
	return run, findings, nil
}

// ReadRun reads RUNDIR/run.json.
func ReadRun(dir string) (*lake.Run, error) {
	p := filepath.Join(dir, lake.RunFile)
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s not found: is %s a run directory written by `lakehunt hunt run --out`?", p, dir)
	}
	if err != nil {
		return nil, err
	}
	var run lake.Run
	if err := json.Unmarshal(b, &run); err != nil {
		return nil, fmt.Errorf("%s is not a valid run file: %v", p, err)
	}
	if run.ID == "" {
		return nil, fmt.Errorf("%s has no run id: it was not written by `lakehunt hunt run`", p)
	}
	return &run, nil
}

// ScanFindings calls fn for each finding in RUNDIR/findings.jsonl, in file order, without holding the
// file in memory; lines may be of any length (evidence rows can be large). It returns how many it read.
// A missing file means no findings.
func ScanFindings(dir string, fn func(lake.Finding) error) (int, error) {
	p := filepath.Join(dir, lake.FindingsFile)
	f, err := os.Open(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := bufio.NewReaderSize(f, 1<<16)
	n := 0
	for line := 1; ; line++ {
		b, err := r.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return n, fmt.Errorf("read %s line %d: %w", p, line, err)
		}
		if b = bytes.TrimSpace(b); len(b) > 0 {
			var fd lake.Finding
			if jerr := json.Unmarshal(b, &fd); jerr != nil {
				return n, fmt.Errorf("%s line %d is not a finding: %v; the file is damaged, re-run the hunts", p, line, jerr)
			}
			if fd.ID == "" || fd.HuntID == "" {
				return n, fmt.Errorf("%s line %d: finding without id or hunt_id; the file is damaged, re-run the hunts", p, line)
			}
			n++
			if ferr := fn(fd); ferr != nil {
				return n, ferr
			}
		}
		if err == io.EOF {
			return n, nil
		}
	}
}

// PreviousRunDir names the run directory the run in dir is compared with for "changes since the previous
// run": run.Previous (`hunt run --previous DIR`) if set, else the run directory beside dir (in the same
// parent, as scheduled runs are kept) that started last before this run. "" if there is none.
func PreviousRunDir(dir string, run *lake.Run) string {
	if run.Previous != "" {
		return run.Previous
	}
	parent := filepath.Dir(filepath.Clean(dir))
	entries, err := os.ReadDir(parent)
	if err != nil {
		return ""
	}
	best, bestStart := "", time.Time{}
	for _, e := range entries {
		p := filepath.Join(parent, e.Name())
		if !e.IsDir() || p == filepath.Clean(dir) {
			continue
		}
		r, err := ReadRun(p) // directories that are not runs are no candidates
		if err != nil || r.ID == run.ID || !r.StartedAt.Before(run.StartedAt) {
			continue
		}
		if best == "" || r.StartedAt.After(bestStart) {
			best, bestStart = p, r.StartedAt
		}
	}
	return best
}
