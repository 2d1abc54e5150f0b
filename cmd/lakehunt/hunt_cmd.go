package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/publish"
)

var gitRevision = "" // set with -ldflags "-X main.gitRevision=..."

// huntDirs are the --hunts flags: the user's hunt directories, loaded after the shipped library.
type huntDirs struct {
	dirs      []string
	noLibrary bool
}

func (h *huntDirs) register(c *cobra.Command) {
	c.Flags().StringArrayVar(&h.dirs, "hunts", nil, "a directory of your own hunt files (repeatable); loaded after the shipped library")
	c.Flags().BoolVar(&h.noLibrary, "no-library", false, "leave out the hunts shipped in the binary")
}

func (h *huntDirs) load() (*hunts.Set, error) { return hunts.Load(!h.noLibrary, h.dirs...) }

func newHuntCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "hunt",
		Short: "List, lint, test and run hunts",
		Long: `Hunts are YAML files reviewed by pull request: identity and version, hypothesis, ATT&CK mapping, the tables
they read, schedule and window, DuckDB SQL with named window parameters ($window_start, $window_end,
$baseline_start), expr-lang post-processing, the finding mapping, and inline tests with raw events.
The shipped library is embedded in the binary; --hunts adds your own directories.`,
	}
	c.AddCommand(newHuntListCmd(), newHuntLintCmd(), newHuntTestCmd(), newHuntRunCmd())
	return c
}

func newHuntListCmd() *cobra.Command {
	var (
		dirs   huntDirs
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List the hunts: id, version, status, severity, tables, schedule, title",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := dirs.load()
			if err != nil {
				return err
			}
			for _, d := range set.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			if asJSON {
				type item struct {
					ID, Title, Status, Severity, Schedule, File string
					Version                                     int
					Tables, Tactics, Techniques                 []string
				}
				var out []item
				for _, h := range set.Hunts {
					out = append(out, item{h.ID, h.Title, h.Status, h.Severity.Label, h.Schedule, h.File, h.Version, h.Tables, h.Attack.Tactics, h.Attack.Techniques})
				}
				return printJSON(cmd.OutOrStdout(), out)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tVERSION\tSTATUS\tSEVERITY\tTABLES\tSCHEDULE\tTITLE")
			for _, h := range set.Hunts {
				sev := h.Severity.Label
				if h.Severity.Expr != "" {
					sev += "*"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.Version, h.Status, sev, strings.Join(h.Tables, ","), h.Schedule, h.Title)
			}
			return tw.Flush()
		},
	}
	dirs.register(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func newHuntLintCmd() *cobra.Command {
	var (
		dirs      huntDirs
		writeLock bool
		asJSON    bool
	)
	c := &cobra.Command{
		Use:   "lint [FILE...]",
		Short: "Check hunts without data: schema, SQL against the table schemas, expressions, tests, version bumps",
		Long: `lint proves a hunt is well-formed without any data: the file matches the hunt JSON Schema, the SQL prepares
against the real table schemas, expr-lang programs compile against the query's real result columns, every
hunt has positive and negative tests, and the version went up if the query or its logic changed (checked
against hunts.lock, the committed content hashes). Messages are file:line:col. Exit status 1 on any error.

With FILE arguments, only diagnostics for those files are shown. --write-lock rewrites hunts.lock of each
--hunts directory after you bumped versions (review the diff).`,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := dirs.load()
			if err != nil {
				return err
			}
			diags := hunts.Lint(cmd.Context(), set)
			if len(args) > 0 {
				keep := diags[:0]
				for _, d := range diags {
					for _, a := range args {
						if strings.HasSuffix(filepath.ToSlash(d.File), filepath.ToSlash(filepath.Clean(a))) || filepath.Base(d.File) == filepath.Base(a) {
							keep = append(keep, d)
							break
						}
					}
				}
				diags = keep
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), diags); err != nil {
					return err
				}
			} else {
				for _, d := range diags {
					fmt.Fprintln(cmd.OutOrStdout(), d.String())
				}
			}
			if writeLock {
				for _, dir := range dirs.dirs {
					s, err := hunts.LoadDir(dir)
					if err != nil {
						return err
					}
					path := filepath.Join(dir, "hunts.lock")
					if err := os.WriteFile(path, hunts.LockFile(s.Hunts), 0o644); err != nil {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", path)
				}
			}
			if hunts.HasErrors(diags) {
				return &exitCodeError{code: exitError, msg: fmt.Sprintf("lint found errors in %d hunts' files", countFiles(diags))}
			}
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "ok: %d hunts\n", len(set.Hunts))
			}
			return nil
		},
	}
	dirs.register(c)
	c.Flags().BoolVar(&writeLock, "write-lock", false, "rewrite hunts.lock in each --hunts directory from the current files")
	c.Flags().BoolVar(&asJSON, "json", false, "print diagnostics as JSON")
	return c
}

func countFiles(diags []hunts.Diagnostic) int {
	files := map[string]bool{}
	for _, d := range diags {
		if !d.Warning {
			files[d.File] = true
		}
	}
	return len(files)
}

