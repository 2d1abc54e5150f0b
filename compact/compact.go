// Package compact turns raw AWS log objects, laid out as AWS delivers them to S3, into the lake's
// partitioned Parquet tables: exactly once, with bad input quarantined and counted, in bounded memory.
package compact

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"

	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/lake"
)

// Sources the compactor reads, by table name.
var Sources = []string{lake.TableCloudTrail, lake.TableVPCFlow, lake.TableRoute53Resolver}

// Options configures Run.
type Options struct {
	From    lake.Store // raw logs, as AWS lays them out
	Lake    *lake.Lake
	Sources []string // tables to fill; nil means all of Sources
	Prefix  string   // only raw keys under this prefix
	Now     func() time.Time
	// Progress, if set, receives one-line progress updates ("\r"-terminated) for a terminal.
	Progress io.Writer
	Log      *slog.Logger
	// BatchRows and BatchBytes bound memory: once this many rows, or rows parsed from this many
	// uncompressed input bytes, are buffered, they are written and committed (at an object boundary).
	// Defaults 200,000 rows and 32 MiB.
	BatchRows  int
	BatchBytes int64
	// MaxRecordBytes is the largest single record (JSON event or log line) accepted; larger ones are
	// quarantined. Default 8 MiB.
	MaxRecordBytes int
	// MergeMinFiles is how many small files a partition may hold before they are merged. Default 4.
	MergeMinFiles int
	// SmallFileBytes is the merge target: files below half of it are merged into files of about this
	// size. Default 8 MiB (a CloudTrail file of that size holds ~150 MB of rows in memory while merged).
	SmallFileBytes int64
	// Workers parse objects in parallel. Default GOMAXPROCS.
	Workers int
	// afterWrite is a test hook called after data files are written and before they are committed.
	afterWrite func()
}

// Summary is what a run did; --json prints it.
type Summary struct {
	ObjectsListed       int                 `json:"objects_listed"`
	ObjectsAlreadyDone  int                 `json:"objects_already_done"`
	ObjectsRead         int                 `json:"objects_read"`
	ObjectsSkipped      int                 `json:"objects_skipped"`
	ObjectsIgnored      int                 `json:"objects_ignored"`
	ObjectsQuarantined  int                 `json:"objects_quarantined"`
	RecordsIn           int64               `json:"records_in"`
	RecordsWritten      int64               `json:"records_written"`
	DuplicatesDropped   int64               `json:"duplicates_dropped"`
	RecordsQuarantined  int64               `json:"records_quarantined"`
	PartitionsWritten   int                 `json:"partitions_written"`
	FilesWritten        int                 `json:"files_written"`
	FilesMerged         int                 `json:"files_merged"`
	Commits             int                 `json:"commits"`
	BytesIn             int64               `json:"bytes_in"`
	BytesInUncompressed int64               `json:"bytes_in_uncompressed"`
	BytesOut            int64               `json:"bytes_out"`
	Seconds             float64             `json:"seconds"`
	LakeVersion         int64               `json:"lake_version"`
	PerTable            map[string]int64    `json:"records_written_per_table"`
	Quarantine          []lake.Quarantined  `json:"quarantine,omitempty"`
	Skipped             []lake.SourceObject `json:"skipped,omitempty"`
}

// Quarantined reports whether any input was quarantined (the CLI exits non-zero unless told to tolerate it).
func (s *Summary) Quarantined() bool { return s.ObjectsQuarantined > 0 || s.RecordsQuarantined > 0 }

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 200_000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 32 << 20
	}
	if o.MaxRecordBytes <= 0 {
		o.MaxRecordBytes = 8 << 20
	}
	if o.MergeMinFiles <= 0 {
		o.MergeMinFiles = 4
	}
	if o.SmallFileBytes <= 0 {
		o.SmallFileBytes = 8 << 20
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Sources == nil {
		o.Sources = Sources
	}
}

// work is one raw object to read.
type work struct {
	info lake.ObjectInfo
	kind rawkey.Info
}

