// Package publish writes a run directory's outputs for people and tools: RUNDIR/report.html and
// RUNDIR/asff.json, from RUNDIR/run.json and RUNDIR/findings.jsonl.
package publish

import (
	"errors"
	"fmt"
	"path/filepath"

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
}

// Write renders the report and the ASFF file of the run in dir. The report is written even when the
// ASFF file cannot be (for example a finding without an account and no default): the error then says
// which findings and what to pass.
func Write(dir string, opts asff.Options) (Result, error) {
	run, findings, err := reports.ReadRunDir(dir)
	if err != nil {
		return Result{}, err
	}
	res := Result{Report: filepath.Join(dir, reports.ReportFile), Findings: len(findings)}
	if err := html.WriteFile(res.Report, run, findings); err != nil {
		return Result{}, fmt.Errorf("write %s: %w", res.Report, err)
	}
	out, warns, err := asff.Build(run, findings, opts)
	res.Warnings = warns
	if err != nil {
		return res, fmt.Errorf("%s not written: %w", reports.ASFFFile, err)
	}
	path := filepath.Join(dir, reports.ASFFFile)
	if err := asff.WriteFile(path, out); err != nil {
		return res, errors.Join(fmt.Errorf("write %s", path), err)
	}
	res.ASFF = path
	return res, nil
}
