package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts/scheduler"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/entity"
	"github.com/lakehunt/lakehunt/reports/investigate"
)

func newInvestigateCmd() *cobra.Command {
	var (
		s3       s3Flags
		limits   limitFlags
		lakeURL  string
		ent      string
		from, to string
		history  time.Duration
		runs     []string
		out      string
	)
	c := &cobra.Command{
		Use:   "investigate --lake LAKE --entity KIND:VALUE --out PAGE.html [--from T --to T] [--runs RUNDIR...]",
		Short: "Write a self-contained HTML page of everything the lake and the findings say about one entity",
		Long: `investigate writes one HTML page about an entity: its activity over time in every table of the lake
that mentions it (CloudTrail calls by API, VPC flows by peer and port, DNS names, WAF and ALB requests,
GuardDuty and Security Hub findings, host IDS alerts), first and last seen, what was new in the window
against its own history (APIs, regions, user agents, networks, peers, ports, names, paths, finding types,
rules, ...), the findings and finding groups that involve it (of the --runs directories, else of the
scheduled runs the lake stores), and the raw rows with the object and line each came from. The page has
no scripts and needs no network.

KIND is one of ip, principal, access-key, instance, domain, bucket. A role session's ARN is read as its
role's ARN, an instance ARN as its instance id.

The window defaults to the 7 days up to the lake's newest data; the history ("what is usual") to the
--history before the window. 'hunt run' writes such a page for each finding group's leading entity into
RUNDIR/entities/.`,
		Example: `  lakehunt investigate --lake ./lake --entity principal:arn:aws:iam::111122223333:user/ben --runs runs/today --out ben.html
  lakehunt investigate --lake ./lake --entity ip:203.0.113.7 --from 2026-11-01 --to 2026-11-08 --out ip.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if lakeURL == "" || ent == "" || out == "" {
				return &exitCodeError{code: exitUsage, msg: "investigate needs --lake, --entity and --out; see 'lakehunt investigate --help'"}
			}
			link, err := entity.ParseEntity(ent)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: "--entity: " + err.Error()}
			}
			fromT, err := parseTimeFlag(from)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: "--from: " + err.Error()}
			}
			toT, err := parseTimeFlag(to)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: "--to: " + err.Error()}
			}
			if history < 0 {
				return &exitCodeError{code: exitUsage, msg: "--history must not be negative"}
			}
			lim, err := limits.limits()
			if err != nil {
				return err
			}
			var findings []lake.Finding
			for _, dir := range runs {
				_, fs, err := reports.ReadRunDir(dir)
				if err != nil {
					return fmt.Errorf("--runs: %w", err)
				}
				findings = append(findings, fs...)
			}
			findings = latestFindings(findings)
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			if toT.IsZero() {
				if toT, err = newestData(ctx, lk); err != nil {
					return err
				}
			}
			if fromT.IsZero() {
				fromT = toT.Add(-7 * 24 * time.Hour)
			}
			if !fromT.Before(toT) {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("--from %s is not before --to %s", fromT.Format(time.RFC3339), toT.Format(time.RFC3339))}
			}
			histFrom := fromT.Add(-history)
			iv, err := investigate.Open(ctx, lk, investigate.Span{HistoryFrom: histFrom, From: fromT, To: toT}, lim)
			if err != nil {
				return err
			}
			var source string
			switch len(runs) {
			case 0: // the scheduled runs the lake stores, if any
				stored, err := scheduler.ListRuns(ctx, lk, histFrom, toT)
				if err != nil {
					return err
				}
				if len(stored) > 0 {
					if _, findings, err = scheduler.Period(ctx, lk, histFrom, toT, func(ctx context.Context, url string) (lake.Store, error) {
						return lake.OpenStore(ctx, url, s3.storeOptions())
					}); err != nil {
						return err
					}
					source = plural(len(stored), "scheduled run") + " stored in the lake"
				}
			case 1:
				source = "run directory " + runs[0]
			default:
				source = fmt.Sprintf("%d run directories", len(runs))
			}
			page, err := iv.Build(ctx, investigate.Request{Entity: link, Findings: findings, FindingsFrom: source})
			if err != nil {
				return err
			}
			if err := entity.WriteFile(out, page); err != nil {
				return fmt.Errorf("write %s: %w", out, err)
			}
			var rows int64
			for _, t := range page.Tables {
				rows += t.Rows + t.HistoryRows
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %s %s, %d rows from %s to %s, first seen %s, last seen %s, %s\n", out, link.Kind,
				safetext.Line(link.Value), rows, histFrom.Format(time.RFC3339), toT.Format(time.RFC3339), fmtSeen(page.FirstSeen), fmtSeen(page.LastSeen), plural(len(page.Findings), "finding"))
			if rows == 0 && len(page.Findings) == 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("nothing in the lake or the runs mentions %s between %s and %s: check the value, or widen --from/--history",
					link, histFrom.Format(time.RFC3339), toT.Format(time.RFC3339))}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	f.StringVar(&ent, "entity", "", "the entity, KIND:VALUE (ip, principal, access-key, instance, domain, bucket)")
	f.StringVar(&from, "from", "", "window start (RFC 3339 or YYYY-MM-DD; default: 7 days before --to)")
	f.StringVar(&to, "to", "", "window end (default: the lake's newest data)")
	f.DurationVar(&history, "history", investigate.DefaultHistory, "how far before the window to look for what is usual for the entity")
	f.StringArrayVar(&runs, "runs", nil, "a run directory whose findings to look through (repeatable; default: the scheduled runs the lake stores)")
	f.StringVar(&out, "out", "", "the page to write")
	limits.register(c)
	s3.register(c)
	return c
}

// latestFindings keeps one finding per id (a re-run of a window writes the same id again): the newest.
func latestFindings(fs []lake.Finding) []lake.Finding {
	idx := map[string]int{}
	var out []lake.Finding
	for _, f := range fs {
		if i, ok := idx[f.ID]; ok {
			if f.CreatedAt.After(out[i].CreatedAt) {
				out[i] = f
			}
			continue
		}
		idx[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}

// newestData is just after the lake's newest event in the tables entity pages read, rounded up to the hour.
func newestData(ctx context.Context, lk *lake.Lake) (time.Time, error) {
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		return time.Time{}, err
	}
	var newest time.Time
	for _, s := range investigate.Sources() {
		if n := snap.Stats(s.Table).Newest; n.After(newest) {
			newest = n
		}
	}
	if newest.IsZero() {
		return time.Time{}, &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("the lake %s holds no logs yet: compact some with 'lakehunt compact --from RAW --lake %s'", lk.URL(), lk.URL())}
	}
	return newest.Truncate(time.Hour).Add(time.Hour), nil
}

func fmtSeen(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Format(time.RFC3339)
}

// entityPagesDone says where a hunt run wrote RUNDIR/entities/, or why not.
func entityPagesDone(cmd *cobra.Command, dir string, paths []string, err error, quiet bool) error {
	if len(paths) > 0 && !quiet {
		fmt.Fprintf(cmd.OutOrStdout(), "entity pages: %d in %s\n", len(paths), filepath.Join(dir, entity.Dir))
	}
	if err != nil {
		return fmt.Errorf("%w; the run directory is complete otherwise: 'lakehunt investigate --lake LAKE --entity KIND:VALUE --runs %s' writes one page", err, dir)
	}
	return nil
}
