package compact

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// fileRows is every row of a lake file as text, in the file's order.
func fileRows(t testing.TB, lk *lake.Lake, fe lake.FileEntry) []string {
	t.Helper()
	paths, err := lk.LocalPaths(context.Background(), []lake.FileEntry{fe})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(r any) { out = append(out, rowJSON(t, r)) }
	switch fe.Table {
	case lake.TableCloudTrail:
		for _, r := range readFile[lake.CloudTrailEvent](t, fe, paths[0], func(r *lake.CloudTrailEvent) time.Time { return r.EventTime }) {
			add(r)
		}
	case lake.TableVPCFlow:
		for _, r := range readFile[lake.VPCFlowRecord](t, fe, paths[0], func(r *lake.VPCFlowRecord) time.Time { return r.EventTime }) {
			add(r)
		}
	case lake.TableRoute53Resolver:
		for _, r := range readFile[lake.Route53ResolverQuery](t, fe, paths[0], func(r *lake.Route53ResolverQuery) time.Time { return r.EventTime }) {
			add(r)
		}
	default:
		t.Fatalf("no reader for table %s", fe.Table)
	}
	return out
}

// commitLog describes each commit of a lake in order: its operation, sources, and each file it adds, in
// the commit's order, with the file's rows in the file's order. File names (random) are left out.
func commitLog(t testing.TB, lk *lake.Lake) []string {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for v := int64(1); v <= snap.Version; v++ {
		c, err := lk.ReadCommit(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		fmt.Fprintf(&b, "v%d %s, %d sources, %d quarantined, %d removed\n", v, c.Operation, len(c.Sources), len(c.Quarantine), len(c.Remove))
		for _, fe := range c.Add {
			fmt.Fprintf(&b, "  %s %d rows %s..%s\n", fe.Partition(), fe.Rows, fe.MinTime.Format(time.RFC3339Nano), fe.MaxTime.Format(time.RFC3339Nano))
			rows := fileRows(t, lk, fe)
			if c.Operation == "merge" {
				// A merge keeps rows of equal time in the order of its input files, which are named at
				// random: only the set of rows is the same from run to run.
				slices.Sort(rows)
			}
			for _, r := range rows {
				b.WriteString("    " + r + "\n")
			}
		}
		out = append(out, b.String())
	}
	return out
}

// Partitions of a batch are encoded in parallel (Options.Encoders); the lake must not show it: the same
// commits in the same order, each adding the same files in the same order with the same rows, as one
// encoder writes. Run with -race: the encoders share the writer.
func TestParallelEncodersWriteTheLakeOneEncoderWrites(t *testing.T) {
	ctx := context.Background()
	objects, _ := faultCorpus(t)
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	putObjects(t, raw, objects)
	now := time.Now().UTC().Truncate(time.Second)
	for _, tc := range []struct {
		name      string
		batchRows int // 60: many batches, deduplicated against earlier ones; 0: one batch of 5 partitions
		merge     int
	}{
		{"one batch", 0, 0},
		{"small batches", 60, 0},
		{"small batches and merges", 60, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			run := func(encoders int) (*Summary, []string) {
				lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
				if err != nil {
					t.Fatal(err)
				}
				sum, err := Run(ctx, Options{From: raw, Lake: lk, BatchRows: tc.batchRows, MergeMinFiles: tc.merge,
					Encoders: encoders, Now: func() time.Time { return now }})
				if err != nil {
					t.Fatal(err)
				}
				return sum, commitLog(t, lk)
			}
			sum1, want := run(1)
			if sum1.DuplicatesDropped == 0 || sum1.PartitionsWritten < 5 {
				t.Fatalf("the corpus dropped %d duplicates in %d partitions: it tests too little", sum1.DuplicatesDropped, sum1.PartitionsWritten)
			}
			for _, n := range []int{1, 2, 8} { // 1 again: the test itself sees the same lake twice
				sum, got := run(n)
				for i := range max(len(got), len(want)) {
					if g, w := at(got, i), at(want, i); g != w {
						t.Fatalf("%d encoders: %d commits, want %d; commit %d differs first:\n%s", n, len(got), len(want), i+1, firstDiff(g, w))
					}
				}
				sum.Seconds, sum1.Seconds = 0, 0
				if tc.merge > 0 { // merged files hold rows of equal time in an order of their own (above)
					sum.BytesOut, sum1.BytesOut = 0, 0
				}
				if fmt.Sprintf("%+v", *sum) != fmt.Sprintf("%+v", *sum1) {
					t.Errorf("%d encoders: summary\n%+v\nwant\n%+v", n, *sum, *sum1)
				}
			}
		})
	}
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "(none)"
}

// firstDiff shows the first line that differs between two commit descriptions, with its commit's header.
func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := range max(len(g), len(w)) {
		if a, b := at(g, i), at(w, i); a != b {
			return fmt.Sprintf("%s\n line %d: %s\n want:   %s", g[0], i, a, b)
		}
	}
	return ""
}

// A partition that cannot be written fails its batch while the batch's other partitions are written in
// parallel: nothing of the batch is committed, and the next run writes the whole lake.
func TestFailedPartitionFailsItsWholeBatch(t *testing.T) {
	ctx := context.Background()
	objects, _ := faultCorpus(t)
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	putObjects(t, raw, objects)
	dir := t.TempDir()
	lk, err := lake.Open(ctx, dir, lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	// A file where the partition's folder goes: its data file cannot be written.
	blocker := filepath.Join(dir, filepath.FromSlash(lake.PartitionPath(lake.TableCloudTrail, acct, "us-east-1", "2022-11-11")))
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{From: raw, Lake: lk, Encoders: 4}
	sum, err := Run(ctx, opts)
	if err == nil {
		t.Fatal("the run succeeded with a partition it cannot write")
	}
	if sum.Commits != 0 || sum.RecordsWritten != 0 || sum.FilesWritten != 0 {
		t.Errorf("the failed batch counted %d commits, %d records, %d files", sum.Commits, sum.RecordsWritten, sum.FilesWritten)
	}
	if got := readLake(t, lk); got.version != 0 || got.files != 0 {
		t.Fatalf("after the failed batch the lake is at version %d with %d files, want nothing", got.version, got.files)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	if _, err := Run(ctx, opts); err != nil {
		t.Fatal(err)
	}
	ref, _ := lake.Open(ctx, t.TempDir(), lake.Options{Create: true})
	if _, err := Run(ctx, Options{From: raw, Lake: ref, Encoders: 1}); err != nil {
		t.Fatal(err)
	}
	diffRows(t, "after the run that followed the failure", fingerprint(t, lk), fingerprint(t, ref), false)
}
