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
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/html"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/securityhub"
)

func newExportCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "export",
		Short: "Publish a run's findings: ASFF file, Security Hub import, Slack / Jira / webhook hand-off",
	}
	c.AddCommand(newExportASFFCmd(), newExportSecurityHubCmd(), newExportHandoffCmd())
	return c
}

type asffFlags struct {
	run, productARN, region, account, reportURL string
}

func (a *asffFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&a.run, "run", "", "the run directory (written by 'lakehunt hunt run --out')")
	c.Flags().StringVar(&a.productARN, "product-arn", "", "ProductArn (default: arn:aws:securityhub:REGION:ACCOUNT:product/ACCOUNT/default per finding account)")
	c.Flags().StringVar(&a.region, "region", "", "Security Hub region (default: each finding's region); findings whose region is not an AWS region name are filed here")
	c.Flags().StringVar(&a.account, "account", "", "account for findings that have none")
	c.Flags().StringVar(&a.reportURL, "report-url", "", "where report.html is published; findings' SourceUrl points into it")
	_ = c.MarkFlagRequired("run")
}

// build maps the run's findings to ASFF and prints what it changed and what it left out.
func (a *asffFlags) build(cmd *cobra.Command) (*lake.Run, asff.Built, error) {
	run, findings, err := reports.ReadRunDir(a.run)
	if err != nil {
		return nil, asff.Built{}, err
	}
	built, err := asff.Build(run, findings, asff.Options{Region: a.region, ProductARN: a.productARN, DefaultAccount: a.account, ReportURL: a.reportURL})
	printASFFNotes(cmd, built.Warnings, built.LeftOut)
	return run, built, err
}

// leftOutError is the exit status of a command that wrote or sent all findings but the ones left out.
func leftOutError(left []lake.LeftOut, total int, where string) error {
	if len(left) == 0 {
		return nil
	}
	return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d of %d findings left out of %s (listed above); fix the cause and export the run again", len(left), total, where)}
}

func newExportASFFCmd() *cobra.Command {
	var (
		a   asffFlags
		out string
	)
	c := &cobra.Command{
		Use:   "asff --run RUNDIR",
		Short: "Write the run's findings as ASFF 2018-10-08 JSON (the shape batch-import-findings reads)",
		Long: `asff writes the run's findings as ASFF 2018-10-08 JSON. A finding that cannot be ASFF (no account, no
usable region, unknown severity) does not keep the others out: they are written, it is listed on stderr
with the reason and the fix, and the exit status is 3. Written to the run's own asff.json (the default),
run.json lists the findings left out (asff_left_out).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			run, built, err := a.build(cmd)
			if err != nil {
				return err
			}
			total := len(built.Findings) + len(built.LeftOut)
			inRun := filepath.Join(a.run, reports.ASFFFile)
			switch {
			case out == "-":
				b, err := asff.MarshalList(built.Findings)
				if err != nil {
					return err
				}
				if _, err = cmd.OutOrStdout().Write(append(b, '\n')); err != nil {
					return err
				}
				return leftOutError(built.LeftOut, total, "the ASFF")
			case out == "" || filepath.Clean(out) == inRun:
				// The run's own asff.json: run.json records what it leaves out.
				if out, err = publish.WriteASFF(a.run, run, built); err != nil {
					return err
				}
			default:
				if err := asff.WriteFile(out, built.Findings); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s to %s\n", plural(len(built.Findings), "finding"), out)
			return leftOutError(built.LeftOut, total, out)
		},
	}
	a.register(c)
	c.Flags().StringVar(&out, "out", "", "file to write (default RUNDIR/asff.json; - for stdout)")
	return c
}

func printASFFNotes(cmd *cobra.Command, warns []asff.Warning, left []lake.LeftOut) {
	for _, w := range warns {
		fmt.Fprintf(cmd.ErrOrStderr(), "asff: finding %s: %s: %s\n", safetext.Line(w.FindingID), w.Field, safetext.Line(w.Message))
	}
	for _, l := range left {
		fmt.Fprintf(cmd.ErrOrStderr(), "asff: left out %s\n", safetext.Line(l.String()))
	}
}

func newExportSecurityHubCmd() *cobra.Command {
	var (
		a        asffFlags
		endpoint string
		dryRun   bool
		caller   string
	)
	c := &cobra.Command{
		Use:   "securityhub --run RUNDIR",
		Short: "Import the run's findings into AWS Security Hub (BatchImportFindings)",
		Long: `securityhub sends the run's findings with BatchImportFindings in batches of at most 100 findings and 6 MB,
grouped per account, retrying throttling with backoff. Every finding Security Hub refuses is listed with its
reason, and the exit status is 3 if any finding was not imported. Finding ids are deterministic, so a re-run
of the same window updates the same findings. Credentials come from the standard AWS chain.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			_, built, err := a.build(cmd)
			if err != nil {
				return err
			}
			var client securityhub.BatchImporter // a dry run plans and checks the batches only: no credentials or region needed
			if !dryRun {
				c, err := securityhub.NewClient(ctx, securityhub.ClientOptions{Region: a.region, Endpoint: endpoint})
				if err != nil {
					return err
				}
				client = c
			}
			sum, err := securityhub.Import(ctx, client, built.Findings, securityhub.Options{DryRun: dryRun, CallerAccount: caller, Log: cmd.ErrOrStderr()})
			sum.WriteText(cmd.OutOrStdout())
			if err != nil {
				return &exitCodeError{code: exitBadInput, msg: err.Error()}
			}
			return leftOutError(built.LeftOut, len(built.Findings)+len(built.LeftOut), "the import")
		},
	}
	a.register(c)
	c.Flags().StringVar(&endpoint, "endpoint", "", "Security Hub endpoint URL (a VPC endpoint or a test server)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "plan and check the batches without calling Security Hub")
	c.Flags().StringVar(&caller, "caller-account", "", "the account the credentials belong to: other accounts' findings are reported instead of sent")
	return c
}

