package compact

import (
	"bytes"
	"container/heap"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/zeebo/xxh3"

	"github.com/lakehunt/lakehunt/lake"
)

// rowsPerRowGroup keeps row groups in the tens of MB that DuckDB reads best.
const rowsPerRowGroup = 256 * 1024

// pageBytes is the size a column's page reaches before it is compressed. zstd finds the repeats of the
// JSON columns (userIdentity, requestParameters) across more rows in larger pages: 1 MiB pages make
// CloudTrail files 18% smaller than parquet-go's 256 KiB (BenchmarkWriteCloudTrail), for the same CPU.
const pageBytes = 1 << 20

type partKey struct{ account, region, day string }

// tableBuf buffers one table's rows per partition for the batch being filled (parts, by the ingest
// loop), and keeps the dedup sets the flusher checks batches against (seen, by the flusher only).
type tableBuf[T any] struct {
	name    string
	at      func(*T) time.Time
	part    func(*T) (account, region string)
	id      func(*T) string // dedup key; nil when the source has none
	idCol   string          // the column id reads
	lineage func(*T) *lake.Lineage
	parts   map[partKey][]*T
	n       int // rows in parts
	seen    map[partKey]map[xxh3.Uint128]struct{}
}

// table is what the writer does with one table's rows, whatever their row type.
type table interface {
	buffered() int
	// add buffers an object's rows (a []*T, or nil).
	add(rows any)
	// take returns the rows buffered so far (a map[partKey][]*T) and starts an empty set.
	take() any
	deduplicates() bool
	forgetSeen()
	// prepare deduplicates a batch's rows (parts, from take) and stamps their ingestion time; it returns
	// one job per partition with rows left, in partition order. Flusher only: it owns the dedup sets.
	prepare(w *writer, parts any, ingestedAt time.Time) ([]encodeJob, error)
	merge(w *writer) error
}

func newTableBuf[T any](name string, at func(*T) time.Time, part func(*T) (string, string), id func(*T) string, idCol string, lin func(*T) *lake.Lineage) *tableBuf[T] {
	return &tableBuf[T]{name: name, at: at, part: part, id: id, idCol: idCol, lineage: lin, parts: map[partKey][]*T{}, seen: map[partKey]map[xxh3.Uint128]struct{}{}}
}

func (b *tableBuf[T]) add(batch any) {
	rows, _ := batch.([]*T)
	// An object's rows mostly share their partition: each run of rows of one partition is appended at
	// once, and the day is formatted when the rows leave the last one's.
	var k partKey
	var from, to time.Time // the UTC day k.day
	start := 0
	for i, r := range rows {
		acct, region := b.part(r)
		t := b.at(r)
		if i > 0 && acct == k.account && region == k.region && !t.Before(from) && t.Before(to) {
			continue
		}
		if i > 0 {
			b.parts[k] = append(b.parts[k], rows[start:i]...)
		}
		u := t.UTC()
		from = time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
		to = from.AddDate(0, 0, 1)
		k, start = partKey{acct, region, from.Format("2006-01-02")}, i
	}
	if len(rows) > 0 {
		b.parts[k] = append(b.parts[k], rows[start:]...)
	}
	b.n += len(rows)
}

func (b *tableBuf[T]) take() any {
	parts := b.parts
	b.parts, b.n = map[partKey][]*T{}, 0
	return parts
}

func (b *tableBuf[T]) deduplicates() bool { return b.id != nil }

func (b *tableBuf[T]) forgetSeen() { b.seen = map[partKey]map[xxh3.Uint128]struct{}{} }

func (b *tableBuf[T]) buffered() int { return b.n }

