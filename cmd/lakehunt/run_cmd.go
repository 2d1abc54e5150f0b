package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/ti"
	"github.com/lakehunt/lakehunt/hunts"
	"github.com/lakehunt/lakehunt/hunts/scheduler"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/investigate"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/securityhub"
)

// exitBusy: run --due found another tick running. Not a failure (the other tick does the work), but
// distinct from "nothing due" so overlapping schedules or a stuck lease can be noticed.
const exitBusy = 5

// schedFlags are the flags run --due and status share; each overrides the config file's value.
type schedFlags struct {
	s3        s3Flags
	config    string
	lake      string
	from      []string
	rawPrefix string
	runs      string
	huntDirs  []string
	noLibrary bool
	ids       []string
	delay     string
	lookback  string
	leaseTTL  string
	catchUp   int
	now       string
}

func (f *schedFlags) register(c *cobra.Command, forRun bool) {
	fl := c.Flags()
	fl.StringVar(&f.config, "config", "", "configuration file (default ./"+defaultConfigFile+" if it exists; write one with 'lakehunt init')")
	fl.StringVar(&f.lake, "lake", "", "the lake: a local directory or s3://bucket/prefix (overrides the config)")
	fl.StringArrayVar(&f.huntDirs, "hunts", nil, "a directory of your own hunt files (repeatable; overrides the config's hunts.dirs)")
	fl.BoolVar(&f.noLibrary, "no-library", false, "leave out the hunts shipped in the binary")
	fl.StringArrayVar(&f.ids, "hunt", nil, "only this hunt id (repeatable; overrides the config's hunts.only)")
	fl.StringVar(&f.delay, "delay", "", "a window closes this long after its end (default 15m)")
	fl.StringVar(&f.now, "now", "", "the tick's clock reading, RFC 3339 (for tests and backfills; default: now)")
	if forRun {
		fl.StringArrayVar(&f.from, "from", nil, "raw logs to compact first, in the AWS delivery layout (repeatable; overrides the config's raw)")
		fl.StringVar(&f.rawPrefix, "raw-prefix", "", "appended to each --from")
		_ = fl.MarkDeprecated("raw-prefix", "put the prefix in --from (--from s3://bucket/AWSLogs/)")
		fl.StringVar(&f.runs, "runs", "", "where run directories go: a local directory or s3://bucket/prefix (default: in the lake)")
		fl.StringVar(&f.lookback, "late-lookback", "", "late data re-opens windows this far back (default 7d)")
		fl.StringVar(&f.leaseTTL, "lease-ttl", "", "how long a crashed runner blocks the others, on the real clock (default 5m; renewed every third of it)")
		fl.IntVar(&f.catchUp, "max-catch-up", 0, "windows per hunt per tick after an outage (default 24)")
	}
	f.s3.register(c)
}

// settings are the config file with the flags applied.
type settings struct {
	cfg      *config
	lake     *lake.Lake
	hunts    []*hunts.Hunt
	diags    []hunts.Diagnostic
	now      time.Time
	delay    time.Duration
	lookback time.Duration
	leaseTTL time.Duration
}

