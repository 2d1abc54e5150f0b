// Package publish sends a run directory (RUNDIR/run.json, RUNDIR/findings.jsonl) to its outputs, each a
// Publisher: the files people and tools read (report.html, asff.json), Security Hub, and the hand-off
// services (Slack, Jira, a webhook, in the sub-packages).
package publish

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/html"
)

// HTML writes RUNDIR/report.html.
type HTML struct{}

func (HTML) Name() string { return reports.ReportFile }

func (HTML) Publish(_ context.Context, in Input) ([]lake.Sent, error) {
	path := filepath.Join(in.Dir, reports.ReportFile)
	if err := html.WriteFile(path, in.Run, in.Findings, html.ComparedWith(reports.PreviousRunDir(in.Dir, in.Run)), html.WithEntityPages(in.Dir)); err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return nil, nil
}

// ErrLeftOut marks an ASFF error that only some findings are missing from asff.json (see ASFF.LeftOut):
// the others are written.
var ErrLeftOut = errors.New("findings left out of " + reports.ASFFFile)

// ASFF writes RUNDIR/asff.json. Publish fills in what it did: a finding that cannot be ASFF is left out
// (listed in LeftOut and in run.json's asff_left_out, the error wraps ErrLeftOut); options that stop
// asff.json as a whole are an error without it.
type ASFF struct {
	Options asff.Options

	Path     string // asff.json's path; "" if not written
	Findings int    // the run's findings
	Warnings []asff.Warning
	LeftOut  []lake.LeftOut
}

func (a *ASFF) Name() string { return reports.ASFFFile }

func (a *ASFF) Publish(_ context.Context, in Input) ([]lake.Sent, error) {
	a.Findings = len(in.Findings)
	built, err := asff.Build(in.Run, in.Findings, a.Options)
	if err != nil {
		return nil, fmt.Errorf("not written: %w", err)
	}
	a.Warnings, a.LeftOut = built.Warnings, built.LeftOut
	if a.Path, err = WriteASFF(in.Dir, in.Run, built); err != nil {
		return nil, fmt.Errorf("not written: %w", err)
	}
	if len(a.LeftOut) > 0 {
		return nil, fmt.Errorf("%d of %d findings left out of %s (see asff_left_out in run.json) (%w)", len(a.LeftOut), a.Findings, reports.ASFFFile, ErrLeftOut)
	}
	return nil, nil
}

// Result says what Write wrote.
type Result struct {
	Report   string // path of report.html
	ASFF     string // path of asff.json; "" if it could not be built
	Findings int
	Warnings []asff.Warning // what ASFF made Build shorten or drop
	// LeftOut are the findings asff.json does not hold, and why (also in run.json's asff_left_out).
	LeftOut []lake.LeftOut
}

// Write publishes the run in dir to its files: asff.json (ASFF) and report.html (HTML). A finding that
// cannot be ASFF is left out of asff.json and listed in Result.LeftOut and run.json; the error is for what
// stops asff.json as a whole (wrong options: the report is still written) or the report.
func Write(dir string, opts asff.Options) (Result, error) {
	a := &ASFF{Options: opts}
	outs, err := Run(context.Background(), dir, []Publisher{a, HTML{}}, Options{})
	if err != nil {
		return Result{}, err
	}
	if outs[1].Err != nil {
		return Result{}, outs[1].Err
	}
	res := Result{Report: filepath.Join(dir, reports.ReportFile), ASFF: a.Path, Findings: a.Findings, Warnings: a.Warnings, LeftOut: a.LeftOut}
	if outs[0].Err != nil && !errors.Is(outs[0].Err, ErrLeftOut) {
		return res, fmt.Errorf("%s %w", reports.ASFFFile, outs[0].Err)
	}
	return res, nil
}

// WriteASFF writes built's findings to RUNDIR/asff.json and records the findings it leaves out in
// RUNDIR/run.json, so run.json always describes the asff.json beside it. It returns the file's path.
func WriteASFF(dir string, run *lake.Run, built asff.Built) (string, error) {
	path := filepath.Join(dir, reports.ASFFFile)
	if err := asff.WriteFile(path, built.Findings); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	if !slices.Equal(run.ASFFLeftOut, built.LeftOut) {
		run.ASFFLeftOut = built.LeftOut
		if err := lake.WriteRunFile(dir, run); err != nil {
			return "", fmt.Errorf("record the findings %s leaves out in %s: %w", reports.ASFFFile, lake.RunFile, err)
		}
	}
	return path, nil
}
