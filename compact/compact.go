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

// Options configures Run.
type Options struct {
	From    lake.Store // raw logs, as AWS lays them out
	Lake    *lake.Lake
	Sources []string // tables to fill; nil means all of Sources
	// Prefixes maps sources whose layout allows it (source.Layout.Prefixed, e.g. waf through Firehose)
	// to key prefixes under From: every object under one of them is a log of that source, whatever its
	// key (lakehunt.yaml sources: NAME: prefixes: [...]). Objects in an AWSLogs/ layout are classified
	// by it first.
	Prefixes map[string][]string
	// Accounts, if set, are the only accounts whose objects are read (org trails' included); the others
	// are listed and counted as not selected.
	Accounts []string
	Now      func() time.Time
	// Progress, if set, receives one-line progress updates ("\r"-terminated) for a terminal.
	Progress io.Writer
	Log      *slog.Logger
	// BatchRows and BatchBytes bound memory: once this many rows, or rows parsed from this many
	// uncompressed input bytes, are buffered, they are written and committed (at an object boundary).
	// Defaults 64,000 rows and 32 MiB; two batches are in memory (one being written, one being filled).
	// Flow-log batches reach the row bound first: at 200,000 rows the heap sat at the soft memory limit
	// and the garbage collector doubled the run time (1M flows: 7.6 s vs 3.9 s).
	BatchRows  int
	BatchBytes int64
	// MaxRecordBytes is the largest single record (JSON event or log line) accepted; larger ones are
	// quarantined. Default: each source's own limit (CloudTrail 2 MiB, twice its largest events; Route 53
	// 1 MiB; flow logs 64 KiB). Memory follows it: a record is held several times over while it is parsed
	// and written, and four 8 MiB records read at once took 394 MiB; four at these limits, 139 MiB.
	MaxRecordBytes int
	// MergeMinFiles is how many small files a partition may hold before they are merged. Default 16:
	// a merge rewrites every row it reads, so it waits until there are enough files to matter (a backfill
	// leaves a partition-day of a busy account in about ten batch files; rewriting those cost 40% of the
	// run); frequent small runs still leave at most this many small files per partition.
	MergeMinFiles int
	// SmallFileBytes is the merge target: files below half of it are merged into files of about this
	// size. Default 8 MiB. Merges stream their rows, so it does not bound memory.
	SmallFileBytes int64
	// Workers parse objects in parallel. Default GOMAXPROCS.
	Workers int
	// Encoders write the partitions of a batch to Parquet in parallel. Default GOMAXPROCS. Each holds
	// one partition file being built (about its compressed size, plus a page per column).
	Encoders int
	// MaxObjectBytes and MaxUncompressedBytes bound what one raw object may hold, as stored and once
	// decompressed; an object beyond either is quarantined. Defaults 256 MiB and 4 GiB: AWS writes flow-log
	// objects of up to about 75 MB of gzip, CloudTrail objects are far smaller.
	MaxObjectBytes       int64
	MaxUncompressedBytes int64
	// Settle leaves local files modified less than this long ago for the next run: they may still be
	// being written. 0 reads them all. Objects in S3 appear whole and are never left.
	Settle time.Duration
	// afterWrite is a test hook called after data files are written and before they are committed.
	afterWrite func()
}

// Summary is what a run did; --json prints it.
type Summary struct {
	From                string              `json:"from"` // the location listed
	ObjectsListed       int                 `json:"objects_listed"`
	ObjectsAlreadyDone  int                 `json:"objects_already_done"`
	ObjectsRead         int                 `json:"objects_read"`
	ObjectsSkipped      int                 `json:"objects_skipped"`
	ObjectsIgnored      int                 `json:"objects_ignored"`           // not in the AWS delivery layout
	IgnoredExample      string              `json:"ignored_example,omitempty"` // the first of them
	ObjectsNotSelected  int                 `json:"objects_not_selected"`      // in the layout, of a source or account not asked for
	ObjectsQuarantined  int                 `json:"objects_quarantined"`
	ObjectsFailed       int                 `json:"objects_failed_transient"` // could not be read: not consumed, the next run reads them
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
	Skipped             []lake.SourceObject `json:"skipped,omitempty"` // the first 1,000; ObjectsSkipped counts all
	// Entries under From that are not objects: symbolic links, FIFOs, devices, unreadable folders (local).
	// Not read and not recorded: counted at every run until they are gone. NotFiles lists the first 1,000.
	ObjectsNotFiles int       `json:"objects_not_files"`
	NotFiles        []NotFile `json:"not_files,omitempty"`
	// Local files modified within Settle, or changed while being read: left for the next run.
	ObjectsTooRecent int `json:"objects_too_recent"`
	// Quarantined objects read again: they changed since, or 'lakehunt quarantine --retry' released them.
	ObjectsReread int `json:"objects_reread"`
	// Consumed objects whose content changed since: the lake keeps the rows of the version it read; each
	// is in the quarantine (lakehunt quarantine) with what changed.
	ObjectsChangedAfterConsumed int `json:"objects_changed_after_consumed"`
	// Objects with the same bytes as another one consumed in their folder (a copy under another name):
	// recorded, not read twice.
	ObjectsDuplicateContent int                 `json:"objects_duplicate_content"`
	Failed                  []lake.SourceObject `json:"failed,omitempty"` // the first 1,000 objects that could not be read, and why
}