func newReportCmd() *cobra.Command {
	var (
		s3                 s3Flags
		run, out           string
		lakeURL, since, to string
	)
	c := &cobra.Command{
		Use:   "report (--run RUNDIR | --lake LAKE --since 30d) [--out FILE]",
		Short: "Render the self-contained HTML report of a run directory, or of a period from the scheduled runs",
		Long: `With --run, report renders RUNDIR/report.html from the run directory.

With --lake and --since, it builds one report for a period from the runs 'lakehunt run --due' stored and
indexed in the lake: every finding whose window overlaps the period, at its latest version (a window re-run
for late data updates its findings), per hunt the windows that ran, failed or were never run, and the data
coverage of the runs.`,
		Example: `  lakehunt report --run runs/today
  lakehunt report --lake s3://sec-lake/lake/ --since 30d --out last-month.html
  lakehunt report --lake ./lake --since 2026-11-01 --until 2026-12-01`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (run == "") == (lakeURL == "") {
				return &exitCodeError{code: exitUsage, msg: "report needs either --run RUNDIR or --lake LAKE --since PERIOD"}
			}
			if run != "" {
				r, findings, err := reports.ReadRunDir(run)
				if err != nil {
					return err
				}
				if out == "" {
					out = filepath.Join(run, reports.ReportFile)
				}
				return writeReport(cmd, out, r, findings, html.ComparedWith(reports.PreviousRunDir(run, r)))
			}
			if since == "" {
				return &exitCodeError{code: exitUsage, msg: "--lake needs --since: a length such as 30d or 24h, or a date"}
			}
			until := time.Now().UTC()
			if to != "" {
				t, err := parseTimeFlag(to)
				if err != nil {
					return &exitCodeError{code: exitUsage, msg: "--until: " + err.Error()}
				}
				until = t
			}
			from, err := parseTimeFlag(since)
			if err != nil {
				d, derr := parseDuration(since)
				if derr != nil || d <= 0 {
					return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("--since %q: give a length such as 30d, 24h, or a time (RFC 3339 or YYYY-MM-DD)", since)}
				}
				from = until.Add(-d)
			}
			if !from.Before(until) {
				return &exitCodeError{code: exitUsage, msg: "--since must be before --until"}
			}
			ctx := cmd.Context()
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			open := func(ctx context.Context, url string) (lake.Store, error) {
				return lake.OpenStore(ctx, url, s3.storeOptions())
			}
			r, findings, err := scheduler.Period(ctx, lk, from, until, open)
			if err != nil {
				return err
			}
			if len(r.Hunts) == 0 {
				return fmt.Errorf("no scheduled runs in %s between %s and %s: 'lakehunt run --due' stores and indexes runs there", lakeURL, from.Format(time.RFC3339), until.Format(time.RFC3339))
			}
			if out == "" {
				out = fmt.Sprintf("report-%s-%s.html", from.Format("20060102T1504Z"), until.Format("20060102T1504Z"))
			}
			return writeReport(cmd, out, r, findings, previousPeriod(ctx, lk, from, until, open))
		},
	}
	c.Flags().StringVar(&run, "run", "", "the run directory")
	c.Flags().StringVar(&out, "out", "", "file to write (default RUNDIR/report.html, or report-FROM-UNTIL.html; - for stdout)")
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake whose stored scheduled runs to report on")
	c.Flags().StringVar(&since, "since", "", "with --lake: the period's start, as a length before --until (30d, 24h) or a time")
	c.Flags().StringVar(&to, "until", "", "with --lake: the period's end (default now)")
	s3.register(c)
	return c
}

// previousPeriod is the period of the same length before [from, until), for "changes since the previous period".
func previousPeriod(ctx context.Context, lk *lake.Lake, from, until time.Time, open func(context.Context, string) (lake.Store, error)) html.Option {
	pfrom := from.Add(-until.Sub(from))
	label := fmt.Sprintf("the previous period %s → %s", pfrom.Format(time.RFC3339), from.Format(time.RFC3339))
	r, findings, err := scheduler.Period(ctx, lk, pfrom, from, open)
	switch {
	case err != nil:
		return html.WithPrevious(html.Previous{Label: label, Err: err})
	case len(r.Hunts) == 0:
		return html.WithPrevious(html.Previous{Label: label + " has no stored scheduled runs"})
	}
	return html.WithPrevious(html.Previous{Label: label, Run: r, Findings: findings})
}

func writeReport(cmd *cobra.Command, out string, r *lake.Run, findings []lake.Finding, opts ...html.Option) error {
	if out == "-" {
		return html.Render(cmd.OutOrStdout(), r, findings, opts...)
	}
	if err := html.WriteFile(out, r, findings, opts...); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", out)
	return nil
}
