// Package lake is where lakehunt's data lives: the object stores (a local directory or s3://bucket/prefix
// behind one Store interface), the table schemas and partition layout, the append-only commit log that
// decides which Parquet files are live (and which raw objects were consumed), the local read cache for S3
// lakes, leases for scheduled ticks, and the run records hunts write. It imports nothing else of lakehunt.
package lake

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The lake's own bookkeeping lives under MetaPrefix, next to the table folders:
//
//	_lakehunt/log/00000000000000000042.json         commit 42 (created with If-None-Match: the version number is the lock)
//	_lakehunt/checkpoint/00000000000000000040.json.gz the whole state as of commit 40
//	_lakehunt/consumed/<shard hash>/<random>.json.gz  raw objects consumed under one raw folder (consumed.go)
//
// Data files are immutable and uniquely named; a file is live only once a commit adds it. A crash before the
// commit leaves an orphan that no reader sees and Vacuum deletes; a crash after it leaves a complete commit.
const (
	MetaPrefix       = "_lakehunt/"
	logPrefix        = MetaPrefix + "log/"
	checkpointPrefix = MetaPrefix + "checkpoint/"
	checkpointEvery  = 25
)

// Options configures Open.
type Options struct {
	Store StoreOptions
	// CacheDir holds local copies of an S3 lake's files (default: the user cache dir + /lakehunt).
	CacheDir string
	// Create starts an empty lake where there is none (compaction does). Without it, Open of a location
	// that holds no lake fails with ErrNoLake: a mistyped path must not read as an empty lake.
	Create bool
	// Catalog, if set, is written after each commit and consulted by Vacuum (lake/iceberg).
	Catalog Catalog
}

// ErrNoLake means the location holds no lake: no marker and no commit log under MetaPrefix.
var ErrNoLake = errors.New("no lake")

// markerKey marks a location as a lake from the moment a writer opens it, so that a lake whose first
// compaction found nothing to commit is still one. Lakes written before the marker have a commit log.
const markerKey = MetaPrefix + "lake.json"

// Lake is a table store with an append-only commit log.
type Lake struct {
	store      Store
	cacheDir   string
	catalog    Catalog
	catalogErr error
	catalogAt  int64 // the commit this handle last brought the catalog to
}

// Open opens the lake at a local directory or s3://bucket/prefix; with opts.Create it starts one there
// if there is none.
func Open(ctx context.Context, url string, opts Options) (*Lake, error) {
	st, err := OpenStore(ctx, url, opts.Store)
	if err != nil {
		return nil, err
	}
	found, err := exists(ctx, st)
	if err != nil {
		return nil, fmt.Errorf("open lake %s: %w", st.URL(), err)
	}
	if !found {
		if !opts.Create {
			return nil, fmt.Errorf("%w at %s: it holds no lakehunt commit log (%slog/)", ErrNoLake, st.URL(), MetaPrefix)
		}
		b, _ := json.Marshal(map[string]any{"created": time.Now().UTC()})
		if err := st.Create(ctx, markerKey, b); err != nil && !errors.Is(err, ErrExists) {
			return nil, fmt.Errorf("create lake %s: %w", st.URL(), err)
		}
	}
	cache := opts.CacheDir
	if cache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(d, "lakehunt")
		} else {
			cache = filepath.Join(os.TempDir(), "lakehunt-cache")
		}
	}
	return &Lake{store: st, cacheDir: cache, catalog: opts.Catalog}, nil
}

var errFound = errors.New("found")

// exists reports whether st holds a lake: its marker, or (for lakes older than the marker) a commit or
// a checkpoint.
func exists(ctx context.Context, st Store) (bool, error) {
	_, err := st.Stat(ctx, markerKey)
	if err == nil {
		return true, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return false, err
	}
	for _, prefix := range []string{logPrefix, checkpointPrefix} {
		err := st.List(ctx, prefix, func(ObjectInfo) error { return errFound })
		if errors.Is(err, errFound) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
	}
	return false, nil
}