// resolve reads the config and applies the flags. A tick that compacts raw logs (forTick with raw sources)
// starts the lake if there is none; otherwise the lake must exist.
func (f *schedFlags) resolve(cmd *cobra.Command, forTick bool) (*settings, error) {
	ctx := cmd.Context()
	cfg, err := findConfig(f.config)
	if err != nil {
		return nil, &exitCodeError{code: exitUsage, msg: err.Error()}
	}
	changed := cmd.Flags().Changed
	if changed("lake") {
		cfg.Lake = f.lake
	}
	if changed("from") {
		cfg.Raw = nil
		for _, u := range f.from {
			cfg.Raw = append(cfg.Raw, rawConfig{URL: withPrefix(u, f.rawPrefix)})
		}
	}
	if changed("runs") {
		cfg.Outputs.Runs = f.runs
	}
	if changed("hunts") {
		cfg.Hunts.Dirs = f.huntDirs
	}
	if f.noLibrary {
		no := false
		cfg.Hunts.Library = &no
	}
	if changed("hunt") {
		cfg.Hunts.Only = f.ids
	}
	if changed("max-catch-up") {
		if f.catchUp <= 0 {
			return nil, &exitCodeError{code: exitUsage, msg: "--max-catch-up must be positive"}
		}
		cfg.Schedule.MaxCatchUp = f.catchUp
	}
	for _, d := range []struct {
		flag string
		text string
		dst  *duration
	}{{"delay", f.delay, &cfg.Schedule.Delay}, {"late-lookback", f.lookback, &cfg.Schedule.LateLookback}, {"lease-ttl", f.leaseTTL, &cfg.Schedule.LeaseTTL}} {
		if changed(d.flag) {
			v, err := parseDuration(d.text)
			if err != nil {
				return nil, &exitCodeError{code: exitUsage, msg: "--" + d.flag + ": " + err.Error()}
			}
			*d.dst = duration(v)
		}
	}
	if changed("s3-endpoint") {
		cfg.S3.Endpoint = f.s3.endpoint
	}
	if changed("s3-region") {
		cfg.S3.Region = f.s3.region
	}
	if changed("cache-dir") {
		cfg.S3.CacheDir = f.s3.cacheDir
	}
	f.s3 = s3Flags{endpoint: cfg.S3.Endpoint, region: cfg.S3.Region, cacheDir: cfg.S3.CacheDir}
	if cfg.Lake == "" {
		return nil, &exitCodeError{code: exitUsage, msg: "no lake: pass --lake LAKE or set lake: in " + defaultConfigFile + " (write one with 'lakehunt init')"}
	}
	s := &settings{cfg: cfg, delay: time.Duration(cfg.Schedule.Delay), lookback: time.Duration(cfg.Schedule.LateLookback), leaseTTL: time.Duration(cfg.Schedule.LeaseTTL)}
	if f.now != "" {
		if s.now, err = time.Parse(time.RFC3339, f.now); err != nil {
			return nil, &exitCodeError{code: exitUsage, msg: fmt.Sprintf("--now %q is not an RFC 3339 time such as 2026-11-01T10:30:00Z", f.now)}
		}
	}
	library := cfg.Hunts.Library == nil || *cfg.Hunts.Library
	set, err := hunts.Load(library, cfg.Hunts.Dirs...)
	if err != nil {
		return nil, err
	}
	s.diags = set.Diagnostics
	if s.hunts, err = hunts.Select(set.Hunts, cfg.Hunts.Only); err != nil {
		return nil, &exitCodeError{code: exitUsage, msg: err.Error()}
	}
	open := f.s3.openLake
	if forTick && len(cfg.Raw) > 0 {
		open = f.s3.createLake
	}
	if s.lake, err = open(ctx, cfg.Lake); err != nil {
		return nil, err
	}
	return s, nil
}