func newHuntTestCmd() *cobra.Command {
	var (
		dirs huntDirs
		run  string
	)
	c := &cobra.Command{
		Use:   "test",
		Short: "Run each hunt's inline tests through the real compactor and the real SQL",
		Long: `test writes each hunt test's raw events as AWS delivers them to S3, compacts them with the real compactor
into a temporary lake, runs the hunt's real SQL and post-processing over the test's window, and compares
the findings with the expected ones. Output is like go test; exit status 1 if any test fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			set, err := dirs.load()
			if err != nil {
				return err
			}
			if len(set.Diagnostics) > 0 {
				for _, d := range set.Diagnostics {
					fmt.Fprintln(cmd.ErrOrStderr(), d.String())
				}
			}
			var filter *regexp.Regexp
			if run != "" {
				if filter, err = regexp.Compile(run); err != nil {
					return &exitCodeError{code: exitUsage, msg: "--run: " + err.Error()}
				}
			}
			sum, err := hunts.RunTests(cmd.Context(), set.Hunts, filter, cmd.OutOrStdout())
			if err != nil {
				return err
			}
			if sum.Failed > 0 || hunts.HasErrors(set.Diagnostics) {
				return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d hunt tests failed, %d passed", sum.Failed, sum.Passed)}
			}
			if sum.Passed == 0 {
				return &exitCodeError{code: exitError, msg: "no hunt tests matched"}
			}
			return nil
		},
	}
	dirs.register(c)
	c.Flags().StringVar(&run, "run", "", "only tests whose 'hunt-id/test name' matches this regular expression")
	return c
}

func newHuntRunCmd() *cobra.Command {
	var (
		s3        s3Flags
		dirs      huntDirs
		lakeURL   string
		ids       []string
		from, to  string
		last      time.Duration
		out       string
		asJSON    bool
		allowFail bool
		region    string
		account   string
	)
	c := &cobra.Command{
		Use:   "run --lake LAKE --out RUNDIR [--hunt ID...] [--from T --to T | --last 24h]",
		Short: "Run hunts over the lake and write a run directory (findings, run record, ASFF, HTML report)",
		Long: `run executes hunts over the lake in embedded DuckDB and writes RUNDIR:
  run.json        what ran, over which data (window, accounts, regions, partitions, gaps), how long, what failed
  findings.jsonl  one finding per line: deterministic id (hunt + entity + window), severity, evidence with lineage
  asff.json       the findings in AWS Security Finding Format (see 'lakehunt export securityhub')
  report.html     a self-contained report for auditors

Without --from, each hunt uses its own window ending at --to (default: the current hour). For an S3 lake
only the partitions the windows and baselines need are fetched into the local cache, and reused.
One failing hunt never stops the others; the exit status is 3 if any hunt failed, or if a table a hunt
reads had no data in its window (a warning on stderr names the table, the window and the newest data).`,
		Example: `  lakehunt hunt run --lake ./lake --last 24h --out runs/today
  lakehunt hunt run --lake s3://sec-lake/lake/ --hunt cloudtrail-logging-evasion --from 2026-11-01 --to 2026-11-08 --out runs/nov`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if lakeURL == "" || out == "" {
				return &exitCodeError{code: exitUsage, msg: "hunt run needs --lake and --out; see 'lakehunt hunt run --help'"}
			}
			fromT, err := parseTimeFlag(from)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: "--from: " + err.Error()}
			}
			toT, err := parseTimeFlag(to)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: "--to: " + err.Error()}
			}
			if last > 0 {
				if !fromT.IsZero() {
					return &exitCodeError{code: exitUsage, msg: "give either --from or --last, not both"}
				}
				if toT.IsZero() {
					toT = time.Now().UTC().Truncate(time.Minute)
				}
				fromT = toT.Add(-last)
			}
			if !fromT.IsZero() && !toT.IsZero() && !fromT.Before(toT) {
				return &exitCodeError{code: exitUsage, msg: "--from must be before --to"}
			}
			set, err := dirs.load()
			if err != nil {
				return err
			}
			for _, d := range set.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			selected, err := hunts.Select(set.Hunts, ids)
			if err != nil {
				return &exitCodeError{code: exitUsage, msg: err.Error()}
			}
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			opts := hunts.RunOptions{Lake: lk, Hunts: selected, From: fromT, To: toT, Trigger: trigger(),
				ToolVersion: version, GitRevision: gitRevision, CacheDir: baselineCache(s3.cacheDir)}
			if !asJSON {
				opts.Log = cmd.ErrOrStderr()
			}
			run, findings, err := hunts.Run(ctx, opts)
			if err != nil {
				return err
			}
			addUnloadable(run, set.Diagnostics)
			if err := hunts.WriteRunDir(out, run, findings); err != nil {
				return err
			}
			res, perr := publish.Write(out, asff.Options{Region: region, DefaultAccount: account})
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), run); err != nil {
					return err
				}
			} else {
				printRunSummary(cmd, run, findings, res)
			}
			if perr != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "lakehunt:", perr)
			}
			empty := engine.NoDataIn(run)
			for _, n := range empty {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", n)
			}
			if run.FailedCount > 0 && !allowFail {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d of %d hunts failed; see %s", run.FailedCount, len(run.Hunts), filepath.Join(out, lake.RunFile))}
			}
			if len(empty) > 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d of %d hunts had no data in a table they read, so checked nothing there: see the warnings above; compact newer logs, or choose the window with --from/--to",
					blindHunts(run), len(run.Hunts))}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	f.StringArrayVar(&ids, "hunt", nil, "run only this hunt id (repeatable; default all)")
	f.StringVar(&from, "from", "", "window start for every hunt (RFC 3339 or YYYY-MM-DD)")
	f.StringVar(&to, "to", "", "window end (default: now)")
	f.DurationVar(&last, "last", 0, "window of this length ending at --to (e.g. 24h, 168h)")
	f.StringVar(&out, "out", "", "run directory to write")
	f.BoolVar(&asJSON, "json", false, "print run.json to stdout instead of a summary")
	f.BoolVar(&allowFail, "allow-failures", false, "exit 0 even if some hunts failed")
	f.StringVar(&region, "region", "", "Security Hub region for asff.json (default: each finding's region)")
	f.StringVar(&account, "account", "", "account for findings that have none, in asff.json")
	dirs.register(c)
	s3.register(c)
	return c
}

