package main

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/investigate"
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

// limitFlags bound each hunt's DuckDB session in lint, test and run alike (hunts.memory_limit,
// hunts.threads and hunts.timeout in lakehunt.yaml for 'run --due').
type limitFlags struct {
	memory  string
	threads int
	timeout time.Duration
}

func (l *limitFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&l.memory, "memory-limit", hunts.DefaultMemoryLimit, "DuckDB memory per hunt (e.g. 512MB, 4GB); above it DuckDB spills to a temporary directory")
	c.Flags().IntVar(&l.threads, "threads", hunts.DefaultThreads, "DuckDB threads per hunt")
	c.Flags().DurationVar(&l.timeout, "timeout", hunts.DefaultTimeout, "the longest a hunt's SQL (baselines and query) may run before it is stopped and the hunt fails")
}

func (l *limitFlags) limits() (hunts.Limits, error) {
	lim, err := hunts.Limits{MemoryLimit: l.memory, Threads: l.threads, Timeout: l.timeout}.WithDefaults()
	if err != nil {
		return lim, &exitCodeError{code: exitUsage, msg: err.Error()}
	}
	return lim, nil
}

func newHuntCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "hunt",
		Short: "List, lint, test, diff and run hunts",
		Long: `Hunts are YAML files reviewed by pull request: identity and version, hypothesis, ATT&CK mapping, the tables
they read, schedule and window, DuckDB SQL with named window parameters ($window_start, $window_end,
$baseline_start), expr-lang post-processing, the finding mapping, and inline tests with raw events.
The shipped library is embedded in the binary; --hunts adds your own directories.`,
	}
	c.AddCommand(newHuntListCmd(), newHuntLintCmd(), newHuntTestCmd(), newHuntCoverageCmd(), newHuntRunCmd(), newHuntDiffCmd())
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
		limits    limitFlags
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

With FILE arguments, only diagnostics for those files are shown. --write-lock first rewrites hunts.lock of
each --hunts directory after you bumped versions (review the diff), then lints; a hunt whose query or logic
changed without a version bump keeps its pinned line, so lint still asks for the bump. The shipped
library's lock is rewritten at the root of the lakehunt repository with
'lakehunt hunt lint --no-library --hunts hunts/library --write-lock', then 'make build'.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if writeLock && len(dirs.dirs) == 0 {
				return &exitCodeError{code: exitUsage, msg: "--write-lock rewrites DIR/hunts.lock of each --hunts DIR: give --hunts DIR " +
					"(the shipped library's: 'lakehunt hunt lint --no-library --hunts hunts/library --write-lock' at the root of the lakehunt repository, then 'make build')"}
			}
			if writeLock {
				for _, dir := range dirs.dirs {
					if err := writeHuntLock(cmd, dir); err != nil {
						return err
					}
				}
			}
			lim, err := limits.limits()
			if err != nil {
				return err
			}
			set, err := dirs.load()
			if err != nil {
				return err
			}
			diags := hunts.Lint(cmd.Context(), set, lim)
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
			if hunts.HasErrors(diags) {
				return &exitCodeError{code: exitError, msg: fmt.Sprintf("lint found errors in %d hunts' files", countFiles(diags))}
			}
			if !asJSON {
				fmt.Fprintf(cmd.OutOrStdout(), "ok: %s\n", plural(len(set.Hunts), "hunt"))
			}
			return nil
		},
	}
	dirs.register(c)
	limits.register(c)
	c.Flags().BoolVar(&writeLock, "write-lock", false, "rewrite hunts.lock in each --hunts directory from the current files, then lint")
	c.Flags().BoolVar(&asJSON, "json", false, "print diagnostics as JSON")
	return c
}

