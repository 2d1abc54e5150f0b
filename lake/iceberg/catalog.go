package iceberg

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	ice "github.com/apache/iceberg-go"
	icetable "github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/lakehunt/lakehunt/lake"
)

// Layout, beside each table's data:
//
//	TABLE/metadata/<commit>-<random>.metadata.json   table metadata (format v2)
//	TABLE/metadata/snap-<commit>-<random>.avro       manifest list of the snapshot of lake commit <commit>
//	TABLE/metadata/m-<commit>-<random>.avro          manifest
//	_lakehunt/iceberg.json                           the pointer: lake commit + current metadata per table
//
// Every file is written once under a new name; only the pointer is replaced.
const (
	PointerKey = lake.MetaPrefix + "iceberg.json"
	// maxManifests bounds a snapshot's manifest list: one more and all manifests are merged into one, so
	// a commit that removes files reads at most this many manifests.
	maxManifests = 64
	// maxSnapshots bounds a table's snapshot history between vacuums: the metadata file holds every
	// snapshot and is rewritten by each commit, so a backfill of thousands of commits would otherwise
	// write a metadata file growing by about a kilobyte per commit, each time.
	maxSnapshots = 100
	// catchUpLimit is how many missed commits are replayed one by one; behind by more, Committed rebuilds.
	catchUpLimit = 100
)

// Pointer is the content of PointerKey.
type Pointer struct {
	// Version is the lake commit every table's current snapshot reflects.
	Version int64 `json:"version"`
	// Tables maps table name to the key of its current metadata file.
	Tables map[string]string `json:"tables"`
}

// Catalog writes the Iceberg metadata of a lake; it implements lake.Catalog.
type Catalog struct{}

var _ lake.Catalog = Catalog{}

// ReadPointer returns the lake's Iceberg pointer and its ETag; nil if the lake has no Iceberg metadata yet.
func ReadPointer(ctx context.Context, l *lake.Lake) (*Pointer, string, error) {
	info, err := l.Store().Stat(ctx, PointerKey)
	if errors.Is(err, lake.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	b, err := lake.ReadAll(ctx, l.Store(), PointerKey)
	if err != nil {
		return nil, "", err
	}
	var p Pointer
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, "", fmt.Errorf("%s is damaged (%v): run 'lakehunt catalog rebuild'", PointerKey, err)
	}
	return &p, info.ETag, nil
}

// Committed brings the Iceberg tables up to commit c, replaying the commits it missed.
func (Catalog) Committed(ctx context.Context, l *lake.Lake, c *lake.Commit) error {
	return catchUp(ctx, l, c.Version, c)
}

// CatchUp brings the Iceberg tables up to at least lake commit version.
func (Catalog) CatchUp(ctx context.Context, l *lake.Lake, version int64) error {
	return catchUp(ctx, l, version, nil)
}

// catchUp replays the commits after the pointer's up to version; last, if given, is commit version.
func catchUp(ctx context.Context, l *lake.Lake, version int64, last *lake.Commit) error {
	ptr, etag, err := ReadPointer(ctx, l)
	if err != nil {
		return err
	}
	if ptr == nil || version-ptr.Version > catchUpLimit {
		_, err := Rebuild(ctx, l)
		return err
	}
	if ptr.Version >= version {
		return nil
	}
	s := newSync(l, ptr)
	for v := ptr.Version + 1; v <= version; v++ {
		c := last
		if v < version || c == nil {
			if c, err = l.ReadCommit(ctx, v); err != nil {
				return err
			}
		}
		if err := s.apply(ctx, c); err != nil {
			return err
		}
	}
	if err := s.publish(ctx, version, etag, false); err != nil && !errors.Is(err, errSuperseded) {
		return err
	}
	return nil
}