// seenIDs returns the dedup set of a partition, loading the ids already committed in it on first use.
// A duplicate event has the same event time, account and region, so the partition is the whole scope.
func (b *tableBuf[T]) seenIDs(w *writer, k partKey) (map[xxh3.Uint128]struct{}, error) {
	if s, ok := b.seen[k]; ok {
		return s, nil
	}
	s := map[xxh3.Uint128]struct{}{}
	prefix := lake.PartitionPath(b.name, k.account, k.region, k.day) + "/"
	var files []lake.FileEntry
	for _, f := range w.snap.FilesFor(b.name, time.Time{}, time.Time{}) {
		if f.Partition()+"/" == prefix {
			files = append(files, f)
		}
	}
	if len(files) > 0 {
		paths, err := w.opts.Lake.LocalPaths(w.ctx, files)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			if err := readIDs(p, b.idCol, func(id string) { s[xxh3.HashString128(id)] = struct{}{} }); err != nil {
				return nil, fmt.Errorf("read event ids of %s for deduplication: %w", p, err)
			}
		}
	}
	b.seen[k] = s
	return s, nil
}

// readIDs hands fn the non-NULL values of column col of a Parquet file.
func readIDs(path, col string, fn func(string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(f, st.Size())
	if err != nil {
		return err
	}
	leaf, ok := pf.Schema().Lookup(col)
	if !ok {
		return fmt.Errorf("no column %s", col)
	}
	vals := make([]parquet.Value, 4096)
	for _, rg := range pf.RowGroups() {
		pages := rg.ColumnChunks()[leaf.ColumnIndex].Pages()
		for {
			pg, err := pages.ReadPage()
			if err == io.EOF {
				break
			}
			if err != nil {
				pages.Close()
				return err
			}
			vr := pg.Values()
			for {
				n, err := vr.ReadValues(vals)
				for _, v := range vals[:n] {
					if !v.IsNull() {
						fn(string(v.ByteArray()))
					}
				}
				if err == io.EOF {
					break
				}
				if err != nil {
					pages.Close()
					return err
				}
			}
			parquet.Release(pg)
		}
		pages.Close()
	}
	return nil
}

// encodeJob writes the rows of one partition of a batch to a new file, not yet committed. Jobs share
// nothing but the writer's options and store, so they run in parallel (writer.encode).
type encodeJob struct {
	rows  int // to start the largest first
	write func() (lake.FileEntry, error)
}

func (b *tableBuf[T]) prepare(w *writer, batch any, ingestedAt time.Time) ([]encodeJob, error) {
	parts := batch.(map[partKey][]*T)
	keys := make([]partKey, 0, len(parts))
	for k := range parts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, c := keys[i], keys[j]
		return a.account+a.region+a.day < c.account+c.region+c.day
	})
	var jobs []encodeJob
	for _, k := range keys {
		rows := parts[k]
		if b.id != nil {
			seen, err := b.seenIDs(w, k)
			if err != nil {
				return nil, err
			}
			kept := rows[:0]
			for _, r := range rows {
				id := b.id(r)
				if id == "" {
					kept = append(kept, r)
					continue
				}
				h := xxh3.HashString128(id)
				if _, dup := seen[h]; dup {
					w.mu.Lock()
					w.sum.DuplicatesDropped++
					w.mu.Unlock()
					continue
				}
				seen[h] = struct{}{}
				kept = append(kept, r)
			}
			rows = kept
		}
		if len(rows) == 0 {
			continue
		}
		for _, r := range rows {
			b.lineage(r).IngestedAt = ingestedAt
		}
		jobs = append(jobs, encodeJob{rows: len(rows), write: func() (lake.FileEntry, error) { return b.write(w, k, rows) }})
	}
	b.trimSeen(keys)
	return jobs, nil
}

// maxSeenIDs bounds the dedup sets kept between batches (about 40 bytes each). Beyond it, the sets of
// partitions the last batch did not touch are dropped; they are reloaded from the committed files if a
// later batch reaches those partitions again (input mostly arrives in time order, so that is rare).
const maxSeenIDs = 1_000_000

func (b *tableBuf[T]) trimSeen(keep []partKey) {
	n := 0
	for _, s := range b.seen {
		n += len(s)
	}
	if n <= maxSeenIDs {
		return
	}
	recent := map[partKey]bool{}
	for _, k := range keep {
		recent[k] = true
	}
	for k := range b.seen {
		if !recent[k] {
			delete(b.seen, k)
		}
	}
}

