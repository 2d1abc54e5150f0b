package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/hunts/scheduler"
	"github.com/lakehunt/lakehunt/internal/safetext"
)

func newStatusCmd() *cobra.Command {
	var (
		sf     schedFlags
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "status [--config lakehunt.yaml | --lake LAKE]",
		Short: "Scheduled operation: the last run per hunt, windows, lag, failures, next due; the lease and the last tick",
		Long: `status reads the scheduler's state from the lake: who holds the lease, what the last tick did, per table
how many rows the lake holds and the time and age of its newest event, and per hunt
the end of its last window (the next one starts there), how far behind it is, when its next window is due,
its last run, how many windows it ran within the late-data lookback (and how many were re-run for late
data), gaps between windows, and failing windows with their error. Hunts that have state in the lake but
are no longer loaded are listed too. Exit status 3 if any loaded hunt has a failing window or a gap.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := sf.resolve(cmd, false)
			if err != nil {
				return err
			}
			for _, d := range s.diags {
				fmt.Fprintln(cmd.ErrOrStderr(), d.String())
			}
			now := s.now
			if now.IsZero() {
				now = time.Now()
			}
			rep, err := scheduler.ReadStatus(cmd.Context(), s.lake, s.hunts, now, s.delay)
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printStatus(cmd.OutOrStdout(), rep)
			}
			bad := 0
			for _, h := range rep.Hunts {
				if h.Loaded && (len(h.Failures) > 0 || len(h.Gaps) > 0 || h.Error != "") {
					bad++
				}
			}
			if bad > 0 {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d hunts have failing windows, gaps or errors", bad)}
			}
			return nil
		},
	}
	sf.register(c, false)
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func printStatus(w io.Writer, r *scheduler.StatusReport) {
	fmt.Fprintf(w, "lake %s, as of %s\n", r.Lake, r.Now.Format(time.RFC3339))
	switch {
	case r.Lease == nil:
		fmt.Fprintln(w, "lease: never taken (no tick has run)")
	case r.Lease.Held:
		fmt.Fprintf(w, "lease: held by %s since %s, expires %s\n", safetext.Line(r.Lease.Owner), statusTime(r.Lease.Since), statusTime(r.Lease.Expires))
	default:
		fmt.Fprintf(w, "lease: free (last holder %s)\n", safetext.Line(r.Lease.Owner))
	}
	if t := r.LastTick; t != nil {
		fmt.Fprintf(w, "last tick: %s by %s: %s, %d hunt windows, %d failed\n", statusTime(t.Now), safetext.Line(t.Owner), t.Status, t.Windows, t.Failed)
		for _, p := range t.Problems {
			fmt.Fprintln(w, "  problem:", safetext.Line(p))
		}
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TABLE\tFILES\tROWS\tNEWEST EVENT\tAGE")
	for _, t := range r.Tables {
		age := "-"
		switch {
		case t.Newest.IsZero():
		case t.Age >= 48*time.Hour:
			age = fmt.Sprintf("%dd%dh", int(t.Age.Hours())/24, int(t.Age.Hours())%24)
		default:
			age = lag(t.Age)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\n", t.Table, t.Files, t.Rows, statusTime(t.Newest), age)
	}
	tw.Flush()
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "HUNT\tVERSION\tSCHEDULE\tLAST WINDOW END\tLAG\tNEXT DUE\tLAST RUN\tWINDOWS\tLATE RE-RUNS\tFAILING")
	for _, h := range r.Hunts {
		version, sched := fmt.Sprint(h.Version), h.Schedule
		if !h.Loaded {
			version, sched = "-", "(not loaded)"
		}
		next := statusTime(h.NextDue)
		if !h.NextDue.IsZero() && !h.NextDue.After(r.Now) {
			next = "now"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n", h.ID, version, sched, statusTime(h.LastEnd), lag(h.Lag), next, statusTime(h.LastRunAt), h.Windows, h.LateReruns, len(h.Failures))
	}
	tw.Flush()
	for _, h := range r.Hunts {
		if h.Error != "" {
			fmt.Fprintf(w, "%s: %s\n", h.ID, safetext.Line(h.Error))
		}
		for _, g := range h.Gaps {
			fmt.Fprintf(w, "%s: gap %s .. %s (no successful window)\n", h.ID, statusTime(g.Start), statusTime(g.End))
		}
		for _, f := range h.Failures {
			kind := ""
			if f.Late {
				kind = " (late-data re-run)"
			}
			fmt.Fprintf(w, "%s: window %s .. %s%s failed %d times, last at %s: %s\n", h.ID, statusTime(f.Start), statusTime(f.End), kind, f.Attempts, statusTime(f.At), safetext.Line(firstLine(f.Error)))
		}
	}
}

func statusTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02T15:04Z")
}

func lag(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	return d.Round(time.Minute).String()
}
