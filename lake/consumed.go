package lake

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"sort"
)

// The raw objects compactors consumed are recorded per raw folder, a "shard": the object key's
// directory, which in the AWS delivery layout is one source, account, region and day
// (AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02). Each shard's objects are one immutable,
// uniquely named manifest under consumedPrefix; the lake state maps each shard to its current manifest.
// A commit that consumes objects writes new manifests for the shards it touches before its log entry, so
// a crash leaves at most an unreferenced manifest (vacuum deletes it). A compactor loads the manifests
// of the folders it lists, one at a time: its memory does not grow with the raw objects ever consumed,
// only the shard map does, by one entry per raw folder.
const consumedPrefix = MetaPrefix + "consumed/"

// SourceShard is the shard a raw object key is recorded under.
func SourceShard(key string) string { return path.Dir(key) }

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
	if key, ok := snap.Consumed[shard]; ok {
		var m manifest
		if err := readGzipJSON(ctx, l.store, key, &m); err != nil {
			return nil, fmt.Errorf("read consumed-object manifest %s of raw folder %s: %w (if vacuum ran with a short --min-age meanwhile, run again)", key, shard, err)
		}
		for _, o := range m.Objects {
			out[o.Key] = o
		}
	}
	for k, o := range snap.pending[shard] {
		out[k] = o
	}
	return out, nil
}

// EachConsumed calls fn for every consumed raw object, shard by shard in key order, loading one
// manifest at a time.
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
	for _, s := range sortedKeys(shards) {
		objs, err := l.ConsumedIn(ctx, snap, s)
		if err != nil {
			return err
		}
		keys := make([]string, 0, len(objs))
		for k := range objs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if err := fn(objs[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeManifests writes, for every shard that c consumes objects in and every shard base still holds
// only in memory (from a lake written before manifests), a new manifest with base's objects plus c's.
// It returns the shard → manifest map c records. An object base already consumed is ErrConflict.
func (l *Lake) writeManifests(ctx context.Context, base *Snapshot, sources []SourceObject) (map[string]string, error) {
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
	out := make(map[string]string, len(byShard))
	for _, sh := range sortedKeys(byShard) {
		objs, err := l.ConsumedIn(ctx, base, sh)
		if err != nil {
			return nil, err
		}
		for _, s := range byShard[sh] {
			if _, done := objs[s.Key]; done {
				return nil, fmt.Errorf("%w: raw object %s was consumed by another writer", ErrConflict, s.Key)
			}
			objs[s.Key] = s
		}
		m := manifest{Shard: sh, Objects: make([]SourceObject, 0, len(objs))}
		for _, o := range objs {
			m.Objects = append(m.Objects, o)
		}
		sort.Slice(m.Objects, func(i, j int) bool { return m.Objects[i].Key < m.Objects[j].Key })
		key := newManifestKey(sh)
		if err := putGzipJSON(ctx, l.store, key, m); err != nil {
			return nil, fmt.Errorf("write consumed-object manifest for %s: %w", sh, err)
		}
		out[sh] = key
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
