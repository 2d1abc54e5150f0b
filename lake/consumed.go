package lake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
)

// The raw objects compactors consumed are recorded per raw folder, a "shard": the object key's
// directory, which in the AWS delivery layout is one source, account, region and day
// (AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02). Every commit lists the objects it consumed
// (Commit.Sources). The lake state keeps, per shard, where to find them: an immutable manifest holding
// the shard's objects as of some commit, plus the versions of the commits since then that consumed more
// objects in the shard. A commit appends its version to the shards it touches; once a shard has
// maxShardCommits of them, the commit writes a new manifest instead (before its log entry, so a crash
// leaves at most an unreferenced manifest, which vacuum deletes). A compactor loads the shards it lists,
// one at a time: its memory does not grow with the raw objects ever consumed, only the shard map does,
// by one small entry per raw folder, and a commit writes O(its own objects), not O(the shard).
const (
	consumedPrefix  = MetaPrefix + "consumed/"
	maxShardCommits = 16
)

// SourceShard is the shard a raw object key is recorded under.
func SourceShard(key string) string { return path.Dir(key) }

// ShardState is where one shard's consumed objects are recorded.
type ShardState struct {
	Manifest string  `json:"m,omitempty"` // the objects as of some commit
	Commits  []int64 `json:"c,omitempty"` // later commits that consumed objects in the shard
}

func (s ShardState) equal(o ShardState) bool {
	return s.Manifest == o.Manifest && slices.Equal(s.Commits, o.Commits)
}

type manifest struct {
	Shard   string         `json:"shard"`
	Objects []SourceObject `json:"objects"`
}

func newManifestKey(shard string) string {
	h := sha256.Sum256([]byte(shard))
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return consumedPrefix + hex.EncodeToString(h[:8]) + "/" + hex.EncodeToString(rnd[:]) + ".json.gz"
}

var errFileSnapshot = errors.New("a FileSnapshot holds no consumed-object state; writers that consume raw objects start from Lake.Snapshot")

// ConsumedIn returns, by key, the raw objects under one shard that snap records as consumed.
func (l *Lake) ConsumedIn(ctx context.Context, snap *Snapshot, shard string) (map[string]SourceObject, error) {
	if snap.noSources {
		return nil, errFileSnapshot
	}
	out := map[string]SourceObject{}
	st := snap.Consumed[shard]
	if st.Manifest != "" {
		var m manifest
		if err := readGzipJSON(ctx, l.store, st.Manifest, &m); err != nil {
			return nil, fmt.Errorf("read consumed-object manifest %s of raw folder %s: %w (if vacuum ran with a short --min-age meanwhile, run again)", st.Manifest, shard, err)
		}
		for _, o := range m.Objects {
			out[o.Key] = o
		}
	}
	for _, v := range st.Commits {
		b, err := ReadAll(ctx, l.store, logKey(v))
		if err != nil {
			return nil, fmt.Errorf("read commit %d for the consumed objects of %s: %w", v, shard, err)
		}
		var c struct {
			Sources []SourceObject `json:"sources"`
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, fmt.Errorf("commit %s is not valid JSON (%v); the lake is damaged", logKey(v), err)
		}
		for _, o := range c.Sources {
			if SourceShard(o.Key) == shard {
				out[o.Key] = o
			}
		}
	}
	for k, o := range snap.pending[shard] {
		out[k] = o
	}
	return out, nil
}

