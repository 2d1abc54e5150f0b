// Package gen writes synthetic raw AWS logs exactly as AWS delivers them to S3 (object keys, gzip,
// CloudTrail {"Records":[...]} files and digests, VPC flow logs with a header line, Route 53 Resolver
// query logs as JSON lines), with stable background behaviour and planted attack scenarios, plus
// threat-intel feeds and a ground-truth file naming every planted record.
//
// The same Config (including Seed) always produces byte-identical objects: every unit of work
// (one hour of one account/region or VPC) draws from its own generator seeded by its identity, so
// units can run in parallel in any order.
package gen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/klauspost/compress/gzip"

	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Config says what to generate. Zero values take the scale's defaults.
type Config struct {
	// Start is the first day (truncated to 00:00 UTC). Zero: 2025-06-02, so output does not depend on the clock.
	Start    time.Time
	Days     int
	Accounts int
	Regions  int // the first N of us-east-1, eu-west-1, us-west-2, ap-southeast-2, ...
	// Scale is tiny, small, medium, large or custom ("" means small; custom is small's world sized by the per-day overrides).
	Scale string
	Seed  int64

	// Per-day volumes (records), overriding the scale's.
	CloudTrailPerDay int
	FlowsPerDay      int
	DNSPerDay        int

	// DuplicateRate is the share of CloudTrail files delivered twice; LateRate the share delivered hours
	// late. Zero takes the default (1% and 1%); a negative value turns it off.
	DuplicateRate float64
	LateRate      float64

	// Workers bounds how many objects are built and handed to the sink at once. The default,
	// 4 × GOMAXPROCS, keeps the CPUs busy while sinks wait on disk or S3. Output does not depend on it.
	Workers int
}

// Sink receives one object. It may be called from several goroutines at once and must not keep
// body after returning (the buffer is reused).
type Sink func(key string, body []byte) error

// Summary is what Generate wrote.
type Summary struct {
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // exclusive
	Objects int64     `json:"objects"`
	Bytes   int64     `json:"bytes"` // as handed to the sink (compressed)
	// Events counts records per source (lake table name), duplicates included.
	Events map[string]int64 `json:"events"`
	// Accounts and Regions are the generated world's, for the generators of other sources
	// (compact/source.Def.Generate).
	Accounts []string `json:"accounts"`
	Regions  []string `json:"regions"`
	// CloudTrailDuplicates counts records delivered a second time in a duplicate file.
	CloudTrailDuplicates int64         `json:"cloudtrail_duplicates"`
	CloudTrailLateFiles  int64         `json:"cloudtrail_late_files"`
	CloudTrailDigests    int64         `json:"cloudtrail_digests"`
	Scenarios            []string      `json:"scenarios"`
	GroundTruthKey       string        `json:"ground_truth_key"`
	Elapsed              time.Duration `json:"elapsed_ns"`
	// World is what the sources with their own generator write their background about; Planted their
	// planted records by table, in the form the source's Fixture writes (compact/source.Def).
	World   source.GenWorld `json:"-"`
	Planted map[string]any  `json:"-"`
}

// GroundTruthKey is the key of the ground-truth object.
const GroundTruthKey = groundTruthKey

const (
	tableCloudTrail = lake.TableCloudTrail
	tableVPCFlow    = lake.TableVPCFlow
	tableRoute53    = lake.TableRoute53Resolver
)

// Seeding tags: one per kind of unit of work.
const (
	tagCT uint64 = iota + 0x1000
	tagFlow
	tagDNS
	tagDigest
	tagVolume
	tagScenario
	tagTI
)

type scaleDef struct {
	name                             string
	days, accounts, regions          int
	ctPerDay, flowsPerDay, dnsPerDay int
	humans, instancesPerVPC, lambdas int
}