// Quarantined reports whether any input was quarantined, a consumed object changed among them (the CLI
// exits non-zero unless told to tolerate it).
func (s *Summary) Quarantined() bool {
	return s.ObjectsQuarantined > 0 || s.RecordsQuarantined > 0 || s.ObjectsChangedAfterConsumed > 0
}

// Incomplete reports whether some objects could not be read (S3 or network errors that outlasted the
// retries). They are not bad input: neither quarantined nor recorded as consumed, so the next run reads them.
func (s *Summary) Incomplete() bool { return s.ObjectsFailed > 0 }

// NothingFound explains a run that found no raw logs at all under From: nothing there (an empty or
// mistyped location), or only objects outside the AWS delivery layout. "" when it found some.
func (s *Summary) NothingFound() string {
	const where = "point it at the folder that holds AWSLogs/, at AWSLogs/ itself, or at any folder below it"
	switch {
	case s.ObjectsListed == 0 && s.ObjectsNotFiles > 0:
		return fmt.Sprintf("no objects under %s, only %d entries that are not files, e.g. %s: %s", s.From, s.ObjectsNotFiles, s.NotFiles[0].Key, s.NotFiles[0].Reason)
	case s.ObjectsListed == 0:
		return fmt.Sprintf("no objects under %s: the location is empty or mistyped; %s", s.From, where)
	case s.ObjectsIgnored == s.ObjectsListed:
		return fmt.Sprintf("none of the %d objects under %s is a log in the AWS delivery layout "+
			"(AWSLogs/[o-ORG/]ACCOUNT/CloudTrail|vpcflowlogs|vpcdnsquerylogs/...), e.g. %s; %s",
			s.ObjectsListed, s.From, s.IgnoredExample, where)
	}
	return ""
}

// DefaultSettle is how long the CLI leaves a local file alone after its last change: a log shipper or a
// copy still writing it has had time to finish.
const DefaultSettle = time.Minute

func (o *Options) defaults() {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 64_000
	}
	if o.BatchBytes <= 0 {
		o.BatchBytes = 32 << 20
	}
	if o.MergeMinFiles <= 0 {
		o.MergeMinFiles = 16
	}
	if o.SmallFileBytes <= 0 {
		o.SmallFileBytes = 8 << 20
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Encoders <= 0 {
		o.Encoders = runtime.GOMAXPROCS(0)
	}
	if o.MaxObjectBytes <= 0 {
		o.MaxObjectBytes = 256 << 20
	}
	if o.MaxUncompressedBytes <= 0 {
		o.MaxUncompressedBytes = 4 << 30
	}
	if o.Sources == nil {
		o.Sources = Sources
	}
}

// work is one raw object to read, or to record as skipped (skip is the reason).
type work struct {
	info lake.ObjectInfo // Key: as the lake records it, from the AWSLogs/ folder on (rawkey.Info.Key)
	path string          // the key under Options.From, to read it
	kind rawkey.Info
	skip string
	// reread is the key a quarantined version of the object is recorded under: it is read again.
	reread string
	// verify: a consumed object whose version changed; it is hashed, not parsed, to tell a new copy of the
	// same bytes from changed content.
	verify bool
}