func newRunCmd() *cobra.Command {
	var (
		sf     schedFlags
		due    bool
		owner  string
		shub   bool
		asJSON bool
	)
	c := &cobra.Command{
		Use:   "run --due [--config lakehunt.yaml] [--now T]",
		Short: "One scheduled tick: compact what is new, run the hunt windows that are due, publish (for cron or EventBridge)",
		Long: `run --due is what cron, or an EventBridge Scheduler rule starting a container task, calls every few minutes;
the tool itself decides what is due. One tick:

  1. takes the lease "scheduler" in the lake (S3 If-None-Match / If-Match), so overlapping ticks cannot both
     run; a crashed runner's lease expires after --lease-ttl;
  2. imports the configured threat-intel feeds and compacts new raw objects into the lake;
  3. for each hunt, cuts the time since its last window into contiguous windows ending at its schedule's
     fire times (cron, @hourly, rate(...), cron(...)), each closed only --delay after its end; after an
     outage it catches up oldest first, at most --max-catch-up windows per hunt per tick;
  4. re-runs past windows (within --late-lookback) that received late rows (selected by ingest time as
     well as event time): same window, same finding ids, so findings are updated, not duplicated;
  5. writes one run directory per window (run.json, findings.jsonl, report.html, asff.json), exports to
     Security Hub and hands new finding groups to Slack, Jira and a webhook if configured (outputs: in the
     config; what was sent is recorded in run.json and not sent again), indexes the run in the lake, and
     only then records the window as done. A failed hunt (or publish) keeps its window for the next tick;
     the other hunts move on. An output that refuses (a 4xx) does not: the tick reports it (exit 3).

The state lives in the lake (_lakehunt/state/), so any machine can run the next tick. Logs are JSON lines
(log/slog) on stderr. Exit status: 0 ok, 3 some hunt windows failed (or a table a hunt reads had no data in
the window, input was quarantined, a feed did not import, or findings were left out of asff.json), 4 nothing
was due, 5 another tick is running (not a failure), 1 could not run.

Without a config file: --lake LAKE --from RAW_SOURCE --runs WHERE_RUN_DIRECTORIES_GO.`,
		Example: `  lakehunt run --due --config /etc/lakehunt/lakehunt.yaml
  lakehunt run --due --lake s3://sec-lake/lake/ --from s3://org-trail-bucket/ --runs s3://sec-lake/runs/
  lakehunt run --due --lake ./lake --from ./raw --now 2026-11-01T10:30:00Z   # a test or backfill tick`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !due {
				return &exitCodeError{code: exitUsage, msg: "run needs --due (one scheduled tick); for a one-off run over a chosen window use 'lakehunt hunt run'"}
			}
			ctx := cmd.Context()
			log := slog.New(slog.NewJSONHandler(cmd.ErrOrStderr(), logOptions(slog.LevelInfo)))
			s, err := sf.resolve(cmd, true)
			if err != nil {
				return err
			}
			cfg := s.cfg
			if cfg.path != "" {
				log.Info("configuration", "file", cfg.path)
			}
			if cfg.Catalog.GlueDatabase != "" && s.lake.IsLocal() {
				return &exitCodeError{code: exitUsage, msg: "catalog.glue_database needs an S3 lake: Glue and Athena read Iceberg tables in S3 only"}
			}
			badHunts := 0
			for _, d := range s.diags {
				if !d.Warning {
					badHunts++
				}
				log.Error("hunt file did not load", "diagnostic", d.String())
			}
			if changed := cmd.Flags().Changed; changed("securityhub") {
				cfg.Outputs.SecurityHub.Enabled = shub
			}
			handoffFlags(cmd, &cfg.Outputs)
			if err := cfg.Outputs.validate(); err != nil {
				return &exitCodeError{code: exitUsage, msg: err.Error()}
			}
			opts := scheduler.Options{Lake: s.lake, Hunts: s.hunts, Now: s.now, Delay: s.delay, MaxCatchUp: cfg.Schedule.MaxCatchUp,
				LateLookback: s.lookback, LeaseTTL: s.leaseTTL, Owner: owner, CacheDir: baselineCache(sf.s3.cacheDir),
				ToolVersion: version, GitRevision: gitRevision, Log: log, Organization: cfg.organization(), OrganizationID: cfg.Org.ID}
			if opts.Limits, err = cfg.Hunts.limits(); err != nil {
				return err // validated when the config was read
			}
			if opts.Raw, err = rawSources(ctx, cfg, sf.s3.storeOptions()); err != nil {
				return err
			}
			opts.TIFeeds = tiFeeds(cfg, sf.s3.storeOptions())
			if cfg.Outputs.Runs != "" {
				runs := cfg.Outputs.Runs
				if !strings.Contains(runs, "://") {
					if runs, err = filepath.Abs(runs); err != nil {
						return err
					}
				}
				if opts.Runs, err = lake.OpenStore(ctx, runs, sf.s3.storeOptions()); err != nil {
					return err
				}
			}
			opts.Publish = publisher(cfg, log, s.lake, opts.Runs, sf.s3.storeOptions())
			// The outcome is logged as JSON; the exit errors carry no text so stderr stays JSON lines.
			res, err := scheduler.Tick(ctx, opts)
			if err != nil {
				log.Error("could not run", "error", err.Error())
				return &exitCodeError{code: exitError}
			}
			if g := cfg.Catalog; g.GlueDatabase != "" && res.Status != scheduler.StatusBusy {
				if _, err := (glueTarget{Database: g.GlueDatabase, Region: g.Region, Endpoint: g.Endpoint}).register(ctx, s.lake); err != nil {
					catalogFailures.Add(1)
					log.Error("the Glue tables were not updated: Athena reads the previous snapshot until the next tick or 'lakehunt catalog register'",
						"glue_database", g.GlueDatabase, "error", err.Error())
				}
			}
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), res); err != nil {
					return err
				}
			} else {
				printTick(cmd.OutOrStdout(), res)
			}
			switch {
			case res.Status == scheduler.StatusBusy:
				return &exitCodeError{code: exitBusy}
			case res.Status == scheduler.StatusFailed:
				return &exitCodeError{code: exitBadInput}
			case badHunts > 0:
				log.Error("hunt files did not load; the other hunts ran", "files", badHunts)
				return &exitCodeError{code: exitBadInput}
			case res.Status == scheduler.StatusNothingDue:
				return &exitCodeError{code: exitNothingDue}
			}
			return nil
		},
	}
	sf.register(c, true)
	c.Flags().BoolVar(&due, "due", false, "run one scheduled tick (required)")
	c.Flags().StringVar(&owner, "owner", "", "this runner's name in the lease and logs (default host/pid)")
	c.Flags().BoolVar(&shub, "securityhub", false, "export each run to Security Hub (overrides outputs.securityhub.enabled)")
	registerHandoffFlags(c)
	c.Flags().BoolVar(&asJSON, "json", false, "print the tick's result as JSON on stdout")
	return c
}

