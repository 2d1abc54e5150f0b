// Package publish writes a run directory's outputs for people and tools: RUNDIR/report.html and
// RUNDIR/asff.json, from RUNDIR/run.json and RUNDIR/findings.jsonl.
package publish

import (
	"fmt"
	"path/filepath"
	"slices"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/html"
)

// Result says what Write wrote.
type Result struct {
	Report   string // path of report.html
	ASFF     string // path of asff.json; "" if it could not be built
	Findings int
	Warnings []asff.Warning // what ASFF made Build shorten or drop
	// LeftOut are the findings asff.json does not hold, and why (also in run.json's asff_left_out).
	LeftOut []lake.LeftOut
}

// Write renders the report and the ASFF file of the run in dir. A finding that cannot be ASFF is left
// out of asff.json and listed in Result.LeftOut and run.json; the error is for what stops asff.json as
// a whole (wrong options: the report is still written) or the report.
func Write(dir string, opts asff.Options) (Result, error) {
	run, findings, err := reports.ReadRunDir(dir)
	if err != nil {
		return Result{}, err
	}
	res := Result{Report: filepath.Join(dir, reports.ReportFile), Findings: len(findings)}
	built, aerr := asff.Build(run, findings, opts)
	if aerr == nil {
		res.Warnings, res.LeftOut = built.Warnings, built.LeftOut
		res.ASFF, aerr = WriteASFF(dir, run, built)
	}
	if err := html.WriteFile(res.Report, run, findings, html.ComparedWith(reports.PreviousRunDir(dir, run))); err != nil {
		return Result{}, fmt.Errorf("write %s: %w", res.Report, err)
	}
	if aerr != nil {
		return res, fmt.Errorf("%s not written: %w", reports.ASFFFile, aerr)
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