// addUnloadable records each hunt file that did not load as a failed hunt of the run, so run.json, the
// report and the exit code show that it did not run (an auditor must not read its silence as "clean").
func addUnloadable(run *lake.Run, diags []hunts.Diagnostic) {
	byFile := map[string][]string{}
	var files []string
	for _, d := range diags {
		if d.Warning {
			continue
		}
		if _, ok := byFile[d.File]; !ok {
			files = append(files, d.File)
		}
		byFile[d.File] = append(byFile[d.File], d.String())
	}
	for _, f := range files {
		run.Hunts = append(run.Hunts, lake.HuntRun{ID: f, Title: "hunt file that did not load", Status: "failed",
			Error: "not run: the file does not load (run 'lakehunt hunt lint'): " + strings.Join(byFile[f], "; ")})
		run.FailedCount++
	}
}

// baselineCache is where baseline day summaries persist between runs.
func baselineCache(cacheDir string) string {
	if cacheDir == "" {
		d, err := os.UserCacheDir()
		if err != nil {
			return ""
		}
		cacheDir = filepath.Join(d, "lakehunt")
	}
	return filepath.Join(cacheDir, "baselines")
}

func trigger() string {
	who := "unknown"
	if u, err := user.Current(); err == nil {
		who = u.Username
	}
	host, _ := os.Hostname()
	return fmt.Sprintf("cli %s@%s", who, host)
}

// blindHunts counts the hunts that had no data in some table they read.
func blindHunts(run *lake.Run) int {
	n := 0
	for _, h := range run.Hunts {
		if len(h.NoData) > 0 {
			n++
		}
	}
	return n
}

func printRunSummary(cmd *cobra.Command, run *lake.Run, findings []lake.Finding, res publish.Result) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "run %s over %s .. %s: %d hunts, %d failed, %d without data, %d findings\n", run.ID,
		run.WindowStart.Format(time.RFC3339), run.WindowEnd.Format(time.RFC3339), len(run.Hunts), run.FailedCount, blindHunts(run), len(findings))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, h := range run.Hunts {
		status := h.Status
		if h.Error != "" {
			status += ": " + firstLine(h.Error)
		}
		if len(h.NoData) > 0 {
			status += ", no data in " + strings.Join(h.NoData, ", ")
		}
		fmt.Fprintf(tw, "  %s\tv%d\t%s\t%d findings\t%dms\n", h.ID, h.Version, status, h.Findings, h.DurationMillis)
	}
	tw.Flush()
	sorted := append([]lake.Finding(nil), findings...)
	sort.SliceStable(sorted, func(i, j int) bool {
		return lake.SeverityRank(sorted[i].Severity) > lake.SeverityRank(sorted[j].Severity)
	})
	for i, f := range sorted {
		if i == 25 {
			fmt.Fprintf(w, "  ... %d more in findings.jsonl\n", len(sorted)-25)
			break
		}
		fmt.Fprintf(w, "  [%s] %s  (%s %s, %s)\n", f.Severity, f.Title, f.Entity.Type, f.Entity.Key, f.AccountID)
	}
	for _, wn := range res.Warnings {
		fmt.Fprintf(cmd.ErrOrStderr(), "asff: finding %s: %s: %s\n", wn.FindingID, wn.Field, wn.Message)
	}
	if res.ASFF != "" {
		fmt.Fprintf(w, "asff: %s\n", res.ASFF)
	}
	if res.Report != "" {
		fmt.Fprintf(w, "report: %s\n", res.Report)
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
