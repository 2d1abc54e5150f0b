package publish

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports"
)

// Publisher is one output of a run: a file in the run directory (report.html, asff.json) or a service
// (Security Hub, Slack, Jira, a webhook).
type Publisher interface {
	// Name names the output in messages and in run.json's sent records ("slack", "jira", ...).
	Name() string
	// Publish delivers the run. It returns what it delivered even when it fails part-way, so that
	// publishing again sends only the rest.
	Publish(ctx context.Context, in Input) ([]lake.Sent, error)
}

// Input is a run as publishers see it.
type Input struct {
	Dir      string // the local run directory
	Run      *lake.Run
	Findings []lake.Finding
	// Groups are the run's finding groups that hold at least one finding this publisher has not
	// delivered yet (all of them for a publisher that records nothing).
	Groups []group.Group
	// Sent is what this publisher delivered for the run (or the same window) before.
	Sent []lake.Sent
	// ReportURL is where report.html is published ("" if nowhere).
	ReportURL string
}

// WasSent reports whether a finding was delivered by this publisher before.
func (in Input) WasSent(findingID string) bool {
	for _, s := range in.Sent {
		if slices.Contains(s.FindingIDs, findingID) {
			return true
		}
	}
	return false
}

// Outcome is one publisher's part of Run.
type Outcome struct {
	Publisher string
	Sent      []lake.Sent // delivered this time
	Skipped   int         // groups delivered before
	Err       error       // why it failed (Failed prefixes the publisher's name)
}

// Options configures Run.
type Options struct {
	ReportURL string
	// Prior is what was sent for earlier runs of the same window (a re-run for late data or after a
	// failure has the same finding ids): those findings count as sent.
	Prior []lake.Sent
}

// Run publishes the run in dir to each publisher in turn. A publisher that fails does not stop the
// others: its error is in its Outcome. Every delivery is added to run.json's sent records as soon as
// the publisher returns, so that running again (a re-run of the command, a retry) does not post twice.
// The error is for the run directory itself (unreadable, run.json not writable).
func Run(ctx context.Context, dir string, pubs []Publisher, opts Options) ([]Outcome, error) {
	run, findings, err := reports.ReadRunDir(dir)
	if err != nil {
		return nil, err
	}
	groups := group.Build(findings)
	var out []Outcome
	for _, p := range pubs {
		in := Input{Dir: dir, Run: run, Findings: findings, ReportURL: opts.ReportURL}
		for _, s := range slices.Concat(opts.Prior, run.Sent) {
			if s.Publisher == p.Name() {
				in.Sent = append(in.Sent, s)
			}
		}
		o := Outcome{Publisher: p.Name()}
		for _, g := range groups {
			if slices.ContainsFunc(g.Findings, func(f lake.Finding) bool { return !in.WasSent(f.ID) }) {
				in.Groups = append(in.Groups, g)
			} else {
				o.Skipped++
			}
		}
		o.Sent, o.Err = p.Publish(ctx, in)
		if len(o.Sent) > 0 {
			for i := range o.Sent {
				o.Sent[i].Publisher = p.Name()
				if o.Sent[i].At.IsZero() {
					o.Sent[i].At = time.Now().UTC()
				}
			}
			run.Sent = append(run.Sent, o.Sent...)
			if werr := lake.WriteRunFile(dir, run); werr != nil {
				out = append(out, o)
				return out, fmt.Errorf("record what %s sent in %s: %w (it may be sent again)", p.Name(), lake.RunFile, werr)
			}
		}
		out = append(out, o)
	}
	return out, nil
}

// Failed joins the errors of the outcomes (nil if every publisher succeeded).
func Failed(outcomes []Outcome) error {
	var errs []error
	for _, o := range outcomes {
		if o.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Publisher, o.Err))
		}
	}
	return errors.Join(errs...)
}

// AtLeast keeps the groups whose severity is at least min ("" keeps all).
func AtLeast(groups []group.Group, min string) []group.Group {
	if min == "" {
		return groups
	}
	var out []group.Group
	for _, g := range groups {
		if lake.SeverityRank(g.Severity) >= lake.SeverityRank(min) {
			out = append(out, g)
		}
	}
	return out
}
