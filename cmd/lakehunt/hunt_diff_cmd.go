package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts"
	"github.com/lakehunt/lakehunt/hunts/diff"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/internal/safetext"
)

func newHuntDiffCmd() *cobra.Command {
	var (
		s3                 s3Flags
		limits             limitFlags
		lakeURL, base, dir string
		from, to, last     string
		format             string
		asJSON             bool
		budget             time.Duration
		orgAccts           []string
		examples           int
	)
	c := &cobra.Command{
		Use:   "diff --lake LAKE --base REF|DIR --hunts DIR [--last 14d | --from T --to T]",
		Short: "What a change to the hunts would find: base and changed hunts over the same lake window, findings compared",
		Long: `diff runs the base and the changed version of every hunt whose content hash differs (query, tables,
windows, baselines, filter, severity, output) over the same window of the lake, and reports per hunt the
findings added, removed and unchanged (by finding id), severity changes, run time and rows scanned. A new
hunt shows what it would have found, a deleted one what would no longer be found. Hunts whose content is
the same on both sides are not run.

--hunts is the changed hunts directory; --base is the same directory before the change: another directory,
or a git ref (branch, tag, commit) of the repository holding --hunts. The shipped library is not part of
the comparison. The lake is only read; every hunt runs in the same locked DuckDB session as in 'hunt run',
with --timeout per hunt and --budget for the whole diff.

--format markdown prints a pull request comment (collapsed detail per hunt, at most --examples findings per
list, every value from the logs in a code span so it cannot format, link or mention); --json the full
report. Exit status 3 when a hunt run failed, did not fit in --budget, or a changed hunt file does not load.`,
		Example: `  lakehunt hunt diff --lake s3://sec-lake/lake/ --base origin/main --hunts hunts --last 14d --format markdown > comment.md
  lakehunt hunt diff --lake ./lake --base hunts-before --hunts hunts --from 2026-11-01 --to 2026-11-15 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if lakeURL == "" || base == "" || dir == "" {
				return &exitCodeError{code: exitUsage, msg: "hunt diff needs --lake, --base and --hunts; see 'lakehunt hunt diff --help'"}
			}
			if format != "text" && format != "markdown" {
				return &exitCodeError{code: exitUsage, msg: fmt.Sprintf("--format %q: use text or markdown (--json for JSON)", format)}
			}
			if asJSON && cmd.Flags().Changed("format") {
				return &exitCodeError{code: exitUsage, msg: "give either --json or --format, not both"}
			}
			if examples < 0 {
				return &exitCodeError{code: exitUsage, msg: "--examples must be 0 or more"}
			}
			if from != "" && cmd.Flags().Changed("last") {
				return &exitCodeError{code: exitUsage, msg: "give either --from or --last, not both"}
			}
			fromT, toT, err := diffWindow(from, to, last)
			if err != nil {
				return err
			}
			lim, err := limits.limits()
			if err != nil {
				return err
			}
			head, err := hunts.LoadDir(dir)
			if err != nil {
				return err
			}
			baseSet, err := loadBase(cmd, base, dir)
			if err != nil {
				return err
			}
			for _, d := range baseSet.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), "base:", d.String())
			}
			for _, d := range head.Diagnostics {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			rep, err := diff.Run(ctx, diff.Options{Lake: lk, Base: baseSet.Hunts, Head: head.Hunts, From: fromT, To: toT,
				Budget: budget, Limits: lim, Organization: orgAccts})
			if err != nil {
				return err
			}
			switch {
			case asJSON:
				err = printJSON(cmd.OutOrStdout(), rep)
			case format == "markdown":
				_, err = io.WriteString(cmd.OutOrStdout(), rep.Markdown(examples))
			default:
				err = printDiff(cmd.OutOrStdout(), rep, examples)
			}
			if err != nil {
				return err
			}
			if rep.Failed > 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d hunt runs failed or did not run (see above): the diff is incomplete", rep.Failed)}
			}
			if n := countFiles(head.Diagnostics); n > 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d changed hunt files do not load and are left out of the diff (listed above; see 'lakehunt hunt lint')", n)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix (only read)")
	f.StringVar(&base, "base", "", "the hunts before the change: a directory, or a git ref of the repository holding --hunts")
	f.StringVar(&dir, "hunts", "", "the changed hunts directory")
	f.StringVar(&from, "from", "", "window start (RFC 3339 or YYYY-MM-DD)")
	f.StringVar(&to, "to", "", "window end (default: the start of the current hour)")
	f.StringVar(&last, "last", "14d", "window of this length ending at --to (e.g. 24h, 14d), unless --from is given")
	f.StringVar(&format, "format", "text", "text | markdown (a pull request comment)")
	f.BoolVar(&asJSON, "json", false, "print the whole diff as JSON")
	f.DurationVar(&budget, "budget", 30*time.Minute, "the longest the whole diff may take; hunts not run by then are reported (0: no limit)")
	f.StringSliceVar(&orgAccts, "org-account", nil, "an account of your organization (repeatable or comma-separated); hunts about outside principals treat every other account as outside (default: the accounts the lake holds logs for)")
	f.IntVar(&examples, "examples", 5, "findings shown per list and hunt (text and markdown)")
	limits.register(c)
	s3.register(c)
	return c
}

// diffWindow is --from/--to, else --last ending at --to (default: the start of the current hour).
func diffWindow(from, to, last string) (time.Time, time.Time, error) {
	fromT, err := parseTimeFlag(from)
	if err != nil {
		return fromT, fromT, &exitCodeError{code: exitUsage, msg: "--from: " + err.Error()}
	}
	toT, err := parseTimeFlag(to)
	if err != nil {
		return fromT, toT, &exitCodeError{code: exitUsage, msg: "--to: " + err.Error()}
	}
	if toT.IsZero() {
		toT = time.Now().UTC().Truncate(time.Hour)
	}
	if fromT.IsZero() {
		d, err := huntfile.ParseDuration(last)
		if err != nil {
			return fromT, toT, &exitCodeError{code: exitUsage, msg: "--last: " + err.Error()}
		}
		fromT = toT.Add(-d.D())
	}
	if !fromT.Before(toT) {
		return fromT, toT, &exitCodeError{code: exitUsage, msg: "--from must be before --to"}
	}
	return fromT, toT, nil
}

// loadBase loads --base: a directory as it is, else the --hunts directory at that git ref.
func loadBase(cmd *cobra.Command, base, dir string) (*hunts.Set, error) {
	if st, err := os.Stat(base); err == nil && st.IsDir() {
		return hunts.LoadDir(base)
	}
	tmp, err := os.MkdirTemp("", "lakehunt-diff-base-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	found, err := diff.CheckoutBase(cmd.Context(), dir, base, tmp)
	if err != nil {
		return nil, err
	}
	if !found {
		fmt.Fprintf(cmd.ErrOrStderr(), "%s does not exist at %s: every hunt in it is new\n", dir, base)
	}
	return hunts.LoadDir(tmp)
}

func printDiff(w io.Writer, rep *diff.Report, examples int) error {
	fmt.Fprintf(w, "hunt diff over %s .. %s of %s (version %d): %s changed, %s unchanged and not run\n",
		rep.WindowStart.Format(time.RFC3339), rep.WindowEnd.Format(time.RFC3339), safetext.Line(rep.Lake), rep.LakeVersion,
		plural(len(rep.Hunts), "hunt"), plural(len(rep.Unchanged), "hunt"))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  HUNT\tCHANGE\tFINDINGS\tADDED\tREMOVED\tSEVERITY\tTIME\tROWS")
	side := func(h diff.Hunt, f func(*diff.Side) string) string {
		var parts []string
		for _, s := range []*diff.Side{h.Base, h.Head} {
			if s != nil {
				parts = append(parts, f(s))
			}
		}
		return strings.Join(parts, " -> ")
	}
	for _, h := range rep.Hunts {
		change := h.Change
		if h.Change == diff.Changed && h.Head.Version <= h.Base.Version {
			change += " (version not raised)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t+%d\t-%d\t%d\t%s\t%s\n", h.ID, change,
			side(h, func(s *diff.Side) string {
				if s.Status != "ok" {
					return s.Status
				}
				return fmt.Sprint(s.Findings)
			}), len(h.Added), len(h.Removed), len(h.SeverityChanges),
			side(h, func(s *diff.Side) string { return fmt.Sprintf("%dms", s.DurationMillis) }),
			side(h, func(s *diff.Side) string { return fmt.Sprint(s.RowsScanned) }))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, h := range rep.Hunts {
		for _, s := range []*diff.Side{h.Base, h.Head} {
			if s != nil && s.Error != "" {
				fmt.Fprintf(w, "%s v%d %s: %s\n", h.ID, s.Version, s.Status, safetext.Line(s.Error))
			}
		}
		for _, l := range []struct {
			sign string
			fs   []diff.Finding
		}{{"+", h.Added}, {"-", h.Removed}} {
			for i, f := range l.fs {
				if i == examples {
					fmt.Fprintf(w, "%s %s: %d more (--json lists them all)\n", l.sign, h.ID, len(l.fs)-examples)
					break
				}
				fmt.Fprintf(w, "%s %s [%s] %s  (%s)\n", l.sign, h.ID, f.Severity, safetext.Line(f.Title), safetext.Line(f.Entity))
			}
		}
		for i, c := range h.SeverityChanges {
			if i == examples {
				fmt.Fprintf(w, "~ %s: %d more severity changes\n", h.ID, len(h.SeverityChanges)-examples)
				break
			}
			fmt.Fprintf(w, "~ %s [%s -> %s] %s  (%s)\n", h.ID, c.From, c.Severity, safetext.Line(c.Title), safetext.Line(c.Entity))
		}
	}
	return nil
}