// The large scale meets the benchmark floor over its 28 days: >= 10 M CloudTrail events,
// >= 100 M flow records, >= 10 M DNS queries.
var scales = map[string]scaleDef{
	"tiny":   {name: "tiny", days: 3, accounts: 2, regions: 2, ctPerDay: 1200, flowsPerDay: 3000, dnsPerDay: 1000, humans: 8, instancesPerVPC: 5, lambdas: 2},
	"small":  {name: "small", days: 14, accounts: 2, regions: 2, ctPerDay: 7200, flowsPerDay: 36000, dnsPerDay: 7200, humans: 50, instancesPerVPC: 10, lambdas: 4},
	"medium": {name: "medium", days: 28, accounts: 3, regions: 3, ctPerDay: 36000, flowsPerDay: 360000, dnsPerDay: 36000, humans: 90, instancesPerVPC: 20, lambdas: 6},
	"large":  {name: "large", days: 28, accounts: 4, regions: 4, ctPerDay: 365000, flowsPerDay: 3650000, dnsPerDay: 365000, humans: 120, instancesPerVPC: 40, lambdas: 6},
}

// Scales lists the scale names.
func Scales() []string { return []string{"tiny", "small", "medium", "large", "custom"} }

type resolved struct {
	seed                             uint64
	start                            time.Time
	days, accounts, regions          int
	scale                            scaleDef
	ctPerDay, flowsPerDay, dnsPerDay int
	dupRate, lateRate                float64
	workers                          int
}

func resolve(c Config) (*resolved, error) {
	name := strings.ToLower(c.Scale)
	if name == "" {
		name = "small"
	}
	base := name
	if name == "custom" {
		base = "small"
	}
	sd, ok := scales[base]
	if !ok {
		return nil, fmt.Errorf("unknown scale %q: use one of %s", c.Scale, strings.Join(Scales(), ", "))
	}
	sd.name = name
	r := &resolved{seed: uint64(c.Seed), scale: sd, days: sd.days, accounts: sd.accounts, regions: sd.regions,
		ctPerDay: sd.ctPerDay, flowsPerDay: sd.flowsPerDay, dnsPerDay: sd.dnsPerDay, dupRate: 0.01, lateRate: 0.01,
		workers: 4 * runtime.GOMAXPROCS(0)}
	r.start = time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	if !c.Start.IsZero() {
		r.start = c.Start.UTC().Truncate(24 * time.Hour)
	}
	for _, o := range []struct {
		name string
		v    int
		dst  *int
	}{{"days", c.Days, &r.days}, {"accounts", c.Accounts, &r.accounts}, {"regions", c.Regions, &r.regions},
		{"CloudTrail events per day", c.CloudTrailPerDay, &r.ctPerDay}, {"flow records per day", c.FlowsPerDay, &r.flowsPerDay},
		{"DNS queries per day", c.DNSPerDay, &r.dnsPerDay}, {"workers", c.Workers, &r.workers}} {
		if o.v < 0 {
			return nil, fmt.Errorf("%s must not be negative (got %d)", o.name, o.v)
		}
		if o.v > 0 {
			*o.dst = o.v
		}
	}
	for _, o := range []struct {
		name string
		v    float64
		dst  *float64
	}{{"duplicate rate", c.DuplicateRate, &r.dupRate}, {"late rate", c.LateRate, &r.lateRate}} {
		switch {
		case o.v < 0:
			*o.dst = 0
		case o.v >= 1:
			return nil, fmt.Errorf("%s must be below 1 (got %g)", o.name, o.v)
		case o.v > 0:
			*o.dst = o.v
		}
	}
	switch {
	case r.days > 3660:
		return nil, fmt.Errorf("days must be at most 3660 (got %d)", r.days)
	case r.regions > len(regionPool):
		return nil, fmt.Errorf("at most %d regions are supported (got %d)", len(regionPool), r.regions)
	case r.accounts*r.regions*2 > 254:
		return nil, fmt.Errorf("accounts × regions must be at most 127 (got %d × %d): each VPC gets its own 10.x.0.0/16", r.accounts, r.regions)
	}
	return r, nil
}

type generator struct {
	cfg  *resolved
	w    *world
	sink Sink
	sum  struct {
		objects, bytes                 atomic.Int64
		ct, flow, dns                  atomic.Int64
		duplicates, lateFiles, digests atomic.Int64
	}
}

func (g *generator) put(key string, body []byte, table string, records int64) error {
	if err := g.sink(key, body); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	g.sum.objects.Add(1)
	g.sum.bytes.Add(int64(len(body)))
	switch table {
	case tableCloudTrail:
		g.sum.ct.Add(records)
	case tableVPCFlow:
		g.sum.flow.Add(records)
	case tableRoute53:
		g.sum.dns.Add(records)
	}
	return nil
}