// Rebuild writes every table afresh from the lake's current state: one snapshot per table holding its
// live files, with the lake's latest commit as its ID. Earlier Iceberg history is dropped (its files are
// left for Vacuum). It returns the new pointer.
func Rebuild(ctx context.Context, l *lake.Lake) (*Pointer, error) {
	snap, err := l.FileSnapshot(ctx)
	if err != nil {
		return nil, err
	}
	s := newSync(l, &Pointer{Tables: map[string]string{}})
	var ts time.Time
	if snap.Version > 0 {
		c, err := l.ReadCommit(ctx, snap.Version)
		if err != nil {
			return nil, err
		}
		ts = c.Time
	}
	byTable := map[string][]lake.FileEntry{}
	for _, f := range snap.Files {
		byTable[f.Table] = append(byTable[f.Table], f)
	}
	for _, t := range lake.Tables() {
		st, err := s.table(ctx, t.Name)
		if err != nil {
			return nil, err
		}
		if len(byTable[t.Name]) > 0 {
			if err := s.snapshot(ctx, st, snap.Version, ts, "rebuild", byTable[t.Name], nil); err != nil {
				return nil, err
			}
		}
	}
	if err := s.publish(ctx, snap.Version, "", true); err != nil {
		return nil, err
	}
	return s.ptr, nil
}

// errSuperseded means another writer published this commit or a later one first.
var errSuperseded = errors.New("the Iceberg pointer moved on under this writer")

// update is one update of the pointer: the tables it loaded and changed.
type update struct {
	l      *lake.Lake
	ptr    *Pointer
	tables map[string]*tableState
}

type tableState struct {
	table   *lake.Table
	schema  *ice.Schema
	spec    ice.PartitionSpec
	meta    icetable.Metadata
	key     string // current metadata file, "" if not written yet
	changed bool
}

func newSync(l *lake.Lake, ptr *Pointer) *update {
	next := &Pointer{Version: ptr.Version, Tables: map[string]string{}}
	for k, v := range ptr.Tables {
		next.Tables[k] = v
	}
	return &update{l: l, ptr: next, tables: map[string]*tableState{}}
}

// table loads a table's current metadata, or starts a new table without snapshots.
func (s *update) table(ctx context.Context, name string) (*tableState, error) {
	if st, ok := s.tables[name]; ok {
		return st, nil
	}
	t, err := lake.LookupTable(name)
	if err != nil {
		return nil, err
	}
	st := &tableState{table: t}
	if key := s.ptr.Tables[name]; key != "" {
		if st.meta = cached.metadata(s.l.ObjectURL(key)); st.meta == nil {
			b, err := lake.ReadAll(ctx, s.l.Store(), key)
			if err != nil {
				return nil, fmt.Errorf("read Iceberg metadata of %s: %w", name, err)
			}
			if st.meta, err = icetable.ParseMetadataBytes(b); err != nil {
				return nil, fmt.Errorf("Iceberg metadata %s is damaged (%v): run 'lakehunt catalog rebuild'", key, err)
			}
		}
		st.key, st.schema = key, st.meta.CurrentSchema()
		if st.spec, err = specOf(st.meta); err != nil {
			return nil, err
		}
	} else {
		sc, err := Schema(t)
		if err != nil {
			return nil, err
		}
		spec := Spec(t, sc)
		props := ice.Properties{
			icetable.PropertyFormatVersion: "2",
			icetable.DefaultNameMappingKey: nameMapping(sc),
			"lakehunt.table":               name,
		}
		id := uuid.NewSHA1(uuid.NameSpaceURL, []byte(s.l.ObjectURL(name)))
		if st.meta, err = icetable.NewMetadataWithUUID(sc, &spec, icetable.UnsortedSortOrder, s.l.ObjectURL(name), props, id); err != nil {
			return nil, fmt.Errorf("Iceberg metadata for %s: %w", name, err)
		}
		st.schema = st.meta.CurrentSchema()
		if st.spec, err = specOf(st.meta); err != nil {
			return nil, err
		}
		st.changed = true
	}
	s.tables[name] = st
	return st, nil
}

func specOf(m icetable.Metadata) (ice.PartitionSpec, error) {
	for _, sp := range m.PartitionSpecs() {
		if sp.ID() == m.DefaultPartitionSpec() {
			return sp, nil
		}
	}
	return ice.PartitionSpec{}, fmt.Errorf("Iceberg metadata of %s has no default partition spec", m.Location())
}

// The lake's Parquet files carry no Iceberg field IDs: readers map columns by name.
func nameMapping(sc *ice.Schema) string {
	b, _ := json.Marshal(sc.NameMapping())
	return string(b)
}

