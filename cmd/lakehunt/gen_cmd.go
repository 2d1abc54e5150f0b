package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/gen"
	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

func newGenCmd() *cobra.Command {
	var (
		s3     s3Flags
		out    string
		start  string
		cfg    gen.Config
		asJSON bool
		others int
	)
	c := &cobra.Command{
		Use:   "gen --out DIR|s3://bucket/prefix",
		Short: "Write realistic raw AWS logs, with planted attacks, in the exact S3 delivery layout",
		Long: `gen writes raw logs exactly as AWS delivers them to S3 (object keys, gzip, CloudTrail Records files and
digests, VPC flow logs with a custom v5 header, Route 53 Resolver JSON lines, WAF and ALB logs, GuardDuty and
Security Hub findings) and Wazuh alerts (under hids/: compact them with --source-prefix hids=hids/), all
about one world: a population of principals and instances with stable habits, load balancers with their
clients and the internet's scanners, with CloudTrail duplicates and late files. It plants attack scenarios
taken from public incident write-ups in the last days of the range, some across sources (a scanner WAF
blocked gets in through a load balancer, then its web server raises host alerts, calls a C2 and GuardDuty
reports it), writes threat-intel feeds that list the attackers' addresses after the fact, and a
ground-truth file (ground-truth.json) naming every planted record.

The same flags and --seed always give byte-identical output.`,
		Example: `  lakehunt gen --out ./raw --scale small
  lakehunt gen --out s3://test-bucket/raw/ --scale large --days 28 --accounts 3 --regions 2 --seed 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if out == "" {
				return &exitCodeError{code: exitUsage, msg: "gen needs --out (a local directory or s3://bucket/prefix)"}
			}
			if others < 0 {
				return &exitCodeError{code: exitUsage, msg: "--others-per-day must be 0 (each source's own background) or more"}
			}
			if start != "" {
				t, err := time.Parse(time.DateOnly, start)
				if err != nil {
					return &exitCodeError{code: exitUsage, msg: "--start must be YYYY-MM-DD"}
				}
				cfg.Start = t
			}
			st, err := lake.OpenStore(ctx, out, s3.storeOptions())
			if err != nil {
				return err
			}
			local, _ := st.(interface{ Path(string) string })
			sink := func(key string, body []byte) error {
				if err := lake.PutBytes(context.WithoutCancel(ctx), st, key, body); err != nil || local == nil {
					return err
				}
				// Dated like a delivery at the time in its name (or the end of the day in its folders), so
				// compact --settle does not wait for it.
				info := rawkey.Classify(key)
				t := info.FileTime
				if t.IsZero() && !info.Day.IsZero() {
					t = info.Day.Add(24*time.Hour - time.Minute)
				}
				if !t.IsZero() {
					return os.Chtimes(local.Path(key), t, t)
				}
				return nil
			}
			sum, err := gen.Generate(ctx, cfg, sink)
			if err != nil {
				return fmt.Errorf("gen: %w", err)
			}
			// Sources with their own generator add background traffic about the same world; their planted
			// records are written as a hunt test's events are.
			gc := source.GenConfig{Start: sum.Start, Days: int(sum.End.Sub(sum.Start).Hours() / 24), Accounts: sum.Accounts, Regions: sum.Regions,
				Seed: cfg.Seed, World: sum.World, PerDay: others}
			for _, d := range compact.Descriptors() {
				if d.Generate() == nil {
					continue
				}
				var mu sync.Mutex
				put := func(key string, body []byte) error {
					mu.Lock()
					sum.Objects++
					sum.Bytes += int64(len(body))
					mu.Unlock()
					return sink(key, body)
				}
				n, err := d.Generate()(gc, put)
				if err != nil {
					return fmt.Errorf("gen %s: %w", d.Table(), err)
				}
				if events, ok := sum.Planted[d.Table()]; ok {
					if d.Fixture() == nil {
						return fmt.Errorf("gen %s: planted records but the source has no fixture writer", d.Table())
					}
					if err := d.Fixture()(events, sum.Start, put); err != nil {
						return fmt.Errorf("gen %s: planted records: %w", d.Table(), err)
					}
					if list, ok := events.([]any); ok {
						n += len(list)
					} else {
						n += strings.Count(events.(string), "\n")
					}
				}
				sum.Events[d.Table()] = int64(n)
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), sum)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "wrote %d objects (%.1f MB) to %s covering %s to %s in %s\n", sum.Objects, mb(sum.Bytes), out,
				sum.Start.Format(time.DateOnly), sum.End.Format(time.DateOnly), sum.Elapsed.Round(time.Millisecond))
			for _, t := range compact.Sources {
				fmt.Fprintf(w, "  %-18s %d records\n", t, sum.Events[t])
			}
			fmt.Fprintf(w, "  cloudtrail duplicates %d, late files %d, digests %d\n", sum.CloudTrailDuplicates, sum.CloudTrailLateFiles, sum.CloudTrailDigests)
			fmt.Fprintf(w, "planted scenarios (%s): %v\n", sum.GroundTruthKey, sum.Scenarios)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&out, "out", "", "where to write: a local directory or s3://bucket/prefix")
	f.StringVar(&start, "start", "", "first day, YYYY-MM-DD (default 2025-06-02, so output does not depend on the clock)")
	f.IntVar(&cfg.Days, "days", 0, "days of logs (default: the scale's)")
	f.IntVar(&cfg.Accounts, "accounts", 0, "AWS accounts (default: the scale's)")
	f.IntVar(&cfg.Regions, "regions", 0, "regions per account (default: the scale's)")
	f.StringVar(&cfg.Scale, "scale", "small", "tiny | small | medium | large | custom (custom: set the per-day volumes)")
	f.Int64Var(&cfg.Seed, "seed", 1, "random seed; the same seed gives the same bytes")
	f.IntVar(&cfg.CloudTrailPerDay, "cloudtrail-per-day", 0, "CloudTrail events per day (overrides the scale)")
	f.IntVar(&cfg.FlowsPerDay, "flows-per-day", 0, "flow records per day (overrides the scale)")
	f.IntVar(&cfg.DNSPerDay, "dns-per-day", 0, "DNS queries per day (overrides the scale)")
	f.IntVar(&others, "others-per-day", 0, "WAF, ALB and host IDS records per day per account and region, GuardDuty and Security Hub findings a hundredth of it (default: each source's own background)")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	s3.register(c)
	return c
}