// Run compacts every raw object under From that the lake has not consumed yet. Listing, parsing and
// writing are one stream: nothing is held per raw object beyond the batch being written.
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
	for s, ps := range opts.Prefixes {
		d, ok := Lookup(s)
		if !ok {
			return nil, fmt.Errorf("prefixes configured for unknown source %q (known: %s)", s, strings.Join(Sources, ", "))
		}
		if !d.Prefixed() {
			return nil, fmt.Errorf("source %s is only read in its AWSLogs/ layout: its records do not say which account and region they are of, so it cannot be mapped to a prefix", s)
		}
		for _, p := range ps {
			if strings.TrimSuffix(p, "/") == "" {
				return nil, fmt.Errorf("source %s: empty prefix; give the folder its objects are delivered under, such as firehose/%s/", s, s)
			}
		}
	}
	snap, err := opts.Lake.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	sum := &Summary{From: opts.From.URL(), PerTable: map[string]int64{}}
	view := newConsumedView(opts.Lake, snap)
	l := &lister{opts: &opts, view: view, want: want, accounts: map[string]bool{}, root: locationPath(opts.From), legacy: legacyPrefixes(snap),
		local: lake.IsLocalStore(opts.From)}
	for _, a := range opts.Accounts {
		l.accounts[a] = true
	}
	w := newWriter(ctx, &opts, snap, sum)
	w.listed, w.view = &l.listed, view
	err = w.ingest(l.run)
	sum.ObjectsListed, sum.ObjectsAlreadyDone = int(l.listed.Load()), sum.ObjectsAlreadyDone+l.done
	sum.ObjectsIgnored, sum.ObjectsNotSelected = l.ignored, l.notSelected
	sum.ObjectsNotFiles, sum.NotFiles, sum.ObjectsTooRecent = l.notFilesN, l.notFiles, sum.ObjectsTooRecent+l.tooRecent
	if l.ignoredExample != "" {
		sum.IgnoredExample = strings.TrimSuffix(sum.From, "/") + "/" + l.ignoredExample
	}
	if err != nil {
		return sum, err
	}
	if err := w.mergeSmallFiles(); err != nil {
		return sum, err
	}
	sum.LakeVersion = w.snap.Version
	sum.Seconds = time.Since(start).Seconds()
	if opts.Progress != nil {
		fmt.Fprintf(opts.Progress, "\r%s\n", w.progressLine())
	}
	return sum, nil
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
	buf          any              // []*T of the object's source: parsers hand out fresh rows, kept as they are
	nrows        int64            // len(buf)
	spilled      []lake.FileEntry // rows of an object too large to hold, already written (not committed)
	bad          []lake.Quarantined
	records      int64
	uncompressed int64
	err          error  // object-level: quarantine the whole object
	unread       error  // the object could not be read (not its content's fault): leave it for the next run
	fatal        error  // not the object's fault (the lake could not be written): the run fails
	later        string // why the object is left for the next run, unrecorded (it changed while read)
	sha          string // SHA-256 of the object's bytes as stored, when read whole
	stored       int64  // bytes read of the object as stored
}

func (p *parsed) rows() int64 {
	n := p.nrows
	for _, fe := range p.spilled {
		n += fe.Rows
	}
	return n
}

// ingest parses the objects list hands on in parallel (bounded) and hands results, in listing order,
// to the batcher. Three stages overlap: listing, reading small objects ahead (fetch, up to prefetchAhead
// of them), and parsing (Workers at a time).
func (w *writer) ingest(list func(context.Context, func(work) error) error) error {
	ctx, cancel := context.WithCancel(w.ctx)
	type slot struct{ ch chan *parsed }
	slots := make(chan slot, w.opts.Workers*2)
	defer func() {
		// On an early return, stop the lister and wait until it is gone: Run reads its counts.
		cancel()
		for range slots {
		}
	}()
	defer w.stopFlusher()
	ahead := make(chan *fetch, prefetchAhead)
	var listErr error
	go func() {
		defer close(ahead)
		listErr = list(ctx, func(t work) error {
			f := newFetch(t, w.opts.MaxObjectBytes)
			select {
			case ahead <- f:
			case <-ctx.Done():
				return ctx.Err()
			}
			if f.done != nil {
				go f.read(ctx, w.opts.From)
			}
			return nil
		})
	}()
	go func() {
		defer close(slots)
		sem := make(chan struct{}, w.opts.Workers)
		for f := range ahead {
			s := slot{ch: make(chan *parsed, 1)}
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				continue // drain: the lister stops at its next object
			}
			select {
			case slots <- s:
			case <-ctx.Done():
				<-sem
				continue
			}
			go func() {
				defer func() { <-sem }()
				switch {
				case f.t.skip != "":
					s.ch <- &parsed{w: f.t}
				case f.t.verify:
					s.ch <- w.hashObject(ctx, f)
				default:
					s.ch <- w.parseObjectSafely(ctx, f)
				}
			}()
		}
	}()
	lastProgress := time.Now()
	for s := range slots {
		var p *parsed
		select {
		case p = <-s.ch:
		case <-ctx.Done():
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := w.add(p); err != nil {
			return err
		}
		if w.opts.Progress != nil && time.Since(lastProgress) >= progressEvery {
			fmt.Fprintf(w.opts.Progress, "\r%s", w.progressLine())
			lastProgress = time.Now()
		}
	}
	if listErr != nil {
		return listErr
	}
	return w.drain()
}