// write sorts rows by event time and stores them as one new, uniquely named Parquet file. Safe for
// concurrent use on distinct rows.
func (b *tableBuf[T]) write(w *writer, k partKey, rows []*T) (lake.FileEntry, error) {
	sort.SliceStable(rows, func(i, j int) bool { return b.at(rows[i]).Before(b.at(rows[j])) })
	f := b.newFile(k)
	for _, r := range rows {
		if err := f.add(r); err != nil {
			return lake.FileEntry{}, err
		}
	}
	return f.finish(w)
}

// fileWriter builds one Parquet file of a partition from rows handed to it in event-time order.
// The parquet writer compresses pages as they fill: memory is about the compressed file.
type fileWriter[T any] struct {
	b     *tableBuf[T]
	k     partKey
	buf   bytes.Buffer
	pw    *parquet.GenericWriter[T]
	chunk []T
	fe    lake.FileEntry
}

func (b *tableBuf[T]) newFile(k partKey) *fileWriter[T] {
	f := &fileWriter[T]{b: b, k: k, chunk: make([]T, 0, 4096)}
	f.pw = parquet.NewGenericWriter[T](&f.buf,
		parquet.Compression(&parquet.Zstd),
		parquet.MaxRowsPerRowGroup(rowsPerRowGroup),
		parquet.PageBufferSize(pageBytes),
		// Min/max per page go to the column index and the row group's statistics, which readers use;
		// the copy in each page header (computed again, over every value) is one they do not.
		parquet.DataPageStatistics(false),
		parquet.CreatedBy("lakehunt", "1", ""))
	return f
}

func (f *fileWriter[T]) add(r *T) error {
	t, in := f.b.at(r).UTC(), f.b.lineage(r).IngestedAt
	if f.fe.Rows == 0 {
		f.fe.MinTime, f.fe.MinIngested, f.fe.MaxIngested = t, in, in
	}
	f.fe.MaxTime = t
	if in.Before(f.fe.MinIngested) {
		f.fe.MinIngested = in
	}
	if in.After(f.fe.MaxIngested) {
		f.fe.MaxIngested = in
	}
	f.fe.Rows++
	f.chunk = append(f.chunk, *r)
	if len(f.chunk) == cap(f.chunk) {
		return f.writeChunk()
	}
	return nil
}

func (f *fileWriter[T]) writeChunk() error {
	lake.NullEmptyStrings(f.chunk)
	if _, err := f.pw.Write(f.chunk); err != nil {
		return fmt.Errorf("write %s rows: %w", f.b.name, err)
	}
	clear(f.chunk) // drop the strings for the collector
	f.chunk = f.chunk[:0]
	return nil
}

