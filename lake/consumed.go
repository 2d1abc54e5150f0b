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

// checkUnconsumed fails with ErrConflict if any of sources is consumed in now, looking only at the
// shards another writer changed since then (the caller's snapshot, against which sources were chosen).
func (l *Lake) checkUnconsumed(ctx context.Context, then, now *Snapshot, sources []SourceObject) error {
	loaded := map[string]map[string]SourceObject{}
	for _, s := range sources {
		sh := SourceShard(s.Key)
		if now.Consumed[sh].equal(then.Consumed[sh]) && len(now.pending[sh]) == len(then.pending[sh]) {
			continue
		}
		objs, ok := loaded[sh]
		if !ok {
			var err error
			if objs, err = l.ConsumedIn(ctx, now, sh); err != nil {
				return err
			}
			loaded[sh] = objs
		}
		if _, done := objs[s.Key]; done {
			return fmt.Errorf("%w: raw object %s was consumed by another writer", ErrConflict, s.Key)
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