// Generate writes the logs, the TI feeds and the ground truth through sink.
func Generate(ctx context.Context, cfg Config, sink Sink) (*Summary, error) {
	if sink == nil {
		return nil, errors.New("gen: no sink")
	}
	began := time.Now()
	rc, err := resolve(cfg)
	if err != nil {
		return nil, err
	}
	w, err := buildWorld(rc)
	if err != nil {
		return nil, err
	}
	gt, pl, err := plan(w, cfg.Seed, rc.scale.name)
	if err != nil {
		return nil, err
	}
	w.calibrate(rc.ctPerDay, rc.flowsPerDay, rc.dnsPerDay)
	g := &generator{cfg: rc, w: w, sink: sink}
	if err := g.run(ctx); err != nil {
		return nil, err
	}
	if err := g.writeTI(pl); err != nil {
		return nil, err
	}
	body, err := json.MarshalIndent(gt, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := g.put(groundTruthKey, append(body, '\n'), "", 0); err != nil {
		return nil, err
	}
	s := &Summary{Start: gt.Start, End: gt.End, Objects: g.sum.objects.Load(), Bytes: g.sum.bytes.Load(),
		Events:               map[string]int64{tableCloudTrail: g.sum.ct.Load(), tableVPCFlow: g.sum.flow.Load(), tableRoute53: g.sum.dns.Load()},
		CloudTrailDuplicates: g.sum.duplicates.Load(), CloudTrailLateFiles: g.sum.lateFiles.Load(),
		CloudTrailDigests: g.sum.digests.Load(), GroundTruthKey: groundTruthKey, Elapsed: time.Since(began),
		World: w.export(), Planted: pl.edge.byTable()}
	for _, sc := range gt.Scenarios {
		s.Scenarios = append(s.Scenarios, sc.Name)
	}
	for _, a := range w.accounts {
		s.Accounts = append(s.Accounts, a.id)
	}
	for _, r := range w.regions {
		s.Regions = append(s.Regions, r.name)
	}
	return s, nil
}

// task is one hour of one stream of one source.
type task struct {
	kind      int // 0 CloudTrail, 1 flow, 2 DNS
	idx       int
	day, hour int
}

type workerState struct {
	gz   *gzipper
	ct   ctScratch
	flow flowScratch
	dns  dnsScratch
}

func (g *generator) run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	tasks := make(chan task, 64)
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	for i := 0; i < g.cfg.workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws := &workerState{gz: newGzipper()}
			for t := range tasks {
				if ctx.Err() != nil {
					continue
				}
				if err := g.runTask(t, ws); err != nil {
					fail(err)
				}
			}
		}()
	}
feed:
	for day := 0; day < g.w.days; day++ {
		for hour := 0; hour < 24; hour++ {
			for kind, n := range []int{len(g.w.streams), len(g.w.vpcs), len(g.w.vpcs)} {
				for i := 0; i < n; i++ {
					select {
					case tasks <- task{kind: kind, idx: i, day: day, hour: hour}:
					case <-ctx.Done():
						break feed
					}
				}
			}
		}
	}
	close(tasks)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func (g *generator) runTask(t task, ws *workerState) error {
	switch t.kind {
	case 0:
		return g.ctHour(g.w.streams[t.idx], t.day, t.hour, &ws.ct, ws.gz)
	case 1:
		return g.flowHour(g.w.vpcs[t.idx], t.day, t.hour, &ws.flow, ws.gz)
	default:
		return g.dnsHour(g.w.vpcs[t.idx], t.day, t.hour, &ws.dns, ws.gz)
	}
}

// gzipper compresses with a fixed header (no name, mtime 0) so output is reproducible.
type gzipper struct {
	w   *gzip.Writer
	buf bytes.Buffer
}

func newGzipper() *gzipper {
	w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed) // BestSpeed is a valid level: no error
	return &gzipper{w: w}
}

// compress returns the gzip of b; the result is valid until the next call.
func (z *gzipper) compress(b []byte) ([]byte, error) {
	z.buf.Reset()
	z.w.Reset(&z.buf)
	z.w.ModTime = time.Unix(0, 0)
	if _, err := z.w.Write(b); err != nil {
		return nil, err
	}
	if err := z.w.Close(); err != nil {
		return nil, err
	}
	return z.buf.Bytes(), nil
}