// OpenWithStore wraps an already opened store.
func OpenWithStore(st Store, cacheDir string) *Lake { return &Lake{store: st, cacheDir: cacheDir} }

// Store is the object store under the lake.
func (l *Lake) Store() Store { return l.store }

// URL is where the lake lives.
func (l *Lake) URL() string { return l.store.URL() }

// IsLocal reports whether the lake is a local directory (DuckDB reads its files in place).
func (l *Lake) IsLocal() bool { _, ok := l.store.(*localStore); return ok }

// FileEntry is one live Parquet file of a table.
type FileEntry struct {
	Table       string    `json:"table"`
	Key         string    `json:"key"`
	AccountID   string    `json:"account_id"`
	Region      string    `json:"region"`
	Day         string    `json:"day"` // YYYY-MM-DD, event time
	Rows        int64     `json:"rows"`
	Size        int64     `json:"size"`
	MinTime     time.Time `json:"min_time"`
	MaxTime     time.Time `json:"max_time"`
	MinIngested time.Time `json:"min_ingested"`
	MaxIngested time.Time `json:"max_ingested"`
	SHA256      string    `json:"sha256"`
}

// Partition is the Hive folder of the file: TABLE/account_id=A/region=R/dt=D.
func (f FileEntry) Partition() string { return path.Dir(f.Key) }

// PartitionPath is the Hive folder for a table partition.
func PartitionPath(table, account, region, day string) string {
	return fmt.Sprintf("%s/account_id=%s/region=%s/dt=%s", table, hiveEscape(account), hiveEscape(region), day)
}

func hiveEscape(s string) string {
	if s == "" {
		return "__HIVE_DEFAULT_PARTITION__"
	}
	r := strings.NewReplacer("/", "%2F", "=", "%3D", "%", "%25", " ", "%20", ":", "%3A")
	return r.Replace(s)
}

// SourceObject is a raw object a commit consumed. Once recorded, that version of the object is never read
// again. The version is its size with S3's ETag, or with a local file's modification time (ETag empty);
// objects recorded before versions were kept have neither and are matched by key alone.
type SourceObject struct {
	Key      string    `json:"key"`
	Size     int64     `json:"size"`
	ETag     string    `json:"etag,omitempty"`
	Modified time.Time `json:"modified,omitzero"`
	SHA256   string    `json:"sha256,omitempty"` // of the bytes as stored, for objects read
	Source   string    `json:"source"`           // table it fed, or "" for skipped objects
	// ok | quarantined | skipped | duplicate (the same bytes as another object, read once) | changed (its
	// content changed after it was consumed: the lake holds the rows of the earlier version) | retry (a
	// quarantined object released by 'lakehunt quarantine --retry': the next compact reads it again)
	Status  string `json:"status"`
	Records int64  `json:"records"`          // rows written from it
	Reason  string `json:"reason,omitempty"` // why quarantined, skipped, a duplicate or changed
}

func (s SourceObject) equal(o SourceObject) bool {
	m := s.Modified.Equal(o.Modified)
	s.Modified, o.Modified = time.Time{}, time.Time{}
	return m && s == o
}

// Quarantined is a bad record or object, kept with its reason so it can be listed and fixed.
type Quarantined struct {
	Time      time.Time `json:"time"`
	Source    string    `json:"source"`
	SourceKey string    `json:"source_key"`
	Record    int64     `json:"record,omitempty"` // 0 for a whole object
	Reason    string    `json:"reason"`
	Sample    string    `json:"sample,omitempty"` // first bytes of the bad input
}