func rawSources(ctx context.Context, cfg *config, so lake.StoreOptions) ([]scheduler.RawSource, error) {
	var out []scheduler.RawSource
	for _, r := range cfg.Raw {
		st, err := openRaw(ctx, r.URL, so)
		if err != nil {
			return nil, err
		}
		out = append(out, scheduler.RawSource{Store: st, Accounts: cfg.Accounts, Sources: r.Sources, Prefixes: r.Prefixes, Settle: compact.DefaultSettle})
	}
	return out, nil
}

func tiFeeds(cfg *config, so lake.StoreOptions) []scheduler.TIFeed {
	var out []scheduler.TIFeed
	for _, f := range cfg.TIFeeds {
		feed := scheduler.TIFeed{Name: f.Name}
		for _, u := range f.URLs {
			src := ti.Source{URL: u, Format: f.Format}
			if dir, key, ok := splitS3Key(u); ok {
				src.Open = func(ctx context.Context) (io.ReadCloser, error) {
					st, err := lake.OpenStore(ctx, dir, so)
					if err != nil {
						return nil, err
					}
					return st.Open(ctx, key)
				}
			}
			feed.Sources = append(feed.Sources, src)
		}
		out = append(out, feed)
	}
	return out
}

// splitS3Key splits s3://bucket/dir/file into its folder URL and the file's key.
func splitS3Key(u string) (dir, key string, ok bool) {
	rest, found := strings.CutPrefix(u, "s3://")
	if !found {
		return "", "", false
	}
	i := strings.LastIndex(rest, "/")
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return "s3://" + rest[:i] + "/", rest[i+1:], true
}