// Run compacts every raw object under From that the lake has not consumed yet.
func Run(ctx context.Context, opts Options) (*Summary, error) {
	opts.defaults()
	start := time.Now()
	want := map[string]bool{}
	for _, s := range opts.Sources {
		if !contains(Sources, s) {
			return nil, fmt.Errorf("unknown source %q (known: %s)", s, strings.Join(Sources, ", "))
		}
		want[s] = true
	}
	snap, err := opts.Lake.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	sum := &Summary{PerTable: map[string]int64{}}
	var todo []work
	var skipped []lake.SourceObject
	err = opts.From.List(ctx, opts.Prefix, func(o lake.ObjectInfo) error {
		sum.ObjectsListed++
		if _, done := snap.Sources[o.Key]; done {
			sum.ObjectsAlreadyDone++
			return nil
		}
		k := rawkey.Classify(o.Key)
		switch {
		case k.Source == "" || !want[k.Source]:
			sum.ObjectsIgnored++
		case k.Kind != rawkey.Events:
			skipped = append(skipped, lake.SourceObject{Key: o.Key, Size: o.Size, ETag: o.ETag, Source: k.Source, Status: "skipped", Reason: skipReason(k)})
		default:
			todo = append(todo, work{info: o, kind: k})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list raw objects under %s: %w", opts.From.URL(), err)
	}
	w := newWriter(ctx, &opts, snap, sum)
	if len(skipped) > 0 {
		sum.ObjectsSkipped = len(skipped)
		sum.Skipped = skipped
		if err := w.commit(lake.Commit{Operation: "compact", Sources: skipped}); err != nil {
			return sum, err
		}
	}
	if err := w.ingest(todo); err != nil {
		return sum, err
	}
	if err := w.mergeSmallFiles(); err != nil {
		return sum, err
	}
	sum.LakeVersion = w.snap.Version
	sum.Seconds = time.Since(start).Seconds()
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\r%s\n", w.progressLine(len(todo)))
	}
	return sum, nil
}

func skipReason(k rawkey.Info) string {
	switch k.Kind {
	case rawkey.CloudTrailDigest:
		return "CloudTrail digest file (integrity record, not events)"
	case rawkey.CloudTrailInsight:
		return "CloudTrail Insights file (not parsed into the cloudtrail table)"
	}
	if k.Reason != "" {
		return k.Reason
	}
	return "not an events object"
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// parsed is one object's outcome: all its rows, or a reason it was quarantined whole.
type parsed struct {
	w            work
	ct           []*lake.CloudTrailEvent // parsers hand out fresh rows: keep the pointers, copy nothing
	vf           []*lake.VPCFlowRecord
	r53          []*lake.Route53ResolverQuery
	bad          []lake.Quarantined
	records      int64
	uncompressed int64
	err          error // object-level: quarantine the whole object
}

func (p *parsed) rows() int { return len(p.ct) + len(p.vf) + len(p.r53) }

// ingest parses objects in parallel (bounded) and hands results, in listing order, to the batcher.
func (w *writer) ingest(todo []work) error {
	ctx, cancel := context.WithCancel(w.ctx)
	defer cancel()
	type slot struct{ ch chan *parsed }
	slots := make(chan slot, w.opts.Workers*2)
	go func() {
		defer close(slots)
		sem := make(chan struct{}, w.opts.Workers)
		for _, t := range todo {
			s := slot{ch: make(chan *parsed, 1)}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			select {
			case slots <- s:
			case <-ctx.Done():
				return
			}
			go func(t work, s slot) {
				defer func() { <-sem }()
				s.ch <- w.parseObjectSafely(ctx, t)
			}(t, s)
		}
	}()
	done := 0
	for s := range slots {
		p := <-s.ch
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.add(p); err != nil {
			return err
		}
		done++
		if w.opts.Progress != nil && done%50 == 0 {
			fmt.Fprintf(w.opts.Progress, "\r%s", w.progressLine(len(todo)))
		}
	}
	return w.flush()
}

// parseObjectSafely quarantines an object whose parser panicked instead of crashing the run: a panic
// would otherwise recur on every later run, since the object is never marked consumed.
func (w *writer) parseObjectSafely(ctx context.Context, t work) (p *parsed) {
	defer func() {
		if r := recover(); r != nil {
			p = &parsed{w: t, err: fmt.Errorf("internal parser error (a lakehunt bug; please report it with this object): %v", r)}
		}
	}()
	return w.parseObject(ctx, t)
}

func (w *writer) parseObject(ctx context.Context, t work) *parsed {
	p := &parsed{w: t}
	rc, err := w.opts.From.Open(ctx, t.info.Key)
	if err != nil {
		p.err = fmt.Errorf("cannot read object: %w", err)
		return p
	}
	defer rc.Close()
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(rc)
	defer readerPool.Put(br)
	head, _ := br.Peek(2)
	var r io.Reader = br
	if len(head) == 0 {
		p.err = errors.New("empty object (0 bytes)")
		return p
	}
	if len(head) == 2 && head[0] == 0x1f && head[1] == 0x8b {
		zr, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(br)
		} else {
			err = zr.Reset(br)
		}
		if err != nil {
			p.err = fmt.Errorf("corrupt gzip: %w", err)
			return p
		}
		defer gzipPool.Put(zr)
		r = zr
	}
	cr := &countingReader{r: r}
	bad := func(n int64, reason string, sample []byte) {
		if len(sample) > 256 {
			sample = sample[:256]
		}
		p.bad = append(p.bad, lake.Quarantined{Source: t.kind.Source, SourceKey: t.info.Key, Record: n, Reason: reason, Sample: string(bytes.ToValidUTF8(sample, []byte("?")))})
	}
	p.records, p.err = parseSource(cr, t, w.opts.MaxRecordBytes, p, bad)
	p.uncompressed = cr.n
	if p.err == nil && cr.err != nil {
		p.err = cr.err
	}
	if p.err != nil {
		p.ct, p.vf, p.r53 = nil, nil, nil
		if isGzipErr(p.err) {
			p.err = fmt.Errorf("corrupt gzip: %w", p.err)
		}
	}
	return p
}

// Raw objects are many and small: reuse the per-object read buffers.
var (
	readerPool = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, 64<<10) }}
	gzipPool   sync.Pool
)

func isGzipErr(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &corrupt)
}

type countingReader struct {
	r   io.Reader
	n   int64
	err error
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if err != nil && err != io.EOF && c.err == nil {
		c.err = err
	}
	return n, err
}

func (w *writer) progressLine(total int) string {
	return fmt.Sprintf("compact: %d/%d objects, %d records in, %d written, %d duplicates, %d quarantined",
		w.sum.ObjectsRead+w.sum.ObjectsQuarantined, total, w.sum.RecordsIn, w.sum.RecordsWritten, w.sum.DuplicatesDropped, w.sum.RecordsQuarantined)
}

// sortFiles orders file entries by key for stable commits.
func sortFiles(fs []lake.FileEntry) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key < fs[j].Key })
}