// Commit is one atomic change to the lake.
type Commit struct {
	Version   int64          `json:"version"`
	Time      time.Time      `json:"time"`
	Operation string         `json:"operation"`
	Add       []FileEntry    `json:"add,omitempty"`
	Remove    []string       `json:"remove,omitempty"`
	Sources   []SourceObject `json:"sources,omitempty"`
	// Consumed is the new state of each raw folder (SourceShard) this commit consumed objects in. Set by
	// Lake.Commit; commits written before this layout have Sources only.
	Consumed   map[string]ShardState `json:"consumed,omitempty"`
	Quarantine []Quarantined         `json:"quarantine,omitempty"`
	// Resolved names raw objects read again (or released to be): the quarantine entries recorded for them
	// before this commit are dropped, and this commit's own take their place.
	Resolved []string          `json:"resolved,omitempty"`
	Meta     map[string]string `json:"meta,omitempty"`
	// Writer is random per Commit call: a commit read back after a lost answer is known to be this
	// writer's, never another writer's with the same content.
	Writer string `json:"writer,omitempty"`
	// Exclusive lists partitions (FileEntry.Partition) whose live files this commit was computed
	// against, e.g. deduplicated against. If another writer changed the files of any of them since the
	// base snapshot, the commit is not rebased: ErrConflict. Not stored.
	Exclusive []string `json:"-"`
}

// Snapshot is the lake's committed state at one version.
type Snapshot struct {
	Version int64       `json:"version"`
	Files   []FileEntry `json:"files"`
	// Consumed maps each raw folder to where the objects consumed under it are recorded: what a
	// compactor needs to pick up only new objects (Lake.ConsumedIn). Nil in a FileSnapshot.
	Consumed   map[string]ShardState `json:"consumed"`
	Quarantine []Quarantined         `json:"quarantine"`
	// pending holds, by shard, consumed objects read from a lake written before manifests (inline in
	// checkpoints and commits). The next commit writes them into manifests.
	pending map[string]map[string]SourceObject
	// noSources marks a FileSnapshot: commits on top of it carry no consumed-object state forward, so
	// they must not write checkpoints.
	noSources bool
}

// checkpointFiles is a checkpoint's main object: everything but the consumed-object state, which is
// stored beside it in ConsumedObject (the shard → manifest map) so that readers do not download or
// decode it. Older checkpoints hold a list of every consumed object in SourcesObject, or inline as
// "sources" (see checkpointAll); decoding into this type skips them.
type checkpointFiles struct {
	Version        int64         `json:"version"`
	Files          []FileEntry   `json:"files"`
	Quarantine     []Quarantined `json:"quarantine"`
	ConsumedObject string        `json:"consumed_object,omitempty"`
	SourcesObject  string        `json:"sources_object,omitempty"`
}

// checkpointAll is how writers read a checkpoint of any form.
type checkpointAll struct {
	checkpointFiles
	Sources map[string]SourceObject `json:"sources,omitempty"`
}