// publisher publishes each run directory to its outputs: asff.json and report.html, then, if enabled,
// Security Hub, Slack, Jira and the webhook. A failing output does not stop the others. Its error keeps the
// run's windows due (they run and publish again next tick: finding ids are stable, Security Hub updates,
// and what earlier runs of the window sent to Slack, Jira or the webhook is not sent again) unless no
// failure can be fixed that way: findings left out of the ASFF, findings Security Hub refused, requests a
// hand-off service refused (4xx). Those are problems of the tick (ErrPublishRefused): the windows are done.
// An ASFF that cannot be built only fails the run when it has to be exported.
func publisher(cfg *config, log *slog.Logger, lk *lake.Lake, runs lake.Store, so lake.StoreOptions) func(ctx context.Context, dir string) error {
	o, a, sh := &cfg.Outputs, cfg.Outputs.ASFF, cfg.Outputs.SecurityHub
	shPub := &securityhub.Publisher{Options: securityhub.Options{CallerAccount: sh.CallerAccount},
		NewClient: func(ctx context.Context) (securityhub.BatchImporter, error) {
			c, err := securityhub.NewClient(ctx, securityhub.ClientOptions{Region: sh.Region, Endpoint: sh.Endpoint})
			if err != nil {
				return nil, err
			}
			return c, nil
		}}
	sec := &secrets{id: o.SecretID}
	lim, _ := cfg.Hunts.limits() // checked when the tick's hunts were set up
	var (
		once    sync.Once
		hand    []publish.Publisher
		handErr error
	)
	return func(ctx context.Context, dir string) error {
		run, err := reports.ReadRun(dir)
		if err != nil {
			return err
		}
		reportURL := o.reportURL(run.ID)
		asffURL := reportURL
		if a.ReportURL != "" {
			asffURL = strings.ReplaceAll(a.ReportURL, "{run_id}", run.ID)
		}
		asffPub := &publish.ASFF{Options: asff.Options{Region: a.Region, DefaultAccount: a.DefaultAccount, ProductARN: a.ProductARN, ReportURL: asffURL}}
		pubs := []publish.Publisher{asffPub, entityPages{lk: lk, limits: lim}, publish.HTML{}}
		if sh.Enabled {
			pubs = append(pubs, shPub)
		}
		var retry, refused []error
		var prior []lake.Sent
		if o.Slack.Enabled || o.Jira.Enabled || o.Webhook.Enabled {
			once.Do(func() { hand, handErr = handoffs(ctx, o, sec) })
			if handErr == nil {
				prior, err = priorSends(ctx, lk, runs, so, run)
			}
			switch {
			case handErr != nil:
				retry = append(retry, handErr)
			case err != nil:
				retry = append(retry, fmt.Errorf("not sent to Slack, Jira or the webhook: %w", err))
			default:
				pubs = append(pubs, hand...)
			}
		}
		outs, err := publish.Run(ctx, dir, pubs, publish.Options{ReportURL: reportURL, Prior: prior})
		if err != nil {
			return err
		}
		for _, w := range asffPub.Warnings {
			log.Warn("asff: finding shortened", "finding", w.FindingID, "field", w.Field, "message", w.Message)
		}
		for _, l := range asffPub.LeftOut {
			log.Error("asff: finding left out", "run", filepath.Base(dir), "finding", l.FindingID, "hunt", l.HuntID, "reason", l.Reason)
		}
		for _, out := range outs {
			switch p := out.Publisher; {
			case p == shPub.Name():
				sum := shPub.Summary
				log.Info("security hub import", "run", filepath.Base(dir), "findings", sum.Findings, "imported", sum.Imported, "failed", len(sum.Failed), "retries", sum.Retries)
				for _, f := range sum.Failed {
					log.Error("security hub refused a finding", "detail", f.String())
				}
			case len(out.Sent) > 0 || out.Skipped > 0:
				log.Info("sent", "output", p, "run", filepath.Base(dir), "sent", len(out.Sent), "already_sent", out.Skipped)
			}
			if out.Err == nil {
				continue
			}
			err := fmt.Errorf("%s: %w", out.Publisher, out.Err)
			if out.Publisher == asffPub.Name() && !errors.Is(out.Err, publish.ErrLeftOut) && !sh.Enabled {
				log.Warn("asff.json not written", "run", filepath.Base(dir), "error", out.Err.Error())
				continue
			}
			log.Error("output failed", "output", out.Publisher, "run", filepath.Base(dir), "error", out.Err.Error())
			switch {
			case out.Publisher == asffPub.Name() && errors.Is(out.Err, publish.ErrLeftOut),
				out.Publisher == shPub.Name() && errors.Is(out.Err, securityhub.ErrNotImported) && !shPub.Summary.Transient(),
				!slices.Contains([]string{asffPub.Name(), shPub.Name(), publish.HTML{}.Name()}, out.Publisher) && !publish.Retryable(out.Err):
				refused = append(refused, err)
			default:
				retry = append(retry, err)
			}
		}
		if len(retry) > 0 {
			return errors.Join(append(retry, refused...)...)
		}
		if len(refused) > 0 {
			return fmt.Errorf("%w (%w)", errors.Join(refused...), scheduler.ErrPublishRefused)
		}
		return nil
	}
}

// entityPages writes RUNDIR/entities/ for a scheduled run, before the report that links to the pages.
type entityPages struct {
	lk     *lake.Lake
	limits hunts.Limits
}

func (entityPages) Name() string { return "entity pages" }

func (p entityPages) Publish(ctx context.Context, in publish.Input) ([]lake.Sent, error) {
	_, err := investigate.WriteRunPages(ctx, p.lk, in.Dir, in.Run, in.Findings, p.limits)
	return nil, err
}

func printTick(w io.Writer, r *scheduler.TickResult) {
	if r.Status == scheduler.StatusBusy {
		fmt.Fprintf(w, "tick %s: another tick is running (%s)\n", r.Now.Format(time.RFC3339), safetext.Line(r.Holder))
		return
	}
	fmt.Fprintf(w, "tick %s: %s, %d hunt windows run, %d failed, %d runs stored\n", r.Now.Format(time.RFC3339), r.Status, len(r.Windows), r.Failed, len(r.Runs))
	for _, x := range r.Windows {
		kind := ""
		if x.Late {
			kind = fmt.Sprintf(" (late data: %d rows)", x.LateRows)
		}
		line := fmt.Sprintf("  %-32s %s .. %s%s  %s, %s", x.HuntID, x.Start.Format(time.RFC3339), x.End.Format(time.RFC3339), kind, x.Status, plural(x.Findings, "finding"))
		if x.Error != "" {
			line += ": " + safetext.Line(firstLine(x.Error))
		}
		if len(x.NoData) > 0 {
			line += ", no data in " + strings.Join(x.NoData, ", ")
		}
		fmt.Fprintln(w, line)
	}
	for _, p := range r.Problems {
		fmt.Fprintln(w, "  problem:", safetext.Line(p))
	}
}
