package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/compact"
)

func newCompactCmd() *cobra.Command {
	var (
		s3       s3Flags
		from     string
		lakeURL  string
		sources  string
		prefix   string
		asJSON   bool
		tolerate bool
		verbose  bool
		batch    int
		memLimit int64
	)
	c := &cobra.Command{
		Use:   "compact --from RAW --lake LAKE",
		Short: "Compact raw AWS logs into the Parquet lake, exactly once",
		Long: `compact reads every raw log object under --from that the lake has not consumed yet, and writes its
records into the lake's tables (cloudtrail, vpc_flow, route53_resolver), partitioned by account, region
and event-time day, as zstd Parquet sorted by time.

--from holds logs laid out as AWS delivers them to S3: AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/...,
.../vpcflowlogs/..., .../vpcdnsquerylogs/.... It may be the folder (or bucket) that holds AWSLogs/,
AWSLogs/ itself, or any folder below it, down to one account, service, region or day: the lake records each
object by its key from AWSLogs/ on, so the same object is read once whichever level it was listed from.
A --from with no objects, or with none in that layout, is an error (exit 1). CloudTrail digest and
Insights files are recognised and skipped.

Exactly once: the lake records which raw objects it consumed in the same atomic commit as their rows, and
CloudTrail events are deduplicated on eventID across files and runs. Re-running picks up only new objects;
a run killed at any point leaves nothing half-visible, and the next run finishes the job.

Bad input (corrupt gzip, truncated JSON, a flow-log line that does not match its header, an empty object,
another format under the right prefix, an oversized record) is quarantined with its reason, the rest goes
on, and the exit code is 3 unless --allow-quarantine. List quarantined input with 'lakehunt quarantine'.

An object that cannot be read (S3 errors or broken connections that outlast the retries) is not bad input:
it is neither quarantined nor recorded as consumed, the rest is committed, the exit code is 1, and the next
run reads it.`,
		Example: `  lakehunt compact --from ./raw --lake ./lake
  lakehunt compact --from s3://org-trail-bucket/AWSLogs/ --lake s3://sec-lake/lake/ --json
  lakehunt compact --from s3://org-trail-bucket/AWSLogs/o-exampleorgid/111122223333/ --lake s3://sec-lake/lake/
  lakehunt compact --from ./raw --lake ./lake --sources cloudtrail,vpc_flow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if from == "" || lakeURL == "" {
				return &exitCodeError{code: exitUsage, msg: "compact needs --from (raw logs) and --lake (the lake); see 'lakehunt compact --help'"}
			}
			ctx := cmd.Context()
			if memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
				debug.SetMemoryLimit(memLimit << 20)
			}
			src, err := openRaw(ctx, withPrefix(from, prefix), s3.storeOptions())
			if err != nil {
				return err
			}
			lk, err := s3.openLake(ctx, lakeURL)
			if err != nil {
				return err
			}
			opts := compact.Options{From: src, Lake: lk, Log: logger(verbose), BatchRows: batch}
			if sources != "" {
				opts.Sources = strings.Split(sources, ",")
			}
			if !asJSON && isTerminal(os.Stderr) {
				opts.Progress = os.Stderr
			}
			sum, err := compact.Run(ctx, opts)
			if err != nil {
				return fmt.Errorf("compact %s into %s: %w", from, lakeURL, err)
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), sum); err != nil {
					return err
				}
			} else {
				printCompactSummary(cmd, sum)
			}
			// Exit 1, not 3: nothing was compacted because the location is wrong, not because input was bad.
			if msg := sum.NothingFound(); msg != "" {
				return &exitCodeError{code: exitError, msg: msg}
			}
			// Exit 1, not 3: the input is fine and running again reads it; --allow-quarantine does not cover it.
			if sum.Incomplete() {
				return &exitCodeError{code: exitError, msg: fmt.Sprintf("%d objects could not be read (S3 or network errors); they are not marked consumed: run compact again to read them",
					sum.ObjectsFailed)}
			}
			if sum.Quarantined() && !tolerate {
				return &exitCodeError{code: exitBadInput, msg: fmt.Sprintf("%d objects and %d records were quarantined; see 'lakehunt quarantine --lake %s' (pass --allow-quarantine to exit 0)",
					sum.ObjectsQuarantined, sum.RecordsQuarantined, lakeURL)}
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&from, "from", "", "raw logs: a local directory or s3://bucket/prefix in the AWS delivery layout")
	f.StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	f.StringVar(&sources, "sources", "", "comma-separated tables to fill: "+strings.Join(compact.Sources, ",")+" (default all)")
	f.StringVar(&prefix, "prefix", "", "appended to --from")
	_ = f.MarkDeprecated("prefix", "put the prefix in --from (--from s3://bucket/AWSLogs/111122223333/)")
	f.BoolVar(&asJSON, "json", false, "print a machine-readable summary on stdout")
	f.BoolVar(&tolerate, "allow-quarantine", false, "exit 0 even if some input was quarantined")
	f.BoolVarP(&verbose, "verbose", "v", false, "log each quarantined object and commit")
	f.IntVar(&batch, "batch-rows", 0, "rows buffered before a commit (bounds memory; default 64000)")
	f.Int64Var(&memLimit, "memory-limit", 384, "soft memory limit in MiB for the Go runtime (0: none; GOMEMLIMIT wins)")
	s3.register(c)
	return c
}

func printCompactSummary(cmd *cobra.Command, s *compact.Summary) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "objects: %d listed, %d new read, %d already in the lake, %d skipped, %d ignored, %d quarantined",
		s.ObjectsListed, s.ObjectsRead, s.ObjectsAlreadyDone, s.ObjectsSkipped, s.ObjectsIgnored, s.ObjectsQuarantined)
	if s.ObjectsFailed > 0 {
		fmt.Fprintf(w, ", %d could not be read (read again next run)", s.ObjectsFailed)
	}
	if s.ObjectsNotSelected > 0 {
		fmt.Fprintf(w, ", %d of other sources or accounts", s.ObjectsNotSelected)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "records: %d in, %d written, %d duplicates dropped, %d quarantined\n",
		s.RecordsIn, s.RecordsWritten, s.DuplicatesDropped, s.RecordsQuarantined)
	for _, t := range compact.Sources {
		if n := s.PerTable[t]; n > 0 {
			fmt.Fprintf(w, "  %-18s %d rows\n", t, n)
		}
	}
	fmt.Fprintf(w, "lake: %d files in %d partitions written, %d small files merged, %d commits, now at version %d\n",
		s.FilesWritten, s.PartitionsWritten, s.FilesMerged, s.Commits, s.LakeVersion)
	secs := s.Seconds
	if secs <= 0 {
		secs = 1e-9
	}
	fmt.Fprintf(w, "bytes: %.1f MB raw in (%.1f MB uncompressed), %.1f MB Parquet out, %.1fs (%.0f records/s)\n",
		mb(s.BytesIn), mb(s.BytesInUncompressed), mb(s.BytesOut), s.Seconds, float64(s.RecordsIn)/secs)
	for i, f := range s.Failed {
		if i == 10 {
			fmt.Fprintf(w, "  ... and %d more not read\n", s.ObjectsFailed-i)
			break
		}
		fmt.Fprintf(w, "  not read %s: %s\n", f.Key, f.Reason)
	}
	for i, q := range s.Quarantine {
		if i == 10 {
			fmt.Fprintf(w, "  ... and more: lakehunt quarantine\n")
			break
		}
		where := q.SourceKey
		if q.Record > 0 {
			where = fmt.Sprintf("%s record %d", q.SourceKey, q.Record)
		}
		fmt.Fprintf(w, "  quarantined %s: %s\n", where, q.Reason)
	}
}

func mb(n int64) float64 { return float64(n) / 1e6 }

func newQuarantineCmd() *cobra.Command {
	var (
		s3      s3Flags
		lakeURL string
		asJSON  bool
	)
	c := &cobra.Command{
		Use:   "quarantine --lake LAKE",
		Short: "List raw objects and records that compaction quarantined, with the reason",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := s3.openLake(cmd.Context(), lakeURL)
			if err != nil {
				return err
			}
			snap, err := lk.FileSnapshot(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), snap.Quarantine)
			}
			w := cmd.OutOrStdout()
			if len(snap.Quarantine) == 0 {
				fmt.Fprintln(w, "nothing quarantined")
				return nil
			}
			for _, q := range snap.Quarantine {
				rec := "whole object"
				if q.Record > 0 {
					rec = fmt.Sprintf("record %d", q.Record)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", q.Time.Format(time.RFC3339), q.Source, q.SourceKey, rec, q.Reason)
			}
			return nil
		},
	}
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	_ = c.MarkFlagRequired("lake")
	s3.register(c)
	return c
}

func newVacuumCmd() *cobra.Command {
	var (
		s3      s3Flags
		lakeURL string
		minAge  time.Duration
	)
	c := &cobra.Command{
		Use:   "vacuum --lake LAKE",
		Short: "Delete lake objects no reader needs: unreferenced data files (orphans of killed runs, files merged away), replaced consumed-object manifests, old checkpoints",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			lk, err := s3.openLake(cmd.Context(), lakeURL)
			if err != nil {
				return err
			}
			n, err := lk.Vacuum(cmd.Context(), minAge)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted %d unreferenced objects older than %s\n", n, minAge)
			return nil
		},
	}
	c.Flags().StringVar(&lakeURL, "lake", "", "the lake: a local directory or s3://bucket/prefix")
	c.Flags().DurationVar(&minAge, "min-age", 24*time.Hour, "keep unreferenced files younger than this (readers of older snapshots may still use them)")
	_ = c.MarkFlagRequired("lake")
	s3.register(c)
	return c
}
