package compact

import (
	"context"
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/lake"
)

// Statuses of a consumed raw object (lake.SourceObject.Status).
const (
	statusOK          = "ok"
	statusQuarantined = "quarantined"
	statusSkipped     = "skipped"
	statusDuplicate   = "duplicate"
	statusChanged     = "changed"
	statusRetry       = "retry"
	statusReading     = "reading" // handed on in this run, not recorded yet (never committed)
)

// NotFile is an entry under --from that is not an object (a local symbolic link, FIFO, device, socket or
// unreadable folder): not read, not recorded, reported at every run until it is gone.
type NotFile struct {
	Key    string `json:"key"`
	Reason string `json:"reason"`
}

// lister lists the raw objects and hands on those to read: new ones, quarantined ones whose version
// changed since (or released with 'lakehunt quarantine --retry'), and consumed ones whose version changed,
// to compare their content with what was consumed. Local files still being written are left for the next run.
type lister struct {
	opts                       *Options
	view                       *consumedView
	want, accounts             map[string]bool
	root                       string
	legacy                     []string
	local                      bool
	listed                     atomic.Int64
	done, ignored, notSelected int
	tooRecent                  int
	ignoredExample             string
	notFiles                   []NotFile
	notFilesN                  int
}

// legacyPrefixes are the folders in front of AWSLogs/ in the keys of objects consumed before keys were
// recorded from AWSLogs/ on (they were relative to --from then, e.g. trail/AWSLogs/...): such objects are
// looked up under their old key too, so that an upgrade does not read them again.
func legacyPrefixes(snap *lake.Snapshot) []string {
	seen := map[string]bool{}
	for shard := range snap.Consumed {
		if i := strings.Index(shard, "/AWSLogs/"); i >= 0 {
			seen[shard[:i+1]] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// locationPath is the path part of a store's location ("bucket/prefix/" or a local directory, with a
// trailing slash). Keys are classified with it in front, so the AWSLogs/ folder may be above the location
// (--from s3://bucket/AWSLogs/111122223333/) as well as below it (--from s3://bucket/).
func locationPath(s lake.Store) string {
	p := filepath.ToSlash(strings.TrimPrefix(s.URL(), "s3://"))
	return strings.TrimSuffix(p, "/") + "/"
}

// prefixed classifies an object outside the AWSLogs/ layouts by the prefixes configured for sources.
// Its key is recorded as listed under From, prefix included.
func (l *lister) prefixed(key string) rawkey.Info {
	for _, s := range slices.Sorted(maps.Keys(l.opts.Prefixes)) {
		for _, p := range l.opts.Prefixes[s] {
			if p = strings.TrimPrefix(p, "/"); strings.HasPrefix(key, strings.TrimSuffix(p, "/")+"/") {
				return rawkey.Info{Source: s, Key: key, Kind: rawkey.Events, FileTime: rawkey.FileTime(path.Base(key))}
			}
		}
	}
	return rawkey.Info{}
}

// classify says which source and account an object's key is of (Source "" for neither).
func (l *lister) classify(key string) rawkey.Info {
	k := rawkey.Classify(l.root + key)
	if k.Source == "" {
		k = l.prefixed(key)
	}
	return k
}

func (l *lister) selected(k rawkey.Info) bool {
	return l.want[k.Source] && (len(l.accounts) == 0 || l.accounts[k.AccountID])
}

func (l *lister) run(ctx context.Context, emit func(work) error) error {
	// The listing asks whether an object is wanted before it hands it on: the answer is kept for it.
	var askedKey string
	var asked rawkey.Info
	wanted := func(key string) bool {
		askedKey, asked = key, l.classify(key)
		return l.selected(asked)
	}
	err := lake.ListRaw(ctx, l.opts.From, "", wanted, func(o lake.ObjectInfo) error {
		l.listed.Add(1)
		k := asked
		if o.Key != askedKey {
			k = l.classify(o.Key)
		}
		if k.Source == "" {
			l.ignored++
			if l.ignoredExample == "" {
				l.ignoredExample = o.Key
			}
			return nil
		}
		if !l.selected(k) {
			l.notSelected++
			return nil
		}
		t := work{info: o, path: o.Key, kind: k}
		t.info.Key = k.Key
		if k.Kind != rawkey.Events {
			t.skip = skipReason(k)
		}
		prev, found, err := l.view.lookup(ctx, k.Key)
		for _, p := range l.legacy {
			if found || err != nil {
				break
			}
			prev, found, err = l.view.lookup(ctx, p+k.Key)
		}
		if err != nil {
			return err
		}
		if found {
			switch {
			case prev.Status == statusSkipped || (prev.Status != statusRetry && sameVersion(prev, o)):
				l.done++
				return nil
			case prev.Status == statusQuarantined || prev.Status == statusRetry:
				t.reread = prev.Key
			default:
				t.verify = true
			}
		}
		if t.skip == "" && l.local && l.opts.Settle > 0 {
			if d := time.Since(o.Modified); d < l.opts.Settle && d > -l.opts.Settle {
				l.tooRecent++
				return nil
			}
		}
		if !t.verify {
			so := sourceObject(t)
			so.Status = statusReading
			l.view.record(so)
		}
		return emit(t)
	}, func(key, why string) error {
		l.notFilesN++
		if len(l.notFiles) < maxListed {
			l.notFiles = append(l.notFiles, NotFile{Key: key, Reason: why})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list raw objects under %s: %w", l.opts.From.URL(), err)
	}
	return nil
}

// sourceObject is how the lake records t's object, by its version as listed.
func sourceObject(t work) lake.SourceObject {
	return lake.SourceObject{Key: t.info.Key, Size: t.info.Size, ETag: t.info.ETag, Modified: t.info.Modified, Source: t.kind.Source}
}

// sameVersion reports whether a listed object is the version that was recorded: the same size and ETag
// (S3), or size and modification time (local files, which have no ETag).
func sameVersion(so lake.SourceObject, o lake.ObjectInfo) bool {
	switch {
	case so.ETag == "" && so.Modified.IsZero():
		return true // recorded before versions were: by key alone, as then
	case so.Size != o.Size:
		return false
	case so.ETag != "":
		return so.ETag == o.ETag
	}
	return so.Modified.Equal(o.Modified)
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

// consumedView is the run's picture of the consumed raw objects, a few raw folders at a time: the lake state
// as of the run's latest commit, plus what the run recorded since (objects handed on to be read, then their
// outcome) and has not committed yet. The lister asks it by key, the writer by content. A copy of an object
// usually lands in the same folder under another name, or under another prefix with the same key from
// AWSLogs/ on (the key the lake records): both are found in the object's own folder.
type consumedView struct {
	lake     *lake.Lake
	mu       sync.Mutex
	snap     *lake.Snapshot
	inflight map[string]map[string]lake.SourceObject // shard -> key -> recorded in this run, not committed
	folders  map[string]*folder                      // a few shards, loaded
}

type folder struct {
	byKey  map[string]lake.SourceObject
	byHash map[string]string // SHA256 -> key of the objects whose rows are in the lake
}

const viewFolders = 8

func newConsumedView(l *lake.Lake, snap *lake.Snapshot) *consumedView {
	return &consumedView{lake: l, snap: snap, inflight: map[string]map[string]lake.SourceObject{}, folders: map[string]*folder{}}
}

// folder returns the loaded state of a shard, with v.mu held.
func (v *consumedView) folder(ctx context.Context, shard string) (*folder, error) {
	for {
		if f, ok := v.folders[shard]; ok {
			return f, nil
		}
		snap := v.snap
		v.mu.Unlock()
		objs, err := v.lake.ConsumedIn(ctx, snap, shard)
		v.mu.Lock()
		if err != nil {
			return nil, err
		}
		if v.snap != snap {
			continue // a commit moved objects from inflight into a newer state meanwhile
		}
		if len(v.folders) >= viewFolders {
			clear(v.folders)
		}
		f := &folder{byKey: objs, byHash: map[string]string{}}
		for k, so := range v.inflight[shard] {
			f.byKey[k] = so
		}
		for k, so := range f.byKey {
			f.index(k, so)
		}
		v.folders[shard] = f
		return f, nil
	}
}

func (f *folder) index(key string, so lake.SourceObject) {
	if so.Status == statusOK && so.SHA256 != "" {
		f.byHash[so.SHA256] = key
	}
}

// lookup returns the recorded state of key.
func (v *consumedView) lookup(ctx context.Context, key string) (lake.SourceObject, bool, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f, err := v.folder(ctx, lake.SourceShard(key))
	if err != nil {
		return lake.SourceObject{}, false, err
	}
	so, ok := f.byKey[key]
	return so, ok, nil
}

// record notes what the run will commit about an object (or, with statusReading, that it is being read).
func (v *consumedView) record(so lake.SourceObject) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sh := lake.SourceShard(so.Key)
	if v.inflight[sh] == nil {
		v.inflight[sh] = map[string]lake.SourceObject{}
	}
	v.inflight[sh][so.Key] = so
	if f, ok := v.folders[sh]; ok {
		f.byKey[so.Key] = so
		f.index(so.Key, so)
	}
}

// sameContent returns another object of key's folder with the given content whose rows are in the lake
// (or will be, with this run's commits), or "".
func (v *consumedView) sameContent(ctx context.Context, key, sha string) (string, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	f, err := v.folder(ctx, lake.SourceShard(key))
	if err != nil {
		return "", err
	}
	if k, ok := f.byHash[sha]; ok && k != key {
		return k, nil
	}
	return "", nil
}

// committed moves the view to the run's new lake state, which holds sources.
func (v *consumedView) committed(snap *lake.Snapshot, sources []lake.SourceObject) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.snap = snap
	for _, so := range sources {
		sh := lake.SourceShard(so.Key)
		if cur, ok := v.inflight[sh][so.Key]; ok && sameRecord(cur, so) { // else recorded again since, for a later commit
			delete(v.inflight[sh], so.Key)
		}
		if len(v.inflight[sh]) == 0 {
			delete(v.inflight, sh)
		}
	}
}

// forget drops what the run recorded about key: it was handed on but is left for the next run.
func (v *consumedView) forget(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	sh := lake.SourceShard(key)
	delete(v.inflight[sh], key)
	delete(v.folders, sh) // reloaded from the lake state when next needed
}

func sameRecord(a, b lake.SourceObject) bool {
	m := a.Modified.Equal(b.Modified)
	a.Modified, b.Modified = time.Time{}, time.Time{}
	return m && a == b
}