// apply adds the snapshot of lake commit c to each table it changed.
func (s *update) apply(ctx context.Context, c *lake.Commit) error {
	adds := map[string][]lake.FileEntry{}
	removes := map[string][]string{}
	for _, f := range c.Add {
		adds[f.Table] = append(adds[f.Table], f)
	}
	for _, k := range c.Remove {
		t, _, _ := strings.Cut(k, "/")
		removes[t] = append(removes[t], k)
	}
	names := map[string]bool{}
	for t := range adds {
		names[t] = true
	}
	for t := range removes {
		names[t] = true
	}
	for _, name := range sortedKeys(names) {
		if _, err := lake.LookupTable(name); err != nil {
			continue // a table this build does not know: nothing to mirror
		}
		st, err := s.table(ctx, name)
		if err != nil {
			return err
		}
		if cur := st.meta.CurrentSnapshot(); cur != nil && cur.SnapshotID >= c.Version {
			continue // already there (a rebuild or another writer got here first)
		}
		if err := s.snapshot(ctx, st, c.Version, c.Time, c.Operation, adds[name], removes[name]); err != nil {
			return fmt.Errorf("Iceberg snapshot of %s for lake commit %d: %w", name, c.Version, err)
		}
	}
	s.ptr.Version = c.Version
	return nil
}