// FilesFor returns a table's files whose event-time range overlaps [from, to). Zero times mean unbounded.
// Tables without event_time (ti_indicators) are never pruned by time: a hunt sees all of their rows.
func (s *Snapshot) FilesFor(table string, from, to time.Time) []FileEntry {
	if t, err := LookupTable(table); err == nil && !t.HasColumn("event_time") {
		from, to = time.Time{}, time.Time{}
	}
	var out []FileEntry
	for _, f := range s.Files {
		if f.Table != table {
			continue
		}
		if !to.IsZero() && !f.MinTime.Before(to) {
			continue
		}
		if !from.IsZero() && f.MaxTime.Before(from) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Accounts lists, sorted, the AWS accounts the snapshot's log tables hold data for: the default
// organization when the configuration names none.
func (s *Snapshot) Accounts() []string {
	seen := map[string]bool{}
	for _, f := range s.Files {
		if f.AccountID != "" {
			seen[f.AccountID] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// TableStats is what a snapshot holds of one table.
type TableStats struct {
	Table string `json:"table"`
	Files int    `json:"files"`
	Rows  int64  `json:"rows"`
	// Newest is the latest event time in the table (in ti_indicators: the latest valid_from); zero if it
	// has no rows.
	Newest time.Time `json:"newest,omitzero"`
}

// Stats sums up a table's live files.
func (s *Snapshot) Stats(table string) TableStats {
	st := TableStats{Table: table}
	for _, f := range s.Files {
		if f.Table != table {
			continue
		}
		st.Files++
		st.Rows += f.Rows
		if f.Rows > 0 && f.MaxTime.After(st.Newest) {
			st.Newest = f.MaxTime
		}
	}
	return st
}

// Live reports whether a file key is part of the snapshot.
func (s *Snapshot) Live(key string) bool {
	for _, f := range s.Files {
		if f.Key == key {
			return true
		}
	}
	return false
}

func logKey(v int64) string        { return fmt.Sprintf("%s%020d.json", logPrefix, v) }
func checkpointKey(v int64) string { return fmt.Sprintf("%s%020d.json.gz", checkpointPrefix, v) }
func checkpointConsumedKey(v int64) string {
	return fmt.Sprintf("%s%020d.consumed.json.gz", checkpointPrefix, v)
}

func parseVersion(key, prefix, suffix string) (int64, bool) {
	s := strings.TrimSuffix(strings.TrimPrefix(key, prefix), suffix)
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// Snapshot reads the latest committed state, the consumed raw objects included: the newest checkpoint
// plus the commits after it. Writers (compact, ti import) start from it.
func (l *Lake) Snapshot(ctx context.Context) (*Snapshot, error) { return l.snapshot(ctx, true) }

// FileSnapshot is Snapshot without Sources: the live files and the quarantine, all that readers (hunts,
// queries, the scheduler's planning, vacuum) need. On a lake of hundreds of thousands of raw objects the
// consumed-object state is most of the lake state (hundreds of MB in memory, seconds to decode).
func (l *Lake) FileSnapshot(ctx context.Context) (*Snapshot, error) { return l.snapshot(ctx, false) }

func (l *Lake) snapshot(ctx context.Context, withSources bool) (*Snapshot, error) {
	snap := &Snapshot{noSources: !withSources}
	if withSources {
		snap.Consumed = map[string]ShardState{}
	}
	var cps []int64
	err := l.store.List(ctx, checkpointPrefix, func(o ObjectInfo) error {
		if v, ok := parseVersion(o.Key, checkpointPrefix, ".json.gz"); ok {
			cps = append(cps, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read lake state at %s: %w", l.URL(), err)
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i] > cps[j] })
	if len(cps) > 0 {
		if err := l.readCheckpoint(ctx, cps[0], snap, withSources); err != nil {
			return nil, err
		}
	}
	var versions []int64
	err = l.store.List(ctx, logPrefix, func(o ObjectInfo) error {
		if v, ok := parseVersion(o.Key, logPrefix, ".json"); ok && v > snap.Version {
			versions = append(versions, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read lake log at %s: %w", l.URL(), err)
	}
	sort.Slice(versions, func(i, j int) bool { return versions[i] < versions[j] })
	files := map[string]FileEntry{}
	for _, f := range snap.Files {
		files[f.Key] = f
	}
	for _, v := range versions {
		if v != snap.Version+1 {
			return nil, fmt.Errorf("lake log at %s has a gap: commit %d follows %d; the lake is damaged, restore %s from a backup", l.URL(), v, snap.Version, logKey(snap.Version+1))
		}
		b, err := ReadAll(ctx, l.store, logKey(v))
		if err != nil {
			return nil, fmt.Errorf("read commit %d: %w", v, err)
		}
		var c Commit
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("commit %s is not valid JSON (%v); the lake is damaged", logKey(v), err)
		}
		apply(snap, files, &c)
	}
	snap.Files = snap.Files[:0]
	for _, f := range files {
		snap.Files = append(snap.Files, f)
	}
	sort.Slice(snap.Files, func(i, j int) bool { return snap.Files[i].Key < snap.Files[j].Key })
	return snap, nil
}

func apply(snap *Snapshot, files map[string]FileEntry, c *Commit) {
	for _, k := range c.Remove {
		delete(files, k)
	}
	for _, f := range c.Add {
		files[f.Key] = f
	}
	if !snap.noSources {
		if c.Consumed != nil {
			for sh, st := range c.Consumed {
				snap.Consumed[sh] = st
				delete(snap.pending, sh)
			}
		} else {
			addPending(snap, c.Sources)
		}
	}
	if len(c.Resolved) > 0 {
		gone := make(map[string]bool, len(c.Resolved))
		for _, k := range c.Resolved {
			gone[k] = true
		}
		kept := make([]Quarantined, 0, len(snap.Quarantine)) // a new slice: snap shares its array with its base
		for _, q := range snap.Quarantine {
			if !gone[q.SourceKey] {
				kept = append(kept, q)
			}
		}
		snap.Quarantine = kept
	}
	snap.Quarantine = append(snap.Quarantine, c.Quarantine...)
	snap.Version = c.Version
}

func (l *Lake) readCheckpoint(ctx context.Context, v int64, snap *Snapshot, withSources bool) error {
	damaged := func(key string, err error) error {
		return fmt.Errorf("checkpoint %s is damaged (%v); delete it and the lake state is rebuilt from the log", key, err)
	}
	var cp checkpointAll
	var target any = &cp.checkpointFiles
	if withSources {
		target = &cp
	}
	if err := readGzipJSON(ctx, l.store, checkpointKey(v), target); err != nil {
		return damaged(checkpointKey(v), err)
	}
	snap.Version, snap.Files, snap.Quarantine = cp.Version, cp.Files, cp.Quarantine
	if !withSources {
		return nil
	}
	if cp.ConsumedObject != "" {
		if err := readGzipJSON(ctx, l.store, cp.ConsumedObject, &snap.Consumed); err != nil {
			return damaged(cp.ConsumedObject, err)
		}
		if snap.Consumed == nil {
			snap.Consumed = map[string]ShardState{}
		}
		return nil
	}
	// Written before manifests: every consumed object, inline or in one list beside the checkpoint.
	snap.Consumed = map[string]ShardState{}
	inline := make([]SourceObject, 0, len(cp.Sources))
	for _, so := range cp.Sources {
		inline = append(inline, so)
	}
	addPending(snap, inline)
	if cp.SourcesObject != "" {
		var sources []SourceObject
		if err := readGzipJSON(ctx, l.store, cp.SourcesObject, &sources); err != nil {
			return damaged(cp.SourcesObject, err)
		}
		addPending(snap, sources)
	}
	return nil
}

func addPending(snap *Snapshot, sources []SourceObject) {
	for _, s := range sources {
		sh := SourceShard(s.Key)
		if snap.pending == nil {
			snap.pending = map[string]map[string]SourceObject{}
		}
		if snap.pending[sh] == nil {
			snap.pending[sh] = map[string]SourceObject{}
		}
		snap.pending[sh][s.Key] = s
	}
}

func readGzipJSON(ctx context.Context, st Store, key string, v any) error {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return err
	}
	defer rc.Close()
	zr, err := gzip.NewReader(rc)
	if err != nil {
		return err
	}
	return json.NewDecoder(zr).Decode(v)
}

// ErrConflict means another writer committed first and the change no longer applies.
var ErrConflict = errors.New("concurrent commit conflict")

// Commit appends c to the log on top of base. If another writer committed in between, the commit is
// retried on the new state as long as the files it removes are still live and the raw objects it
// consumes are still unconsumed; otherwise ErrConflict (nothing of c is visible).
// It returns the new snapshot.
func (l *Lake) Commit(ctx context.Context, base *Snapshot, c Commit) (*Snapshot, error) {
	if l.catalog != nil && base.Version > l.catalogAt {
		if err := l.catalog.CatchUp(ctx, l, base.Version); err != nil {
			l.catalogErr = &CatalogError{Version: base.Version, Err: err}
		} else {
			l.catalogAt = base.Version
		}
	}
	basis := partitionFiles(base, c.Exclusive)
	chosen := base // the state c.Sources were chosen against
	c.Writer = randomToken()
	for attempt := 0; attempt < 20; attempt++ {
		var err error
		if attempt > 0 {
			if base, err = l.snapshot(ctx, !base.noSources); err != nil {
				return nil, err
			}
			for _, k := range c.Remove {
				if !base.Live(k) {
					return nil, fmt.Errorf("%w: file %s was removed by another writer", ErrConflict, k)
				}
			}
			if !base.noSources {
				if err := l.checkUnconsumed(ctx, chosen, base, c.Sources); err != nil {
					return nil, err
				}
			}
			now := partitionFiles(base, c.Exclusive)
			for _, p := range c.Exclusive {
				if !slices.Equal(basis[p], now[p]) {
					return nil, fmt.Errorf("%w: another writer changed partition %s while this commit was prepared against it", ErrConflict, p)
				}
			}
		}
		if len(c.Sources) > 0 && base.noSources {
			return nil, errFileSnapshot
		}
		c.Version = base.Version + 1
		c.Consumed = nil
		if len(c.Sources) > 0 || len(base.pending) > 0 {
			if c.Consumed, err = l.shardStates(ctx, base, c.Sources, c.Version); err != nil {
				return nil, err
			}
		}
		if c.Time.IsZero() {
			c.Time = time.Now().UTC()
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		// Create resolves a lost answer by reading the commit back (Writer makes it ours): ErrExists means
		// another writer's commit holds this version.
		err = l.store.Create(ctx, logKey(c.Version), b)
		if errors.Is(err, ErrExists) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("commit %d to %s: its outcome is unknown (the next run reads the lake state and goes on either way): %w", c.Version, l.URL(), err)
		}
		next := &Snapshot{Version: base.Version, Consumed: base.Consumed, Quarantine: base.Quarantine, pending: base.pending, noSources: base.noSources}
		files := make(map[string]FileEntry, len(base.Files))
		for _, f := range base.Files {
			files[f.Key] = f
		}
		if len(c.Consumed) > 0 {
			// The caller's base stays unchanged. The commit wrote every pending shard into a manifest.
			next.Consumed = make(map[string]ShardState, len(base.Consumed)+len(c.Consumed))
			for k, v := range base.Consumed {
				next.Consumed[k] = v
			}
			next.pending = nil
		}
		apply(next, files, &c)
		for _, f := range files {
			next.Files = append(next.Files, f)
		}
		sort.Slice(next.Files, func(i, j int) bool { return next.Files[i].Key < next.Files[j].Key })
		if c.Version%checkpointEvery == 0 && !next.noSources {
			// A failed checkpoint only costs replay time on the next read.
			_ = l.writeCheckpoint(ctx, next)
		}
		if l.catalog != nil {
			if err := l.catalog.Committed(ctx, l, &c); err != nil {
				l.catalogErr = &CatalogError{Version: c.Version, Err: err}
			} else {
				l.catalogAt = c.Version
			}
		}
		return next, nil
	}
	return nil, fmt.Errorf("%w: gave up after 20 attempts; is another compactor running against %s?", ErrConflict, l.URL())
}

// partitionFiles returns, for each of the given partitions, the sorted keys of its live files in snap.
func partitionFiles(snap *Snapshot, parts []string) map[string][]string {
	if len(parts) == 0 {
		return nil
	}
	want := make(map[string]bool, len(parts))
	for _, p := range parts {
		want[p] = true
	}
	out := make(map[string][]string, len(parts))
	for _, f := range snap.Files {
		if p := f.Partition(); want[p] {
			out[p] = append(out[p], f.Key)
		}
	}
	for _, keys := range out {
		sort.Strings(keys)
	}
	return out
}

func (l *Lake) writeCheckpoint(ctx context.Context, s *Snapshot) error {
	if len(s.pending) > 0 {
		return nil // not written into manifests yet; never the case after a commit on a full snapshot
	}
	// The shard map first: the main object is what marks the checkpoint as there.
	if err := putGzipJSON(ctx, l.store, checkpointConsumedKey(s.Version), s.Consumed); err != nil {
		return err
	}
	return putGzipJSON(ctx, l.store, checkpointKey(s.Version), checkpointFiles{Version: s.Version, Files: s.Files, Quarantine: s.Quarantine,
		ConsumedObject: checkpointConsumedKey(s.Version)})
}

func putGzipJSON(ctx context.Context, st Store, key string, v any) error {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if err := json.NewEncoder(zw).Encode(v); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return PutBytes(ctx, st, key, buf.Bytes())
}

// VacuumSummary is what Vacuum deleted.
type VacuumSummary struct {
	Objects   int // unreferenced objects older than minAge
	TempFiles int // temporary files of writers killed before they renamed them (local lakes)
}

// StaleTempAge is how long a temporary file of a local lake (".tmp-*") goes unmodified before Vacuum deletes
// it: a writer fills its temporary file and renames it at once, so one that old belongs to a killed writer.
const StaleTempAge = time.Hour

// Vacuum deletes objects no reader needs any more that are older than minAge: table files that no
// commit references (orphans of crashed writers, files merged away), consumed-object manifests that
// newer ones replaced, and checkpoints older than the newest two. minAge protects readers and writers
// still using an older snapshot. In a local lake it also deletes temporary files older than StaleTempAge.
func (l *Lake) Vacuum(ctx context.Context, minAge time.Duration) (VacuumSummary, error) {
	var sum VacuumSummary
	snap, err := l.Snapshot(ctx)
	if err != nil {
		return sum, err
	}
	live := make(map[string]bool, len(snap.Files)+len(snap.Consumed))
	for _, f := range snap.Files {
		live[f.Key] = true
	}
	for _, st := range snap.Consumed {
		live[st.Manifest] = true
	}
	cutoff := time.Now().Add(-minAge)
	if l.catalog != nil {
		retained, err := l.catalog.Expire(ctx, l, cutoff)
		if err != nil {
			return sum, fmt.Errorf("vacuum: nothing deleted, the Iceberg snapshots it must keep are unknown (%w); run 'lakehunt catalog rebuild'", err)
		}
		maps.Copy(live, retained)
	}
	var doomed []string
	old := func(prefix string, keep func(ObjectInfo) bool) error {
		return l.store.List(ctx, prefix, func(o ObjectInfo) error {
			if !keep(o) && !live[o.Key] && o.Modified.Before(cutoff) {
				doomed = append(doomed, o.Key)
			}
			return nil
		})
	}
	for _, t := range Tables() {
		if err := old(t.Name+"/", func(o ObjectInfo) bool { return !strings.HasSuffix(o.Key, ".parquet") }); err != nil {
			return sum, err
		}
	}
	if err := old(consumedPrefix, func(ObjectInfo) bool { return false }); err != nil {
		return sum, err
	}
	var cps []int64
	if err := l.store.List(ctx, checkpointPrefix, func(o ObjectInfo) error {
		if v, ok := parseVersion(o.Key, checkpointPrefix, ".json.gz"); ok {
			cps = append(cps, v)
		}
		return nil
	}); err != nil {
		return sum, err
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i] > cps[j] })
	if len(cps) > 2 {
		keepFrom := cps[1]
		if err := old(checkpointPrefix, func(o ObjectInfo) bool {
			v, err := strconv.ParseInt(strings.SplitN(strings.TrimPrefix(o.Key, checkpointPrefix), ".", 2)[0], 10, 64)
			return err != nil || v >= keepFrom
		}); err != nil {
			return sum, err
		}
	}
	for _, k := range doomed {
		if err := l.store.Delete(ctx, k); err != nil {
			return sum, err
		}
		sum.Objects++
	}
	if ls, ok := l.store.(*localStore); ok {
		dirs := []string{MetaPrefix}
		for _, t := range Tables() {
			dirs = append(dirs, t.Name)
		}
		sum.TempFiles, err = ls.removeStaleTemps(ctx, dirs, time.Now().Add(-StaleTempAge))
	}
	return sum, err
}

// OpenFile reads one lake object (a data file or metadata).
func (l *Lake) OpenFile(ctx context.Context, key string) (io.ReadCloser, error) {
	return l.store.Open(ctx, key)
}
