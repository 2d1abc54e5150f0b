package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"
)

func consumedKeys(t *testing.T, l *Lake, s *Snapshot) []string {
	t.Helper()
	var keys []string
	if err := l.EachConsumed(context.Background(), s, func(o SourceObject) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	return keys
}

// Lakes written before consumed-object manifests hold every consumed object in the checkpoint (inline,
// or in one list beside it) and in each commit. Both snapshot kinds still read them; the first commit on
// such a lake moves them into manifests, and later checkpoints are of the new form.
func TestPreManifestLakesStillReadAndMigrate(t *testing.T) {
	for _, form := range []string{"inline", "sources_object"} {
		t.Run(form, func(t *testing.T) {
			ctx := context.Background()
			l, err := Open(ctx, t.TempDir(), Options{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			var files []FileEntry
			inline := map[string]SourceObject{}
			var list []SourceObject
			for i := 1; i <= 3; i++ {
				so := SourceObject{Key: fmt.Sprintf("raw/d%d/obj", i%2), Status: "ok"}
				so.Key += fmt.Sprint(i)
				inline[so.Key], list = so, append(list, so)
				files = append(files, FileEntry{Table: "cloudtrail", Key: fmt.Sprintf("cloudtrail/f%d.parquet", i), Day: "2026-01-02"})
			}
			cp := map[string]any{"version": 3, "files": files, "quarantine": nil}
			if form == "inline" {
				cp["sources"] = inline
			} else {
				if err := putGzipJSON(ctx, l.store, checkpointPrefix+"00000000000000000003.sources.json.gz", list); err != nil {
					t.Fatal(err)
				}
				cp["sources_object"] = checkpointPrefix + "00000000000000000003.sources.json.gz"
			}
			if err := putGzipJSON(ctx, l.store, checkpointKey(3), cp); err != nil {
				t.Fatal(err)
			}
			// A commit of the old form after the checkpoint: sources, no manifests.
			b, _ := json.Marshal(map[string]any{"version": 4, "time": time.Now(), "operation": "compact",
				"sources": []SourceObject{{Key: "raw/d0/obj4", Status: "ok"}}})
			if err := l.store.Create(ctx, logKey(4), b); err != nil {
				t.Fatal(err)
			}
			want := []string{"raw/d0/obj2", "raw/d0/obj4", "raw/d1/obj1", "raw/d1/obj3"}
			full, err := l.Snapshot(ctx)
			if err != nil || full.Version != 4 || len(full.Files) != 3 || fmt.Sprint(consumedKeys(t, l, full)) != fmt.Sprint(want) {
				t.Fatalf("full snapshot of an old lake: %+v %v; want %v consumed", full, err, want)
			}
			light, err := l.FileSnapshot(ctx)
			if err != nil || light.Version != 4 || light.Consumed != nil || len(light.Files) != 3 {
				t.Fatalf("file snapshot of an old lake: %+v %v", light, err)
			}
			s := full
			for v := 5; v <= checkpointEvery; v++ {
				if s, err = l.Commit(ctx, s, Commit{Operation: "test"}); err != nil {
					t.Fatal(err)
				}
				if v == 5 && (len(s.pending) != 0 || len(s.Consumed) != 2) {
					t.Fatalf("after the first commit: %d shards pending, %d in manifests; want 0 and 2", len(s.pending), len(s.Consumed))
				}
			}
			// A writer still on the old state, after another writer moved it into manifests and consumed obj5:
			// consuming obj5 conflicts; recording obj1 again, which nobody changed since, does not (a
			// quarantined object read again is recorded anew).
			if s, err = l.Commit(ctx, s, Commit{Operation: "test", Sources: []SourceObject{{Key: "raw/d1/obj5", Status: "ok"}}}); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Commit(ctx, full, Commit{Sources: []SourceObject{{Key: "raw/d1/obj5"}}}); !errors.Is(err, ErrConflict) {
				t.Fatalf("consuming an object another writer consumed since the snapshot: %v, want ErrConflict", err)
			}
			if s, err = l.Commit(ctx, full, Commit{Sources: []SourceObject{{Key: "raw/d1/obj1", Status: "ok"}}}); err != nil {
				t.Fatalf("recording again an object whose entry nobody changed since the snapshot: %v", err)
			}
			want = append(want, "raw/d1/obj5")
			sort.Strings(want)
			var cpNew checkpointAll
			if err := readGzipJSON(ctx, l.store, checkpointKey(checkpointEvery), &cpNew); err != nil || cpNew.ConsumedObject == "" || cpNew.Sources != nil {
				t.Fatalf("checkpoint after migration: %+v %v; want a consumed-object map and no inline sources", cpNew.checkpointFiles, err)
			}
			again, err := l.Snapshot(ctx)
			if err != nil || len(again.pending) != 0 || fmt.Sprint(consumedKeys(t, l, again)) != fmt.Sprint(want) {
				t.Fatalf("after migration: %v consumed, %d pending, %v", consumedKeys(t, l, again), len(again.pending), err)
			}
		})
	}
}

// A raw folder's objects are read back from its manifest plus the commits since, across consolidations;
// vacuum deletes replaced manifests and old checkpoints, and the lake reads the same state after it.
func TestVacuumKeepsTheState(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, t.TempDir(), Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := l.Snapshot(ctx)
	var want []string
	for i := 1; i <= 3*checkpointEvery+1; i++ {
		k := fmt.Sprintf("raw/day%d/obj%03d", i%2, i)
		want = append(want, k)
		if s, err = l.Commit(ctx, s, Commit{Operation: "test", Sources: []SourceObject{{Key: k, Status: "ok"}}}); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(want)
	count := func(prefix string) int {
		n := 0
		_ = l.store.List(ctx, prefix, func(ObjectInfo) error { n++; return nil })
		return n
	}
	if got := fmt.Sprint(consumedKeys(t, l, s)); got != fmt.Sprint(want) {
		t.Fatalf("consumed objects read back: %s, want %v", got, want)
	}
	// Each folder got 38 commits: a manifest is written on every (maxShardCommits+1)th.
	perShard := 38 / (maxShardCommits + 1)
	manifests, checkpoints := count(consumedPrefix), count(checkpointPrefix)
	if manifests != 2*perShard || checkpoints != 6 {
		t.Fatalf("before vacuum: %d manifests, %d checkpoint objects; want %d and 3 checkpoints of 2 objects", manifests, checkpoints, 2*perShard)
	}
	vs, err := l.Vacuum(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := vs.Objects
	if got := count(consumedPrefix); got != 2 || count(checkpointPrefix) != 4 || n != manifests-2+2 {
		t.Fatalf("after vacuum: %d manifests, %d checkpoint objects, %d deleted; want 2 (one per raw folder), 4 (the newest two checkpoints)", got, count(checkpointPrefix), n)
	}
	again, err := l.Snapshot(ctx)
	if err != nil || again.Version != s.Version || fmt.Sprint(consumedKeys(t, l, again)) != fmt.Sprint(want) {
		t.Fatalf("after vacuum the lake reads %v (version %d, %v); want %d objects at version %d", consumedKeys(t, l, again), again.Version, err, len(want), s.Version)
	}
}