// snapshot adds to st the snapshot (ID: the lake commit version) that adds and removes the given files.
func (s *update) snapshot(ctx context.Context, st *tableState, version int64, ts time.Time, lakeOp string, add []lake.FileEntry, remove []string) error {
	cur := st.meta.CurrentSnapshot()
	var old []ice.ManifestFile
	if cur != nil {
		var err error
		if old, err = s.manifestList(ctx, cur.ManifestList); err != nil {
			return err
		}
	}
	seq := st.meta.LastSequenceNumber() + 1
	snapID := version
	removed := make(map[string]bool, len(remove))
	for _, k := range remove {
		removed[s.l.ObjectURL(k)] = true
	}
	merge := len(old) >= maxManifests
	var keep []ice.ManifestFile
	var entries []ice.ManifestEntry
	var removedRows int64
	for _, m := range old {
		if !merge && len(removed) == 0 {
			keep = append(keep, m)
			continue
		}
		es, err := s.manifestEntries(ctx, m)
		if err != nil {
			return err
		}
		touched := false
		for _, e := range es {
			if removed[e.DataFile().FilePath()] {
				touched = true
			}
		}
		if !touched && !merge {
			keep = append(keep, m)
			continue
		}
		for _, e := range es {
			fseq := e.FileSequenceNum()
			eseq := e.SequenceNum()
			if removed[e.DataFile().FilePath()] {
				entries = append(entries, ice.NewManifestEntry(ice.EntryStatusDELETED, &snapID, &eseq, fseq, e.DataFile()))
				removedRows += e.DataFile().Count()
				delete(removed, e.DataFile().FilePath())
				continue
			}
			eid := e.SnapshotID()
			entries = append(entries, ice.NewManifestEntry(ice.EntryStatusEXISTING, &eid, &eseq, fseq, e.DataFile()))
		}
	}
	if len(removed) > 0 {
		// The lake log removed a file this table never had: the Iceberg history is not the log's.
		return fmt.Errorf("%d removed file(s) not in the current Iceberg snapshot (e.g. %s); run 'lakehunt catalog rebuild'", len(removed), sortedKeys(removed)[0])
	}
	var addedRows int64
	for _, f := range add {
		vals, err := partitionValues(st.spec, f)
		if err != nil {
			return err
		}
		b, err := ice.NewDataFileBuilder(st.spec, ice.EntryContentData, s.l.ObjectURL(f.Key), ice.ParquetFile, vals, nil, nil, f.Rows, f.Size)
		if err != nil {
			return err
		}
		timeBounds(b, st.schema, f)
		entries = append(entries, ice.NewManifestEntry(ice.EntryStatusADDED, &snapID, nil, nil, b.Build()))
		addedRows += f.Rows
	}
	manifests := keep
	if len(entries) > 0 {
		key := s.metaKey(st, fmt.Sprintf("m-%020d-%s.avro", version, token()))
		var buf bytes.Buffer
		mf, err := ice.WriteManifest(s.l.ObjectURL(key), &buf, 2, st.spec, st.schema, snapID, entries)
		if err != nil {
			return fmt.Errorf("write manifest: %w", err)
		}
		if err := lake.PutBytes(ctx, s.l.Store(), key, buf.Bytes()); err != nil {
			return err
		}
		manifests = append(manifests, mf)
	}
	listKey := s.metaKey(st, fmt.Sprintf("snap-%020d-%s.avro", version, token()))
	var parent *int64
	if cur != nil {
		parent = &cur.SnapshotID
	}
	var buf bytes.Buffer
	if err := ice.WriteManifestList(2, &buf, snapID, parent, &seq, 0, manifests); err != nil {
		return fmt.Errorf("write manifest list: %w", err)
	}
	if err := lake.PutBytes(ctx, s.l.Store(), listKey, buf.Bytes()); err != nil {
		return err
	}
	var totalFiles, totalRows int64
	for _, m := range manifests {
		totalFiles += int64(m.AddedDataFiles() + m.ExistingDataFiles())
		totalRows += m.AddedRows() + m.ExistingRows()
	}
	op := icetable.OpAppend
	switch {
	case len(remove) > 0 && lakeOp == "merge":
		op = icetable.OpReplace // the same rows in fewer files
	case len(remove) > 0 && len(add) > 0:
		op = icetable.OpOverwrite
	case len(remove) > 0:
		op = icetable.OpDelete
	}
	schemaID := st.schema.ID
	// Iceberg wants snapshot times not before the table's last update; a commit's time may be earlier
	// (ti import --now, clock skew between writers). The commit's own time is in the summary.
	tsMs := max(ts.UnixMilli(), st.meta.LastUpdatedMillis())
	snap := icetable.Snapshot{
		SnapshotID: snapID, ParentSnapshotID: parent, SequenceNumber: seq, TimestampMs: tsMs,
		ManifestList: s.l.ObjectURL(listKey), SchemaID: &schemaID,
		Summary: &icetable.Summary{Operation: op, Properties: ice.Properties{
			"lakehunt.commit":        strconv.FormatInt(version, 10),
			"lakehunt.operation":     lakeOp,
			"added-data-files":       strconv.Itoa(len(add)),
			"deleted-data-files":     strconv.Itoa(len(remove)),
			"added-records":          strconv.FormatInt(addedRows, 10),
			"deleted-records":        strconv.FormatInt(removedRows, 10),
			"total-data-files":       strconv.FormatInt(totalFiles, 10),
			"total-records":          strconv.FormatInt(totalRows, 10),
			"total-delete-files":     "0",
			"total-position-deletes": "0",
			"total-equality-deletes": "0",
		}},
	}
	b, err := icetable.MetadataBuilderFromBase(st.meta, "")
	if err != nil {
		return err
	}
	if err := b.AddSnapshot(&snap); err != nil {
		return err
	}
	if err := b.SetSnapshotRef(icetable.MainBranch, snapID, icetable.BranchRef); err != nil {
		return err
	}
	if old := st.meta.Snapshots(); len(old)+1 > maxSnapshots {
		// The oldest go: their files lose Vacuum's protection, their metadata files are Vacuum's to delete.
		ids := make([]int64, 0, len(old)+1-maxSnapshots)
		for _, sn := range old[:len(old)+1-maxSnapshots] {
			ids = append(ids, sn.SnapshotID)
		}
		if err := b.RemoveSnapshots(ids, false); err != nil {
			return err
		}
	}
	if st.meta, err = b.Build(); err != nil {
		return err
	}
	st.changed = true
	return nil
}

func (s *update) metaKey(st *tableState, name string) string {
	return st.table.Name + "/metadata/" + name
}

