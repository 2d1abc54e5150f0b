package lake_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// backends opens an empty store of each kind: a local directory and a bucket on a real S3 server.
func backends(t *testing.T) map[string]string {
	srv := s3test.Start(t)
	return map[string]string{
		"local": t.TempDir(),
		"s3":    srv.Bucket(t, "lake-test") + "some/prefix/",
	}
}

func TestStoreContract(t *testing.T) {
	ctx := context.Background()
	for name, url := range backends(t) {
		t.Run(name, func(t *testing.T) {
			st, err := lake.OpenStore(ctx, url, lake.StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := st.Open(ctx, "missing"); !errors.Is(err, lake.ErrNotFound) {
				t.Fatalf("Open(missing) = %v, want ErrNotFound", err)
			}
			// "b-x" sorts before "b/..." as keys ('-' < '/'), after the folder "b" in a directory walk.
			for _, k := range []string{"b/2.txt", "a/1.txt", "b/1.txt", "c.txt", "b-x.txt", "b/d/3.txt", "b/d-e.txt", "bb/4.txt"} {
				if err := lake.PutBytes(ctx, st, k, []byte("data "+k)); err != nil {
					t.Fatal(err)
				}
			}
			for _, tc := range []struct{ prefix, want string }{
				{"b/", "b/1.txt,b/2.txt,b/d-e.txt,b/d/3.txt"},
				{"b", "b-x.txt,b/1.txt,b/2.txt,b/d-e.txt,b/d/3.txt,bb/4.txt"},
				{"b/d", "b/d-e.txt,b/d/3.txt"},
				{"", "a/1.txt,b-x.txt,b/1.txt,b/2.txt,b/d-e.txt,b/d/3.txt,bb/4.txt,c.txt"},
				{"z/", ""},
			} {
				var keys []string
				if err := st.List(ctx, tc.prefix, func(o lake.ObjectInfo) error { keys = append(keys, o.Key); return nil }); err != nil {
					t.Fatal(err)
				}
				if got := strings.Join(keys, ","); got != tc.want {
					t.Errorf("List(%q) = %s, want %s (lexical key order)", tc.prefix, got, tc.want)
				}
			}
			b, err := lake.ReadAll(ctx, st, "a/1.txt")
			if err != nil || string(b) != "data a/1.txt" {
				t.Fatalf("ReadAll = %q, %v", b, err)
			}
			if err := st.Create(ctx, "lease", []byte("one")); err != nil {
				t.Fatal(err)
			}
			if err := st.Create(ctx, "lease", []byte("two")); !errors.Is(err, lake.ErrExists) {
				t.Fatalf("second Create = %v, want ErrExists", err)
			}
			info, err := st.Stat(ctx, "lease")
			if err != nil {
				t.Fatal(err)
			}
			if err := st.ReplaceIf(ctx, "lease", []byte("three"), "wrong-etag"); !errors.Is(err, lake.ErrExists) {
				t.Fatalf("ReplaceIf(stale) = %v, want ErrExists", err)
			}
			if err := st.ReplaceIf(ctx, "lease", []byte("three"), info.ETag); err != nil {
				t.Fatalf("ReplaceIf(current) = %v", err)
			}
			if b, _ := lake.ReadAll(ctx, st, "lease"); string(b) != "three" {
				t.Fatalf("after ReplaceIf: %q", b)
			}
			if err := st.Delete(ctx, "lease"); err != nil {
				t.Fatal(err)
			}
			if err := st.Delete(ctx, "lease"); err != nil {
				t.Fatalf("deleting a missing object: %v", err)
			}
		})
	}
}

// Reading a location that holds no lake is ErrNoLake, and leaves nothing behind; only a writer (Create)
// starts one, and an empty lake stays a lake. A lake written before the marker is one by its commit log.
func TestOpenNeedsALake(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	dir := t.TempDir()
	for name, url := range map[string]string{
		"local": dir + "/typo-lake",
		"s3":    srv.Bucket(t, "open-test") + "typo-lake/",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := lake.Open(ctx, url, lake.Options{})
			if !errors.Is(err, lake.ErrNoLake) || !strings.Contains(err.Error(), "typo-lake") {
				t.Fatalf("Open of a missing lake = %v, want ErrNoLake naming the location", err)
			}
			if name == "local" {
				if _, err := os.Stat(url); !os.IsNotExist(err) {
					t.Fatalf("reading a missing lake created %s (%v)", url, err)
				}
			}
			if _, err := lake.Open(ctx, url, lake.Options{Create: true}); err != nil {
				t.Fatal(err)
			}
			l, err := lake.Open(ctx, url, lake.Options{})
			if err != nil {
				t.Fatalf("Open of an empty lake a writer started: %v", err)
			}
			if snap, err := l.FileSnapshot(ctx); err != nil || snap.Version != 0 {
				t.Fatalf("snapshot of an empty lake: %v %v", snap, err)
			}
		})
	}
	// A folder with a commit log but no marker (written by an older lakehunt) is a lake.
	old := t.TempDir()
	st, err := lake.OpenStore(ctx, old, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := lake.PutBytes(ctx, st, lake.MetaPrefix+"log/00000000000000000001.json", []byte(`{"version":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := lake.Open(ctx, old, lake.Options{}); err != nil {
		t.Fatalf("lake with a log and no marker: %v", err)
	}
	if err := os.WriteFile(dir+"/file", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := lake.Open(ctx, dir+"/file", lake.Options{Create: true}); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Fatalf("Open of a file: %v, want an error", err)
	}
}

func fileEntry(key string, day string) lake.FileEntry {
	t0, _ := time.Parse("2006-01-02", day)
	return lake.FileEntry{Table: "cloudtrail", Key: key, Day: day, Rows: 1, Size: 4, MinTime: t0, MaxTime: t0.Add(time.Hour)}
}

func TestCommitLog(t *testing.T) {
	ctx := context.Background()
	for name, url := range backends(t) {
		t.Run(name, func(t *testing.T) {
			l, err := lake.Open(ctx, url, lake.Options{CacheDir: t.TempDir(), Create: true})
			if err != nil {
				t.Fatal(err)
			}
			s0, err := l.Snapshot(ctx)
			if err != nil || s0.Version != 0 || len(s0.Files) != 0 {
				t.Fatalf("empty lake: %+v %v", s0, err)
			}
			// 30 commits crosses a checkpoint; the snapshot read back must equal the one built in memory.
			s := s0
			for i := 1; i <= 30; i++ {
				c := lake.Commit{Operation: "test",
					Add:     []lake.FileEntry{fileEntry(fmt.Sprintf("cloudtrail/f%02d.parquet", i), "2026-01-02")},
					Sources: []lake.SourceObject{{Key: fmt.Sprintf("raw/%d", i), Status: "ok"}}}
				if i%3 == 0 {
					c.Remove = []string{fmt.Sprintf("cloudtrail/f%02d.parquet", i-1)}
				}
				if s, err = l.Commit(ctx, s, c); err != nil {
					t.Fatal(err)
				}
			}
			read, err := l.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if read.Version != 30 || len(read.Files) != 20 || consumed(t, l, read) != 30 || len(s.Files) != 20 {
				t.Fatalf("after 30 commits: version %d, %d files (in memory %d), %d sources", read.Version, len(read.Files), len(s.Files), consumed(t, l, read))
			}
			if read.Live("cloudtrail/f29.parquet") || !read.Live("cloudtrail/f30.parquet") {
				t.Fatal("removed file still live or added file missing")
			}
			// Readers get the same files without the consumed-object state.
			light, err := l.FileSnapshot(ctx)
			if err != nil || light.Version != 30 || len(light.Files) != 20 || light.Consumed != nil {
				t.Fatalf("FileSnapshot: version %d, %d files, consumed %v, %v", light.Version, len(light.Files), light.Consumed, err)
			}
			// Commits on a reader's snapshot (up to and past the next checkpoint) must not checkpoint a state
			// without the consumed objects: a compactor would then read every raw object again.
			for i := 31; i <= 50; i++ {
				if light, err = l.Commit(ctx, light, lake.Commit{Operation: "test", Add: []lake.FileEntry{fileEntry(fmt.Sprintf("cloudtrail/g%02d.parquet", i), "2026-01-03")}}); err != nil {
					t.Fatal(err)
				}
			}
			if full, err := l.Snapshot(ctx); err != nil || full.Version != 50 || consumed(t, l, full) != 30 || len(full.Files) != 40 {
				t.Fatalf("after commits on a FileSnapshot: version %d, %d sources, %d files, %v; want 50, 30, 40", full.Version, consumed(t, l, full), len(full.Files), err)
			}
			// A writer on a stale base that consumes an object another writer consumed gets ErrConflict.
			_, err = l.Commit(ctx, s0, lake.Commit{Sources: []lake.SourceObject{{Key: "raw/5"}}})
			if !errors.Is(err, lake.ErrConflict) {
				t.Fatalf("stale commit consuming a consumed object: %v, want ErrConflict", err)
			}
			// A stale writer with an independent change is rebased.
			s2, err := l.Commit(ctx, s0, lake.Commit{Sources: []lake.SourceObject{{Key: "raw/new"}}})
			if err != nil || s2.Version != 51 {
				t.Fatalf("rebased commit: %v version %v", err, s2.Version)
			}
		})
	}
}

func TestConcurrentCommitsAllLand(t *testing.T) {
	ctx := context.Background()
	for name, url := range backends(t) {
		t.Run(name, func(t *testing.T) {
			l, err := lake.Open(ctx, url, lake.Options{Create: true})
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for w := 0; w < 8; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					base, err := l.Snapshot(ctx)
					if err != nil {
						errs <- err
						return
					}
					_, err = l.Commit(ctx, base, lake.Commit{Sources: []lake.SourceObject{{Key: fmt.Sprintf("raw/w%d", w)}}})
					errs <- err
				}(w)
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			s, err := l.Snapshot(ctx)
			if err != nil || s.Version != 8 || consumed(t, l, s) != 8 {
				t.Fatalf("8 concurrent commits: version %d sources %d err %v", s.Version, consumed(t, l, s), err)
			}
		})
	}
}

func TestLocalPathsCachesAndVerifies(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t)
	url := srv.Bucket(t, "cache-test")
	cache := t.TempDir()
	l, err := lake.Open(ctx, url, lake.Options{CacheDir: cache, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	body := "parquet bytes"
	if err := lake.PutBytes(ctx, l.Store(), "cloudtrail/x.parquet", []byte(body)); err != nil {
		t.Fatal(err)
	}
	good := lake.FileEntry{Key: "cloudtrail/x.parquet", Size: int64(len(body)),
		SHA256: "1f1a0f4f3c3e6ad0c3d1b1f5e6c1d0e5a0b0c0d0e0f000000000000000000000"}
	if _, err := l.LocalPaths(ctx, []lake.FileEntry{good}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("wrong checksum accepted: %v", err)
	}
	good.SHA256 = lake.SHA256Hex([]byte(body))
	paths, err := l.LocalPaths(ctx, []lake.FileEntry{good})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(paths[0])
	if string(b) != body {
		t.Fatalf("cached copy = %q", b)
	}
	if l.CacheHits([]lake.FileEntry{good}) != 1 {
		t.Fatal("cached file not counted as a hit")
	}
	// The cached copy is reused: deleting the object from S3 does not break the next read.
	if err := l.Store().Delete(ctx, good.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := l.LocalPaths(ctx, []lake.FileEntry{good}); err != nil {
		t.Fatalf("cache not reused: %v", err)
	}
}

func consumed(t *testing.T, l *lake.Lake, s *lake.Snapshot) int {
	t.Helper()
	n := 0
	if err := l.EachConsumed(context.Background(), s, func(lake.SourceObject) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}