const progressEvery = 500 * time.Millisecond

// parseObjectSafely quarantines an object whose parser panicked instead of crashing the run: a panic
// would otherwise recur on every later run, since the object is never marked consumed.
func (w *writer) parseObjectSafely(ctx context.Context, f *fetch) (p *parsed) {
	defer func() {
		if r := recover(); r != nil {
			p = &parsed{w: f.t, err: fmt.Errorf("internal parser error (a lakehunt bug; please report it with this object): %v", r)}
		}
	}()
	return w.parseObject(ctx, f)
}

func (w *writer) parseObject(ctx context.Context, f *fetch) *parsed {
	t := f.t
	p := &parsed{w: t}
	if t.info.Size > w.opts.MaxObjectBytes {
		p.err = fmt.Errorf("object is %d bytes, more than the %d-byte limit for one raw object; not read", t.info.Size, w.opts.MaxObjectBytes)
		return p
	}
	rc, err := f.reader(ctx, w.opts.From)
	if errors.Is(err, lake.ErrNotFound) {
		p.err = fmt.Errorf("cannot read object: %w", err)
		return p
	}
	if err != nil {
		p.unread = err
		return p
	}
	defer rc.Close()
	// An error from the store's reader is a failed read, whatever the decompressor or parser made of it;
	// a body that reaches EOF is complete (the store checks its length), so errors after that are content.
	src := &countingReader{r: rc}
	or := newObjectReader(ctx, src, t.info.Size)
	br := readerPool.Get().(*bufio.Reader)
	br.Reset(or)
	defer readerPool.Put(br)
	head, _ := br.Peek(sniffBytes)
	var r io.Reader = br
	if src.err != nil {
		p.unread = src.err
		return p
	}
	if len(head) == 0 {
		p.err = errors.New("empty object (0 bytes)")
		return or.outcome(p)
	}
	var inner []byte
	if isGzip(head) {
		zr, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if zr == nil {
			zr, err = gzip.NewReader(br)
		} else {
			err = zr.Reset(br)
		}
		if src.err != nil {
			p.unread = src.err
			return p
		}
		if err != nil {
			p.err = fmt.Errorf("corrupt gzip: %w", err)
			return or.outcome(p)
		}
		defer gzipPool.Put(zr)
		// The gzip reader's errors are sticky: one met here is met again, and reported, by the parser.
		inner = make([]byte, sniffBytes)
		n, _ := io.ReadFull(zr, inner)
		inner = inner[:n]
		r = io.MultiReader(bytes.NewReader(inner), zr)
	}
	if why := foreignFormat(t.info.Key, head, inner); why != "" {
		p.err = errors.New(why)
		return p
	}
	cr := &countingReader{r: r, max: w.opts.MaxUncompressedBytes}
	bad := func(n int64, reason string, sample []byte) {
		if len(sample) > 256 {
			sample = sample[:256]
		}
		p.bad = append(p.bad, lake.Quarantined{Source: t.kind.Source, SourceKey: t.info.Key, Record: n, Reason: reason, Sample: string(bytes.ToValidUTF8(sample, []byte("?")))})
	}
	p.records, p.err = w.parseSource(cr, t, p, bad)
	p.uncompressed = cr.n
	if cr.err != nil && (p.err == nil || errors.Is(cr.err, errTooLarge)) {
		p.err = cr.err
	}
	if p.err == nil && p.fatal == nil {
		// The parser may stop at the end of its data: the hash covers every byte.
		if _, err := io.Copy(io.Discard, br); err != nil {
			p.err = fmt.Errorf("cannot read object: %w", err)
		}
	}
	p = or.outcome(p)
	if src.err != nil && p.fatal == nil {
		p.unread, p.err = src.err, nil
	}
	if p.err != nil || p.fatal != nil || p.later != "" || p.unread != nil {
		for _, fe := range p.spilled {
			_ = w.opts.Lake.Store().Delete(ctx, fe.Key) // never committed; vacuum would delete it too
		}
		p.buf, p.nrows, p.spilled, p.bad = nil, 0, nil, nil
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

func (w *writer) progressLine() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return fmt.Sprintf("compact: %d objects listed, %d read, %d records in, %d written, %d duplicates, %d quarantined",
		w.listed.Load(), w.sum.ObjectsRead+w.sum.ObjectsQuarantined, w.sum.RecordsIn, w.sum.RecordsWritten, w.sum.DuplicatesDropped, w.sum.RecordsQuarantined)
}

// sortFiles orders file entries by key for stable commits.
func sortFiles(fs []lake.FileEntry) {
	sort.Slice(fs, func(i, j int) bool { return fs[i].Key < fs[j].Key })
}