// EachConsumed calls fn for every consumed raw object, shard by shard in key order, loading one
// shard at a time.
func (l *Lake) EachConsumed(ctx context.Context, snap *Snapshot, fn func(SourceObject) error) error {
	if snap.noSources {
		return errFileSnapshot
	}
	shards := map[string]bool{}
	for s := range snap.Consumed {
		shards[s] = true
	}
	for s := range snap.pending {
		shards[s] = true
	}
	for _, s := range slices.Sorted(maps.Keys(shards)) {
		objs, err := l.ConsumedIn(ctx, snap, s)
		if err != nil {
			return err
		}
		for _, k := range slices.Sorted(maps.Keys(objs)) {
			if err := fn(objs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkUnconsumed fails with ErrConflict if another writer recorded any of sources since then (the
// caller's snapshot, against which sources were chosen), looking only at the shards it changed since: under
// the same key (an object recorded again, e.g. a quarantined one read again, conflicts only if its entry
// changed meanwhile), or, for an object read whole, with the same content under another key.
func (l *Lake) checkUnconsumed(ctx context.Context, then, now *Snapshot, sources []SourceObject) error {
	type shard struct {
		then, now map[string]SourceObject
		fresh     map[string]string // SHA256 -> key of the objects read whole that another writer recorded since then
	}
	loaded := map[string]*shard{}
	for _, s := range sources {
		sh := SourceShard(s.Key)
		if now.Consumed[sh].equal(then.Consumed[sh]) && len(now.pending[sh]) == len(then.pending[sh]) {
			continue
		}
		st, ok := loaded[sh]
		if !ok {
			st = &shard{}
			var err error
			if st.now, err = l.ConsumedIn(ctx, now, sh); err != nil {
				return err
			}
			if st.then, err = l.ConsumedIn(ctx, then, sh); err != nil {
				return err
			}
			st.fresh = map[string]string{}
			for k, o := range st.now {
				if p, was := st.then[k]; o.SHA256 != "" && o.Status == "ok" && (!was || !p.equal(o)) {
					st.fresh[o.SHA256] = k
				}
			}
			loaded[sh] = st
		}
		if o, done := st.now[s.Key]; done {
			if p, was := st.then[s.Key]; !was || !p.equal(o) {
				return fmt.Errorf("%w: raw object %s was consumed by another writer", ErrConflict, s.Key)
			}
		}
		if k, ok := st.fresh[s.SHA256]; ok && s.SHA256 != "" && s.Status == "ok" && k != s.Key {
			return fmt.Errorf("%w: raw object %s has the content of %s, which another writer consumed", ErrConflict, s.Key, k)
		}
	}
	return nil
}

// shardStates returns the new state of every shard that c (about to be committed on base as version v)
// consumes objects in, and of every shard base still holds only in memory (from a lake written before
// this layout), writing manifests where a shard's commit list is full or the objects were in memory.
func (l *Lake) shardStates(ctx context.Context, base *Snapshot, sources []SourceObject, v int64) (map[string]ShardState, error) {
	byShard := map[string][]SourceObject{}
	for _, s := range sources {
		sh := SourceShard(s.Key)
		byShard[sh] = append(byShard[sh], s)
	}
	for sh := range base.pending {
		if _, ok := byShard[sh]; !ok {
			byShard[sh] = nil
		}
	}
	out := make(map[string]ShardState, len(byShard))
	for _, sh := range slices.Sorted(maps.Keys(byShard)) {
		old := base.Consumed[sh]
		if len(old.Commits) < maxShardCommits && len(base.pending[sh]) == 0 {
			out[sh] = ShardState{Manifest: old.Manifest, Commits: append(slices.Clip(old.Commits), v)}
			continue
		}
		objs, err := l.ConsumedIn(ctx, base, sh)
		if err != nil {
			return nil, err
		}
		for _, s := range byShard[sh] {
			objs[s.Key] = s
		}
		m := manifest{Shard: sh, Objects: make([]SourceObject, 0, len(objs))}
		for _, k := range slices.Sorted(maps.Keys(objs)) {
			m.Objects = append(m.Objects, objs[k])
		}
		key := newManifestKey(sh)
		if err := putGzipJSON(ctx, l.store, key, m); err != nil {
			return nil, fmt.Errorf("write consumed-object manifest for %s: %w", sh, err)
		}
		out[sh] = ShardState{Manifest: key}
	}
	return out, nil
}

// RetryQuarantined releases the raw objects quarantined whole, so that the next compact reads them again
// (after the cause was fixed, or with a lakehunt that reads them now): one commit records each with status
// "retry" and drops their quarantine entries. It returns their keys, sorted.
func (l *Lake) RetryQuarantined(ctx context.Context) ([]string, error) {
	snap, err := l.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	whole := map[string]bool{}
	for _, q := range snap.Quarantine {
		if q.Record == 0 {
			whole[q.SourceKey] = true
		}
	}
	var keys []string
	var sources []SourceObject
	shards := map[string]map[string]SourceObject{}
	for _, k := range slices.Sorted(maps.Keys(whole)) {
		sh := SourceShard(k)
		objs, ok := shards[sh]
		if !ok {
			if objs, err = l.ConsumedIn(ctx, snap, sh); err != nil {
				return nil, err
			}
			shards[sh] = objs
		}
		so, ok := objs[k]
		if !ok || so.Status != "quarantined" {
			continue // changed after it was consumed: its rows are in the lake, reading it again would add them twice
		}
		so.Status, so.Reason = "retry", "released by 'lakehunt quarantine --retry'; was quarantined: "+so.Reason
		keys, sources = append(keys, k), append(sources, so)
	}
	if len(sources) == 0 {
		return nil, nil
	}
	if _, err := l.Commit(ctx, snap, Commit{Operation: "retry", Sources: sources, Resolved: keys}); err != nil {
		return nil, err
	}
	return keys, nil
}