// writeHuntLock rewrites dir/hunts.lock from the hunt files in dir.
func writeHuntLock(cmd *cobra.Command, dir string) error {
	s, err := hunts.LoadDir(dir)
	if err != nil {
		return err
	}
	b, kept := hunts.UpdateLock(s.Lock, s.Hunts)
	path := filepath.Join(dir, "hunts.lock")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "wrote %s\n", path)
	for _, id := range kept {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s: kept %s at its pinned version: its query or logic changed, bump its version first\n", path, id)
	}
	return nil
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
		dirs   huntDirs
		limits limitFlags
		run    string
		asJSON bool
		junit  string
	)
	c := &cobra.Command{
		Use:   "test",
		Short: "Run each hunt's inline tests through the real compactor and the real SQL",
		Long: `test writes each hunt test's raw events as AWS delivers them to S3, compacts them with the real compactor
into a temporary lake, runs the hunt's real SQL and post-processing over the test's window, and compares
the findings with the expected ones. Output is like go test; exit status 1 if any test fails. A hunt file
that does not load is a failed test. --json prints the results as JSON instead; --junit FILE also writes
them as JUnit XML, so a CI system shows each hunt test as a test.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lim, err := limits.limits()
			if err != nil {
				return err
			}
			set, err := dirs.load()
			if err != nil {
				return err
			}
			for _, d := range set.Diagnostics {
				if d.Warning { // errors are reported as failed tests
					fmt.Fprintln(cmd.ErrOrStderr(), d.String())
				}
			}
			var filter *regexp.Regexp
			if run != "" {
				if filter, err = regexp.Compile(run); err != nil {
					return &exitCodeError{code: exitUsage, msg: "--run: " + err.Error()}
				}
			}
			text := cmd.OutOrStdout()
			if asJSON {
				text = io.Discard
			}
			sum, err := hunts.RunTests(cmd.Context(), set, filter, lim, text)
			if err != nil {
				return err
			}
			if junit != "" {
				if err := writeJUnit(junit, sum); err != nil {
					return err
				}
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), sum); err != nil {
					return err
				}
			}
			if sum.Failed > 0 {
				return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d hunt tests failed, %d passed", sum.Failed, sum.Passed)}
			}
			if sum.Passed == 0 {
				return &exitCodeError{code: exitError, msg: "no hunt tests matched"}
			}
			return nil
		},
	}
	dirs.register(c)
	limits.register(c)
	c.Flags().StringVar(&run, "run", "", "only tests whose 'hunt-id/test name' matches this regular expression")
	c.Flags().BoolVar(&asJSON, "json", false, "print the results as JSON (passed, failed, and each test with its problems)")
	c.Flags().StringVar(&junit, "junit", "", "also write the results as JUnit XML to this file")
	return c
}

func newHuntCoverageCmd() *cobra.Command {
	var (
		s3      s3Flags
		dirs    huntDirs
		by      string
		lakeURL string
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "coverage [--by technique|stratus] [--lake LAKE]",
		Short: "What the hunts claim to detect: ATT&CK techniques and Stratus Red Team ids, with the hunts and tables",
		Long: `coverage prints, per MITRE ATT&CK technique (sorted by tactic along the kill chain, then id), the hunts that
claim it with the tables each reads, and the Stratus Red Team technique ids those hunts claim (attack.stratus).
--by stratus lists each Stratus id and the hunts that claim it instead. --json prints both, for machines.

With --lake, it also lists the hunts that read a table the lake has no files for (they cannot find anything
there) and the techniques left with no hunt that can. Exit status 3 when a hunt file does not load (its
coverage is missing from the list).`,
		Example: `  lakehunt hunt coverage
  lakehunt hunt coverage --by stratus
  lakehunt hunt coverage --hunts ./my-hunts --lake s3://sec-lake/lake/ --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if by != "technique" && by != "stratus" {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("--by %q: use technique or stratus", by)}
			}
			set, err := dirs.load()
			if err != nil {
				return err
			}
			for _, d := range set.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			cov := hunts.NewCoverage(set.Hunts)
			if lakeURL != "" {
				lk, err := s3.openLake(cmd.Context(), lakeURL)
				if err != nil {
					return err
				}
				snap, err := lk.FileSnapshot(cmd.Context())
				if err != nil {
					return err
				}
				if snap.Version == 0 {
					return fmt.Errorf("%s has no commits: not a lake yet (check --lake, or run 'lakehunt compact' first)", lakeURL)
				}
				tables := map[string]bool{}
				for _, f := range snap.Files {
					tables[f.Table] = true
				}
				cov.CheckLake(slices.Collect(maps.Keys(tables)))
			}
			if asJSON {
				err = printJSON(cmd.OutOrStdout(), cov)
			} else {
				err = printCoverage(cmd.OutOrStdout(), cov, by, len(set.Hunts), lakeURL)
			}
			if err != nil {
				return err
			}
			if n := countFiles(set.Diagnostics); n > 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d hunt files do not load and are left out of the coverage (listed above; see 'lakehunt hunt lint')", n)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&by, "by", "technique", "list by ATT&CK technique or by Stratus Red Team id: technique | stratus")
	f.StringVar(&lakeURL, "lake", "", "also check which hunts read a table this lake has no files for")
	f.BoolVar(&asJSON, "json", false, "print the coverage (techniques and Stratus ids) as JSON")
	dirs.register(c)
	s3.register(c)
	return c
}