func (f *fileWriter[T]) finish(w *writer) (lake.FileEntry, error) {
	if err := f.writeChunk(); err != nil {
		return lake.FileEntry{}, err
	}
	if err := f.pw.Close(); err != nil {
		return lake.FileEntry{}, fmt.Errorf("write %s rows: %w", f.b.name, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	k := f.k
	fe := f.fe
	fe.Table, fe.AccountID, fe.Region, fe.Day = f.b.name, k.account, k.region, k.day
	fe.Key = fmt.Sprintf("%s/part-%s-%s.parquet", lake.PartitionPath(f.b.name, k.account, k.region, k.day),
		w.opts.Now().UTC().Format("20060102T150405Z"), hex.EncodeToString(rnd[:]))
	sum := sha256.Sum256(f.buf.Bytes())
	fe.Size, fe.SHA256 = int64(f.buf.Len()), hex.EncodeToString(sum[:])
	if err := w.opts.Lake.Store().Put(w.ctx, fe.Key, bytes.NewReader(f.buf.Bytes()), int64(f.buf.Len())); err != nil {
		return lake.FileEntry{}, err
	}
	return fe, nil
}

// spill writes rows of one object that is too large to buffer whole to new files, not yet committed:
// they become visible with the commit that records the object as consumed. Safe for parse workers.
func (b *tableBuf[T]) spill(w *writer, rows []*T) ([]lake.FileEntry, error) {
	ingestedAt := w.opts.Now().UTC().Truncate(time.Microsecond)
	parts := map[partKey][]*T{}
	for _, r := range rows {
		acct, region := b.part(r)
		k := partKey{acct, region, b.at(r).UTC().Format("2006-01-02")}
		parts[k] = append(parts[k], r)
		b.lineage(r).IngestedAt = ingestedAt
	}
	var out []lake.FileEntry
	for k, rs := range parts {
		fe, err := b.write(w, k, rs)
		if err != nil {
			return out, err
		}
		out = append(out, fe)
	}
	return out, nil
}

// merge rewrites groups of small files into larger ones, so frequent runs do not leave thousands of tiny
// files. Each group is one commit that adds the merged file and removes its inputs; rows and their lineage
// are unchanged. Every partition of the table with MergeMinFiles small files is merged, not only those this
// run wrote to: a run killed while merging leaves partitions that later runs may never write to again.
func (b *tableBuf[T]) merge(w *writer) error {
	byPart := map[string][]lake.FileEntry{}
	for _, f := range w.snap.FilesFor(b.name, time.Time{}, time.Time{}) {
		if f.Size < w.opts.SmallFileBytes/2 {
			byPart[f.Partition()] = append(byPart[f.Partition()], f)
		}
	}
	for _, p := range slices.Sorted(maps.Keys(byPart)) {
		files := byPart[p]
		if len(files) < w.opts.MergeMinFiles {
			continue
		}
		sort.Slice(files, func(i, j int) bool { return files[i].MinTime.Before(files[j].MinTime) })
		// Groups reach the target size, so the merged file is no longer small and is not merged again.
		// Their rows are streamed, not held: memory does not depend on the group's size.
		var group []lake.FileEntry
		var size int64
		for i, f := range files {
			group = append(group, f)
			size += f.Size
			if size < w.opts.SmallFileBytes && len(group) < maxMergeFiles && i < len(files)-1 {
				continue
			}
			if len(group) > 1 {
				if err := b.mergeGroup(w, group); err != nil {
					return err
				}
			}
			group, size = nil, 0
		}
	}
	return nil
}

// maxMergeFiles bounds the files one merge reads at once (open files, read buffers); a partition with
// more small files than that is merged in several groups.
const maxMergeFiles = 64

// mergeRowBudget is about how many rows a merge holds in read buffers, across all its input files.
const mergeRowBudget = 16 * 1024

// mergeGroup k-way merges the group's files (each sorted by event time) into one sorted file.
func (b *tableBuf[T]) mergeGroup(w *writer, group []lake.FileEntry) error {
	paths, err := w.opts.Lake.LocalPaths(w.ctx, group)
	if err != nil {
		return err
	}
	chunk := max(16, mergeRowBudget/len(paths))
	h := &mergeHeap[T]{at: b.at}
	defer h.close()
	for i, p := range paths {
		src, err := openMergeSource[T](p, i, chunk)
		if err != nil {
			return fmt.Errorf("merge: read %s: %w", p, err)
		}
		h.all = append(h.all, src)
		if src.n > 0 {
			h.srcs = append(h.srcs, src)
		}
	}
	heap.Init(h)
	f0 := group[0]
	out := b.newFile(partKey{f0.AccountID, f0.Region, f0.Day})
	for h.Len() > 0 {
		src := h.srcs[0]
		if err := out.add(&src.buf[src.i]); err != nil {
			return err
		}
		src.i++
		if src.i == src.n {
			if err := src.fill(); err != nil {
				return fmt.Errorf("merge: read %s: %w", src.path, err)
			}
		}
		if src.n == 0 {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
	}
	var rows int64
	for _, f := range group {
		rows += f.Rows
	}
	if out.fe.Rows != rows {
		return fmt.Errorf("merge: read %d rows from %d files that hold %d; the files changed or are damaged", out.fe.Rows, len(group), rows)
	}
	fe, err := out.finish(w)
	if err != nil {
		return err
	}
	w.sum.FilesWritten++
	w.sum.BytesOut += fe.Size
	var remove []string
	for _, f := range group {
		remove = append(remove, f.Key)
	}
	if err := w.commit(lake.Commit{Operation: "merge", Add: []lake.FileEntry{fe}, Remove: remove}); err != nil {
		return err
	}
	w.sum.FilesMerged += len(group)
	return nil
}

// mergeSource reads one sorted input file of a merge, a chunk at a time.
type mergeSource[T any] struct {
	path  string
	order int // position in the group: equal times keep the group's order
	file  *os.File
	r     *parquet.GenericReader[T]
	buf   []T
	i, n  int
	eof   bool
}

func openMergeSource[T any](path string, order, chunk int) (*mergeSource[T], error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	s := &mergeSource[T]{path: path, order: order, file: f, r: parquet.NewGenericReader[T](f), buf: make([]T, chunk)}
	if err := s.fill(); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *mergeSource[T]) fill() error {
	s.i, s.n = 0, 0
	if s.eof {
		return nil
	}
	clear(s.buf)
	n, err := s.r.Read(s.buf)
	s.n = n
	if err == io.EOF {
		s.eof = true
		return nil
	}
	return err
}

func (s *mergeSource[T]) close() {
	_ = s.r.Close()
	_ = s.file.Close()
}

// mergeHeap orders the sources by the event time of their next row.
type mergeHeap[T any] struct {
	at   func(*T) time.Time
	srcs []*mergeSource[T] // with rows left
	all  []*mergeSource[T] // every opened source, for close
}

func (h *mergeHeap[T]) Len() int { return len(h.srcs) }
func (h *mergeHeap[T]) Less(i, j int) bool {
	a, b := h.srcs[i], h.srcs[j]
	ta, tb := h.at(&a.buf[a.i]), h.at(&b.buf[b.i])
	if !ta.Equal(tb) {
		return ta.Before(tb)
	}
	return a.order < b.order
}
func (h *mergeHeap[T]) Swap(i, j int) { h.srcs[i], h.srcs[j] = h.srcs[j], h.srcs[i] }
func (h *mergeHeap[T]) Push(x any)    { h.srcs = append(h.srcs, x.(*mergeSource[T])) }
func (h *mergeHeap[T]) Pop() any {
	x := h.srcs[len(h.srcs)-1]
	h.srcs = h.srcs[:len(h.srcs)-1]
	return x
}

func (h *mergeHeap[T]) close() {
	for _, s := range h.all {
		s.close()
	}
}

// maxListed bounds the quarantined records and skipped objects a summary lists one by one (all are counted).
const maxListed = 1000

// writer turns parsed objects into committed batches.
type writer struct {
	ctx     context.Context
	opts    *Options
	snap    *lake.Snapshot
	sum     *Summary
	tables  map[string]table // by source (table) name, one per registered source
	cur     *batch           // being filled by the ingest loop
	touched map[string]bool
	bytes   int64         // uncompressed input bytes behind the buffered rows
	listed  *atomic.Int64 // raw objects listed so far, for progress
	view    *consumedView

	// The flusher writes and commits batches in order on its own goroutine while the ingest loop fills
	// the next one: parsing and writing overlap, and memory holds at most two batches. It owns snap,
	// the dedup sets, touched and the summary's output counters (under mu, for the progress line).
	batches   chan *batch
	flushDone chan struct{}
	flushErr  error
	mu        sync.Mutex
}

// batch is what one compact commit records: the rows of a set of raw objects, the objects, and what
// was quarantined from them.
type batch struct {
	parts    map[string]any // table -> its flusher's take()
	sources  []lake.SourceObject
	spilled  []lake.FileEntry // written by parse workers for objects in this batch
	bad      []lake.Quarantined
	resolved []string // objects read again: their earlier quarantine entries go
}

func newWriter(ctx context.Context, opts *Options, snap *lake.Snapshot, sum *Summary) *writer {
	w := &writer{ctx: ctx, opts: opts, snap: snap, sum: sum, touched: map[string]bool{}, cur: &batch{}}
	w.tables = map[string]table{}
	for _, d := range registry {
		w.tables[d.Table()] = d.newTable()
	}
	return w
}

// wrote counts a file written for the batch being committed.
func (w *writer) wrote(fe lake.FileEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sum.FilesWritten++
	w.sum.BytesOut += fe.Size
	w.sum.RecordsWritten += fe.Rows
	w.sum.PerTable[fe.Table] += fe.Rows
	w.touched[fe.Partition()] = true
}

func (w *writer) add(p *parsed) error {
	if p.fatal != nil {
		return p.fatal
	}
	t := p.w
	so := sourceObject(t)
	switch {
	case t.skip != "":
		so.Status, so.Reason = statusSkipped, t.skip
		w.sum.ObjectsSkipped++
		if len(w.sum.Skipped) < maxListed {
			w.sum.Skipped = append(w.sum.Skipped, so)
		}
		return w.record(so)
	case p.later != "":
		w.sum.ObjectsTooRecent++
		w.view.forget(so.Key)
		w.opts.Log.Info("object left for the next run", "key", so.Key, "reason", p.later)
		return nil
	case t.verify:
		return w.addChanged(p, so)
	}
	if p.unread != nil {
		so.Status, so.Reason = "failed", p.unread.Error()
		w.sum.ObjectsFailed++
		if len(w.sum.Failed) < maxListed {
			w.sum.Failed = append(w.sum.Failed, so)
		}
		w.opts.Log.Warn("object could not be read; it is read again by the next run", "key", so.Key, "error", so.Reason)
		return nil // not recorded as consumed
	}
	if t.reread != "" {
		w.sum.ObjectsReread++
		w.cur.resolved = append(w.cur.resolved, t.reread)
	}
	w.sum.BytesIn += p.stored
	w.sum.BytesInUncompressed += p.uncompressed
	so.SHA256 = p.sha
	dup := ""
	if p.err == nil {
		var err error
		if dup, err = w.view.sameContent(w.ctx, so.Key, p.sha); err != nil {
			return err
		}
	}
	switch {
	case p.err != nil:
		so.Status, so.Reason = statusQuarantined, p.err.Error()
		w.sum.ObjectsQuarantined++
		q := lake.Quarantined{Time: w.opts.Now().UTC(), Source: so.Source, SourceKey: so.Key, Reason: so.Reason}
		w.cur.bad = append(w.cur.bad, q)
		w.sum.Quarantine = append(w.sum.Quarantine, q)
		w.opts.Log.Warn("object quarantined", "key", so.Key, "reason", so.Reason)
	case dup != "":
		so.Status, so.Reason = statusDuplicate, "the same bytes as "+dup+", read already"
		w.sum.ObjectsDuplicateContent++
		for _, fe := range p.spilled {
			_ = w.opts.Lake.Store().Delete(w.ctx, fe.Key) // never committed; vacuum would delete it too
		}
		w.opts.Log.Info("object has the content of another one: not read twice", "key", so.Key, "same_as", dup)
	default:
		so.Status, so.Records = statusOK, p.rows()
		w.sum.ObjectsRead++
		w.sum.RecordsIn += p.records
		if p.buf != nil {
			w.tables[t.kind.Source].add(p.buf)
		}
		w.cur.spilled = append(w.cur.spilled, p.spilled...)
		for _, q := range p.bad {
			q.Time = w.opts.Now().UTC()
			w.cur.bad = append(w.cur.bad, q)
			w.sum.RecordsQuarantined++
			if len(w.sum.Quarantine) < maxListed {
				w.sum.Quarantine = append(w.sum.Quarantine, q)
			}
		}
		w.bytes += p.uncompressed
	}
	return w.record(so)
}

// maxBatchObjects bounds the raw objects one commit records (objects recorded without rows, such as
// digests, fill no batch).
const maxBatchObjects = 10_000

// record adds so to the objects the batch being filled records, handing the batch off when it is full.
func (w *writer) record(so lake.SourceObject) error {
	w.cur.sources = append(w.cur.sources, so)
	w.view.record(so)
	rows := 0
	for _, t := range w.tables {
		rows += t.buffered()
	}
	if w.bytes >= w.opts.BatchBytes || rows >= w.opts.BatchRows || len(w.cur.sources) >= maxBatchObjects {
		return w.handOff()
	}
	return nil
}

// addChanged handles a consumed object listed with another version than the one recorded. The same bytes
// (a touched file, a copy, an upload of the same content) are done; a newer version is recorded so it is not
// hashed again (two copies under different prefixes share a key: the newer is recorded, the older hashed at
// each run). Other bytes are reported, never read: the lake keeps the rows of the version it read, and log
// files that change after delivery are worth a look. The first report records the new version and goes to
// the quarantine; a version changed again, or another copy that differs, is a warning at each run.
func (w *writer) addChanged(p *parsed, so lake.SourceObject) error {
	cur, found, err := w.view.lookup(w.ctx, so.Key)
	if err != nil {
		return err
	}
	if !found || (cur.Status != statusOK && cur.Status != statusDuplicate && cur.Status != statusChanged) {
		// A copy of the key listed earlier in this run was not consumed after all: the next run decides.
		w.sum.ObjectsTooRecent++
		return nil
	}
	if p.err == nil && p.sha == cur.SHA256 {
		w.sum.ObjectsAlreadyDone++
		if !cur.Modified.IsZero() && !so.Modified.After(cur.Modified) {
			return nil
		}
		cur.Size, cur.ETag, cur.Modified = so.Size, so.ETag, so.Modified
		return w.record(cur)
	}
	w.sum.ObjectsChangedAfterConsumed++
	why := fmt.Sprintf("changed after it was consumed (%s, was %s); the lake keeps the %d rows of the version it read, the new content is not read",
		version(so, p.sha), version(cur, cur.SHA256), cur.Records)
	switch {
	case p.err != nil:
		why += fmt.Sprintf(" (it could not be read to compare: %v)", p.err)
	case cur.SHA256 == "":
		why += " (it was consumed before content hashes were recorded: the bytes may be the same)"
	}
	w.opts.Log.Warn("raw object changed after it was consumed", "key", so.Key, "reason", why)
	q := lake.Quarantined{Time: w.opts.Now().UTC(), Source: so.Source, SourceKey: so.Key, Reason: why}
	w.sum.Quarantine = append(w.sum.Quarantine, q)
	if cur.Status == statusChanged {
		return nil // reported before, and listed in the quarantine since
	}
	w.cur.bad = append(w.cur.bad, q)
	rec := cur
	rec.Size, rec.ETag, rec.Modified, rec.SHA256, rec.Status, rec.Reason = so.Size, so.ETag, so.Modified, p.sha, statusChanged, why
	return w.record(rec)
}

// version describes a version of an object for messages.
func version(so lake.SourceObject, sha string) string {
	v := fmt.Sprintf("%d bytes", so.Size)
	if so.ETag != "" {
		v += ", ETag " + so.ETag
	} else if !so.Modified.IsZero() {
		v += ", modified " + so.Modified.Format(time.RFC3339Nano)
	}
	if sha != "" {
		v += ", sha256 " + sha
	}
	return v
}

// handOff passes the batch being filled to the flusher, once it has taken the previous one.
func (w *writer) handOff() error {
	if len(w.cur.sources) == 0 {
		return nil
	}
	b := w.cur
	b.parts = map[string]any{}
	for name, t := range w.tables {
		b.parts[name] = t.take()
	}
	w.cur, w.bytes = &batch{}, 0
	if w.batches == nil {
		w.batches, w.flushDone = make(chan *batch), make(chan struct{})
		go func() {
			defer close(w.flushDone)
			for b := range w.batches {
				if err := w.flush(b); err != nil {
					w.flushErr = err
					return
				}
			}
		}()
	}
	select {
	case w.batches <- b:
		return nil
	case <-w.flushDone:
		return w.flushErr
	}
}

// drain hands off the last batch and waits until every batch is committed (or one failed).
func (w *writer) drain() error {
	err := w.handOff()
	w.stopFlusher()
	if err != nil {
		return err
	}
	return w.flushErr
}

// stopFlusher lets the flusher finish the batch it has and waits for it.
func (w *writer) stopFlusher() {
	if w.batches != nil {
		close(w.batches)
		<-w.flushDone
		w.batches = nil
	}
}

// flush writes a batch's rows and commits the files together with the raw objects they came from.
// Until the commit lands none of it is visible, and the objects count as not consumed.
func (w *writer) flush(b *batch) error {
	ingestedAt := w.opts.Now().UTC().Truncate(time.Microsecond)
	var jobs []encodeJob
	for _, name := range Sources {
		js, err := w.tables[name].prepare(w, b.parts[name], ingestedAt)
		if err != nil {
			return err
		}
		jobs = append(jobs, js...)
	}
	add, err := w.encode(jobs)
	if err != nil {
		return err
	}
	for _, fe := range add {
		w.wrote(fe)
	}
	for _, fe := range b.spilled {
		w.wrote(fe)
	}
	add = append(add, b.spilled...)
	sortFiles(add)
	// Deduplicated partitions were checked against the files live in w.snap: if another compactor adds
	// to one of them meanwhile, the commit must not be rebased over it (both could hold the same event).
	var exclusive []string
	for _, f := range add {
		if w.tables[f.Table].deduplicates() {
			exclusive = append(exclusive, f.Partition())
		}
	}
	w.mu.Lock()
	w.sum.PartitionsWritten = len(w.touched)
	w.mu.Unlock()
	if w.opts.afterWrite != nil {
		w.opts.afterWrite()
	}
	err = w.commit(lake.Commit{Operation: "compact", Add: add, Sources: b.sources, Quarantine: b.bad, Resolved: b.resolved, Exclusive: exclusive})
	if errors.Is(err, lake.ErrConflict) {
		err = fmt.Errorf("%w\nAnother compactor is writing to this lake; nothing of this batch became visible. "+
			"Run compact again once it has finished: it resumes where this run stopped", err)
	}
	return err
}

// encode runs a batch's jobs, Options.Encoders at a time, largest first, and returns their files in the
// jobs' order. After an error no further job starts; it returns once the running ones are done, with the
// error of the first failed job in order (the files written are never committed).
func (w *writer) encode(jobs []encodeJob) ([]lake.FileEntry, error) {
	out := make([]lake.FileEntry, len(jobs))
	errs := make([]error, len(jobs))
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	// Partitions of a batch differ in size: starting the largest first keeps the encoders busy to the end.
	sort.SliceStable(order, func(a, b int) bool { return jobs[order[a]].rows > jobs[order[b]].rows })
	var next atomic.Int64
	var failed atomic.Bool
	run := func() {
		for !failed.Load() {
			n := int(next.Add(1)) - 1
			if n >= len(order) {
				return
			}
			i := order[n]
			if out[i], errs[i] = jobs[i].write(); errs[i] != nil {
				failed.Store(true)
			}
		}
	}
	var wg sync.WaitGroup
	for range min(w.opts.Encoders, len(jobs)) - 1 {
		wg.Go(run)
	}
	run()
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (w *writer) commit(c lake.Commit) error {
	c.Time = w.opts.Now().UTC()
	next, err := w.opts.Lake.Commit(w.ctx, w.snap, c)
	if err != nil {
		return err
	}
	if next.Version != w.snap.Version+1 {
		// Another writer committed in between: the event ids this writer loaded for deduplication may
		// miss rows it added. They are reloaded from the new snapshot when next needed.
		for _, t := range w.tables {
			t.forgetSeen()
		}
	}
	w.snap = next
	if w.view != nil {
		w.view.committed(next, c.Sources)
	}
	w.mu.Lock()
	w.sum.Commits++
	w.mu.Unlock()
	return nil
}

// mergeSmallFiles merges the small files of the tables this run fills (Options.Sources).
func (w *writer) mergeSmallFiles() error {
	for _, name := range w.opts.Sources {
		if err := w.tables[name].merge(w); err != nil {
			return err
		}
	}
	return nil
}
