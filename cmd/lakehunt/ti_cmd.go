package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"path"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/compact/ti"
	"github.com/lakehunt/lakehunt/compact/tifeed"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
)

func newTICmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "ti",
		Short: "Threat intel in the lake: import feeds, list them",
		Long: `Threat-intel indicators live in the lake's ti_indicators table with the time each became known (valid_from)
and stopped being listed (valid_to), so hunts can ask both "with today's intel, what happened in the past"
and "what did we know at the time". The ti-* hunts match them against VPC flow, CloudTrail and DNS.`,
	}
	c.AddCommand(newTIImportCmd(), newTIListCmd())
	return c
}

func newTIImportCmd() *cobra.Command {
	var (
		s3      s3Flags
		lakeURL string
		feed    string
		format  string
		asJSON  bool
		now     string
	)
	c := &cobra.Command{
		Use:   "import --lake LAKE --feed NAME FILE_OR_S3_URL...",
		Short: "Import a feed's current content (idempotent; indicators no longer listed get valid_to)",
		Long: `import reads the files as the complete current content of the feed. Indicators new to the feed get
valid_from = now, ones still listed keep theirs, ones missing get valid_to = now; an identical re-import
commits nothing. Private, loopback, link-local, multicast and other special-purpose ranges are excluded
from matching and reported, as are malformed lines (with line numbers). Formats: auto, ` + strings.Join(tifeed.Formats, ", ") + `.
The lake must exist already ('lakehunt compact' creates it): indicators alone have nothing to match.`,
		Example: `  lakehunt ti import --lake ./lake --feed feodo ipblocklist.csv
  lakehunt ti import --lake s3://sec-lake/lake/ --feed firehol-level1 --format netset s3://intel/firehol_level1.netset`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if lakeURL == "" || feed == "" {
				return &exitCodeError{code: exitUsage, msg: "ti import needs --lake and --feed"}
			}
			at := time.Now().UTC()
			if now != "" {
				t, err := parseTimeFlag(now)
				if err != nil {
					return &exitCodeError{code: exitUsage, msg: "--now: " + err.Error()}
				}
				at = t
			}
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			var sources []ti.Source
			for _, a := range args {
				src := ti.Source{URL: a, Format: format}
				if strings.HasPrefix(a, "s3://") {
					dir, key := path.Split(a)
					src.Open = func(ctx context.Context) (io.ReadCloser, error) {
						st, err := lake.OpenStore(ctx, dir, s3.storeOptions())
						if err != nil {
							return nil, err
						}
						return st.Open(ctx, key)
					}
				}
				sources = append(sources, src)
			}
			sum, err := ti.Import(ctx, lk, feed, sources, at)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), sum)
			}
			w := cmd.OutOrStdout()
			for _, s := range sum.Sources {
				fmt.Fprintf(w, "%s (%s): %d indicators, %d malformed, %d bogons excluded\n", s.URL, s.Format, s.Indicators, s.Malformed, s.Bogons)
			}
			fmt.Fprintf(w, "feed %s: %d listed (%s); %d new, %d still listed, %d updated, %d closed\n",
				sum.Feed, sum.Indicators, countsList(sum.ByType), sum.New, sum.StillListed, sum.Updated, sum.Closed)
			for _, is := range sum.Bogons {
				fmt.Fprintf(w, "  excluded %s:%d: %s (%s)\n", is.Source, is.Line, safetext.Line(is.Text), safetext.Line(is.Reason))
			}
			for _, is := range sum.Malformed {
				fmt.Fprintf(w, "  malformed %s:%d: %s: %q\n", is.Source, is.Line, safetext.Line(is.Reason), is.Text)
			}
			for _, is := range sum.Warnings {
				fmt.Fprintf(w, "  warning %s:%d: %s: %q\n", is.Source, is.Line, safetext.Line(is.Reason), is.Text)
			}
			for _, reason := range slices.Sorted(maps.Keys(sum.Skipped)) {
				fmt.Fprintf(w, "  skipped %d records: %s\n", sum.Skipped[reason], safetext.Line(reason))
			}
			if !sum.Changed {
				fmt.Fprintln(w, "nothing changed: the lake already holds this content")
			} else {
				fmt.Fprintf(w, "committed %s (lake version %d)\n", sum.File, sum.LakeVersion)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	f.StringVar(&feed, "feed", "", "feed name (lower-case letters, digits, . _ -)")
	f.StringVar(&format, "format", "auto", "auto, "+strings.Join(tifeed.Formats, ", "))
	f.BoolVar(&asJSON, "json", false, "print the import summary as JSON")
	f.StringVar(&now, "now", "", "import time (default now; for backfills and tests)")
	s3.register(c)
	return c
}

func newTIListCmd() *cobra.Command {
	var (
		s3      s3Flags
		lakeURL string
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "list --lake LAKE",
		Short: "List feeds: indicator counts by type, dropped indicators, first import, last change",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := s3.openLake(cmd.Context(), lakeURL)
			if err != nil {
				return err
			}
			feeds, err := ti.List(cmd.Context(), lk)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), feeds)
			}
			if len(feeds) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no feeds imported; see 'lakehunt ti import --help'")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 2, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FEED\tLISTED\tBY TYPE\tDROPPED\tFIRST IMPORT\tLAST CHANGE")
			for _, f := range feeds {
				fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\t%s\n", f.Feed, f.Listed, countsList(f.ByType), f.Dropped, f.FirstImport.Format(time.RFC3339), f.LastChange.Format(time.RFC3339))
			}
			return tw.Flush()
		},
	}
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("lake")
	s3.register(c)
	return c
}