func printCoverage(w io.Writer, cov hunts.Coverage, by string, nHunts int, lakeURL string) error {
	width := 0 // hunt ids line up across the whole listing
	for _, t := range cov.Techniques {
		for _, r := range t.Hunts {
			width = max(width, len(r.ID))
		}
	}
	hunt := func(r hunts.HuntRef) string {
		s := fmt.Sprintf("%-*s  %s", width, r.ID, strings.Join(r.Tables, ", "))
		if len(r.Missing) > 0 {
			s += "  NO FILES IN THE LAKE: " + strings.Join(r.Missing, ", ")
		}
		return s
	}
	if by == "stratus" {
		tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "STRATUS\tHUNTS")
		for _, s := range cov.Stratus {
			ids := make([]string, len(s.Hunts))
			for i, r := range s.Hunts {
				ids[i] = r.ID
				if len(r.Missing) > 0 {
					ids[i] += " (NO FILES IN THE LAKE: " + strings.Join(r.Missing, ", ") + ")"
				}
			}
			fmt.Fprintf(tw, "%s\t%s\n", s.ID, strings.Join(ids, ", "))
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		if len(cov.Stratus) == 0 {
			fmt.Fprintln(w, "no hunt claims a Stratus Red Team technique (attack.stratus in the hunt files)")
		}
	} else {
		for _, t := range cov.Techniques {
			name := t.Name
			if name == "" {
				name = "(not in lakehunt's ATT&CK table: tactics as its hunts declare them)"
			}
			fmt.Fprintf(w, "%-9s  %s  [%s]\n", t.ID, name, strings.Join(t.Tactics, ", "))
			for _, r := range t.Hunts {
				fmt.Fprintf(w, "    %s\n", hunt(r))
			}
			if len(t.Stratus) > 0 {
				fmt.Fprintf(w, "    stratus: %s\n", strings.Join(t.Stratus, ", "))
			}
		}
	}
	fmt.Fprintf(w, "%s and %s claimed by %s\n", plural(len(cov.Techniques), "ATT&CK technique"), plural(len(cov.Stratus), "Stratus Red Team id"), plural(nHunts, "hunt"))
	if cov.Lake == nil {
		return nil
	}
	fmt.Fprintf(w, "lake %s has files for: %s\n", lakeURL, orNone(cov.Lake.Tables))
	if len(cov.Lake.Blind) == 0 {
		fmt.Fprintln(w, "every table the hunts read has files in the lake")
		return nil
	}
	fmt.Fprintln(w, "hunts that read a table the lake has no files for (they cannot find anything there):")
	for _, r := range cov.Lake.Blind {
		fmt.Fprintf(w, "    %s: no %s\n", r.ID, strings.Join(r.Missing, ", "))
	}
	fmt.Fprintf(w, "techniques no hunt can see in this lake: %s\n", orNone(cov.Lake.Uncovered))
	return nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

func newHuntRunCmd() *cobra.Command {
	var (
		s3        s3Flags
		dirs      huntDirs
		limits    limitFlags
		lakeURL   string
		ids       []string
		from, to  string
		last      time.Duration
		out       string
		asJSON    bool
		allowFail bool
		region    string
		account   string
		orgAccts  []string
		cfgPath   string
		previous  string
	)
	c := &cobra.Command{
		Use:   "run --lake LAKE --out RUNDIR [--hunt ID...] [--from T --to T | --last 24h]",
		Short: "Run hunts over the lake and write a run directory (findings, run record, ASFF, HTML report)",
		Long: `run executes hunts over the lake in embedded DuckDB and writes RUNDIR:
  run.json        what ran, over which data (window, accounts, regions, partitions, gaps), how long, what failed
  findings.jsonl  one finding per line: deterministic id (hunt + entity + window), severity, evidence with lineage
  asff.json       the findings in AWS Security Finding Format (see 'lakehunt export securityhub')
  report.html     a self-contained report for auditors

Without --from or --last, each hunt uses its own window ending at --to (default: the start of the current
hour, UTC); --last D is one window of length D ending at --to (default: now, to the minute). For an S3 lake
only the partitions the windows and baselines need are fetched into the local cache, and reused.
One failing hunt never stops the others; the exit status is 3 if any hunt failed, or if a table a hunt
reads had no data in its window (a warning on stderr names the table, the window and the newest data).
Likewise a finding that cannot be ASFF never keeps the others out of asff.json: it is listed on stderr and
in run.json (asff_left_out), and the exit status is 3.`,
		Example: `  lakehunt hunt run --lake ./lake --last 24h --out runs/today
  lakehunt hunt run --lake s3://sec-lake/lake/ --hunt cloudtrail-logging-evasion --from 2026-11-01 --to 2026-11-08 --out runs/nov`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if lakeURL == "" || out == "" {
				return &exitCodeError{code: exitUsage, msg: "hunt run needs --lake and --out; see 'lakehunt hunt run --help'"}
			}
			if previous != "" {
				if _, err := reports.ReadRun(previous); err != nil {
					return &exitCodeError{code: exitUsage, msg: "--previous: " + err.Error()}
				}
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
			if region != "" && !asff.ValidRegion(region) {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("--region %q is not an AWS region name (like us-east-1)", region)}
			}
			lim, err := limits.limits()
			if err != nil {
				return err
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
			cfg, err := findConfig(cfgPath)
			if err != nil {
				return err
			}
			if len(orgAccts) > 0 {
				cfg.Org.Accounts = orgAccts
				if err := cfg.validate(); err != nil {
					return &exitCodeError{code: exitUsage, msg: "--org-account: " + err.Error()}
				}
			}
			opts := hunts.RunOptions{Lake: lk, Hunts: selected, From: fromT, To: toT, Trigger: trigger(),
				ToolVersion: version, GitRevision: gitRevision, CacheDir: baselineCache(s3.cacheDir), Limits: lim,
				Organization: cfg.organization(), OrganizationID: cfg.Org.ID, AllTables: true}
			if !asJSON {
				opts.Log = cmd.ErrOrStderr()
			}
			run, findings, err := hunts.Run(ctx, opts)
			if err != nil {
				return err
			}
			addUnloadable(run, set.Diagnostics)
			run.Previous = previous
			if err := hunts.WriteRunDir(out, run, findings); err != nil {
				return err
			}
			// The entity pages first: the report links each group to its page where one was written.
			pages, pagesErr := investigate.WriteRunPages(ctx, lk, out, run, findings, lim)
			res, perr := publish.Write(out, asff.Options{Region: region, DefaultAccount: account})
			run.ASFFLeftOut = res.LeftOut // publish recorded them in run.json
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), run); err != nil {
					return err
				}
			} else {
				printRunSummary(cmd, run, findings, res)
			}
			printASFFNotes(cmd, res.Warnings, res.LeftOut)
			if err := entityPagesDone(cmd, out, pages, pagesErr, asJSON); err != nil {
				perr = errors.Join(perr, err)
			}
			if perr != nil {
				fmt.Fprintln(cmd.ErrOrStderr(), "lakehunt:", safetext.Text(perr.Error()))
			}
			empty := engine.NoDataIn(run)
			for _, n := range empty {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", n)
			}
			if run.FailedCount > 0 && !allowFail {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d of %d hunts failed; see %s", run.FailedCount, len(run.Hunts), filepath.Join(out, lake.RunFile))}
			}
			if len(res.LeftOut) > 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d of %d findings left out of %s (listed above, and in asff_left_out of %s); fix the cause and write it again with 'lakehunt export asff --run %s'",
					len(res.LeftOut), len(findings), res.ASFF, filepath.Join(out, lake.RunFile), out)}
			}
			if perr != nil {
				return &exitCodeError{code: exitError}
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
	f.StringVar(&to, "to", "", "window end (default: the start of the current hour; with --last, now to the minute)")
	f.DurationVar(&last, "last", 0, "window of this length ending at --to (e.g. 24h, 168h)")
	f.StringVar(&out, "out", "", "run directory to write")
	f.BoolVar(&asJSON, "json", false, "print run.json to stdout instead of a summary")
	f.BoolVar(&allowFail, "allow-failures", false, "exit 0 even if some hunts failed")
	f.StringVar(&region, "region", "", "Security Hub region for asff.json (default: each finding's region); findings whose region is not an AWS region name are filed here")
	f.StringVar(&account, "account", "", "account for findings that have none, in asff.json")
	f.StringSliceVar(&orgAccts, "org-account", nil, "an account of your organization (repeatable or comma-separated); hunts about outside principals treat every other account as outside (default: organization.accounts in the config, else the accounts the lake holds logs for)")
	f.StringVar(&cfgPath, "config", "", "lakehunt.yaml to read the organization from (default: ./lakehunt.yaml if it exists)")
	f.StringVar(&previous, "previous", "", "the run directory the report compares with for \"changes since the previous run\" (default: the run beside --out, in its parent directory, that started last before this one)")
	dirs.register(c)
	limits.register(c)
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
	fmt.Fprintf(w, "run %s over %s .. %s: %s, %d failed, %d without data, %s\n", run.ID,
		run.WindowStart.Format(time.RFC3339), run.WindowEnd.Format(time.RFC3339), plural(len(run.Hunts), "hunt"), run.FailedCount, blindHunts(run), plural(len(findings), "finding"))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, h := range run.Hunts {
		status := h.Status
		if h.Error != "" {
			status += ": " + safetext.Line(firstLine(h.Error))
		}
		if len(h.NoData) > 0 {
			status += ", no data in " + strings.Join(h.NoData, ", ")
		}
		fmt.Fprintf(tw, "  %s\tv%d\t%s\t%s\t%dms\n", h.ID, h.Version, status, plural(h.Findings, "finding"), h.DurationMillis)
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
		fmt.Fprintf(w, "  [%s] %s  (%s %s, %s)\n", f.Severity, safetext.Line(f.Title), f.Entity.Type, safetext.Line(f.Entity.Key), safetext.Line(f.AccountID))
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