// publish writes the changed tables' metadata files, then the pointer naming them: replacing the one
// read with etag, or whatever is there if force (a rebuild, also of a damaged pointer).
func (s *update) publish(ctx context.Context, version int64, etag string, force bool) error {
	for _, name := range sortedKeys(s.tables) {
		st := s.tables[name]
		if !st.changed {
			continue
		}
		b, err := json.Marshal(st.meta)
		if err != nil {
			return err
		}
		key := s.metaKey(st, fmt.Sprintf("%020d-%s.metadata.json", version, token()))
		if err := lake.PutBytes(ctx, s.l.Store(), key, b); err != nil {
			return err
		}
		cached.putMetadata(s.l.ObjectURL(key), st.meta)
		s.ptr.Tables[name] = key
	}
	s.ptr.Version = version
	b, err := json.MarshalIndent(s.ptr, "", "  ")
	if err != nil {
		return err
	}
	if force {
		return lake.PutBytes(ctx, s.l.Store(), PointerKey, b)
	}
	// Conditional, so that a writer holding an older commit never moves the pointer back over a newer one.
	for range 5 {
		if etag == "" {
			err = s.l.Store().Create(ctx, PointerKey, b)
		} else {
			err = s.l.Store().ReplaceIf(ctx, PointerKey, b, etag)
		}
		if !errors.Is(err, lake.ErrExists) {
			return err
		}
		now, nowTag, err := ReadPointer(ctx, s.l)
		if err != nil {
			return err
		}
		if now != nil && now.Version >= version {
			return errSuperseded
		}
		etag = nowTag
	}
	return fmt.Errorf("%s kept changing under this writer", PointerKey)
}

func (s *update) manifestList(ctx context.Context, url string) ([]ice.ManifestFile, error) {
	b, err := s.read(ctx, url)
	if err != nil {
		return nil, err
	}
	return ice.ReadManifestList(bytes.NewReader(b))
}

func (s *update) manifestEntries(ctx context.Context, m ice.ManifestFile) ([]ice.ManifestEntry, error) {
	if es, ok := cached.manifest(m.FilePath()); ok {
		return es, nil
	}
	b, err := s.read(ctx, m.FilePath())
	if err != nil {
		return nil, err
	}
	es, err := ice.ReadManifest(m, bytes.NewReader(b), true)
	if err == nil {
		cached.putManifest(m.FilePath(), es)
	}
	return es, err
}

// cached holds what this process read or wrote of Iceberg files, by location: they are written once
// under new names, so a long compaction reads each metadata file and manifest at most once.
var cached = &cache{meta: map[string]icetable.Metadata{}, manifests: map[string][]ice.ManifestEntry{}}

// cacheEntries bounds the manifest entries held (about a kilobyte each).
const cacheEntries = 200_000

type cache struct {
	mu        sync.Mutex
	meta      map[string]icetable.Metadata
	manifests map[string][]ice.ManifestEntry
	entries   int
}

func (c *cache) metadata(loc string) icetable.Metadata {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.meta[loc]
}

func (c *cache) putMetadata(loc string, m icetable.Metadata) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.meta) >= 64 {
		clear(c.meta)
	}
	c.meta[loc] = m
}

func (c *cache) manifest(loc string) ([]ice.ManifestEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	es, ok := c.manifests[loc]
	return es, ok
}

func (c *cache) putManifest(loc string, es []ice.ManifestEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries+len(es) > cacheEntries {
		clear(c.manifests)
		c.entries = 0
	}
	c.manifests[loc] = es
	c.entries += len(es)
}

func (s *update) read(ctx context.Context, url string) ([]byte, error) {
	key, err := keyOf(s.l, url)
	if err != nil {
		return nil, err
	}
	b, err := lake.ReadAll(ctx, s.l.Store(), key)
	if err != nil {
		return nil, fmt.Errorf("read Iceberg file %s: %w (run 'lakehunt catalog rebuild')", key, err)
	}
	return b, nil
}

// keyOf is the lake key of an absolute location this lake wrote.
func keyOf(l *lake.Lake, url string) (string, error) {
	base := strings.TrimSuffix(l.ObjectURL("_"), "_")
	key, ok := strings.CutPrefix(url, base)
	if !ok {
		return "", fmt.Errorf("Iceberg file %s is outside the lake %s (was the lake moved? run 'lakehunt catalog rebuild')", url, l.URL())
	}
	return key, nil
}

func token() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
