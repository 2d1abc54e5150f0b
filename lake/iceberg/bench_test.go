package iceberg_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/iceberg"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// TestMeasureMetadataCost measures what the Iceberg metadata costs on a lake shaped like the large
// benchmark lake (BENCHMARKS.md): LAKEHUNT_ICEBERG_BENCH=COMMITS (e.g. 2228) commits of two cloudtrail
// files each over 1,344 partitions, then merges of 16 files, a vacuum and a rebuild. Data files are not
// written (Iceberg metadata needs only their entries); LAKEHUNT_ICEBERG_BENCH_S3=1 runs on the test S3 server.
func TestMeasureMetadataCost(t *testing.T) {
	commits, _ := strconv.Atoi(os.Getenv("LAKEHUNT_ICEBERG_BENCH"))
	if commits == 0 {
		t.Skip("set LAKEHUNT_ICEBERG_BENCH=COMMITS")
	}
	ctx := context.Background()
	url, so := t.TempDir(), lake.StoreOptions{}
	if os.Getenv("LAKEHUNT_ICEBERG_BENCH_S3") != "" {
		srv := s3test.Start(t)
		url, so = srv.Bucket(t, "lake")+"lake/", lake.StoreOptions{S3Endpoint: srv.Endpoint}
	}
	plain, err := lake.Open(ctx, url, lake.Options{Store: so, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	withCat, _ := lake.Open(ctx, url, lake.Options{Store: so, Catalog: iceberg.Catalog{}})
	entry := func(n int) lake.FileEntry {
		p := n % 1344
		day := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC).AddDate(0, 0, p%28)
		acct, region := fmt.Sprintf("1111222233%02d", p/28%4), []string{"us-east-1", "eu-west-1", "ap-south-1", "sa-east-1"}[p/112%4]
		return lake.FileEntry{Table: lake.TableCloudTrail, Key: lake.PartitionPath(lake.TableCloudTrail, acct, region, day.Format("2006-01-02")) + fmt.Sprintf("/part-%07d.parquet", n),
			AccountID: acct, Region: region, Day: day.Format("2006-01-02"), Rows: 2000, Size: 90_000, MinTime: day, MaxTime: day.Add(time.Hour)}
	}
	measure := func(what string, lk *lake.Lake, n int, mk func(i int) lake.Commit) time.Duration {
		snap, err := lk.FileSnapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		for i := range n {
			if snap, err = lk.Commit(ctx, snap, mk(i)); err != nil {
				t.Fatal(err)
			}
			if err := lk.CatalogErr(); err != nil {
				t.Fatal(err)
			}
		}
		d := time.Since(start)
		t.Logf("%s: %d commits in %s, %s per commit", what, n, d.Round(time.Millisecond), (d / time.Duration(n)).Round(time.Microsecond))
		return d
	}
	next := 0
	appendCommit := func(int) lake.Commit {
		next += 2
		return lake.Commit{Operation: "compact", Add: []lake.FileEntry{entry(next - 2), entry(next - 1)}}
	}
	base := measure("lake commits without Iceberg", plain, 200, appendCommit)
	// The rest of the large lake's commits, then 200 measured with Iceberg on top of them.
	if _, err := iceberg.Rebuild(ctx, withCat); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	measure("lake commits with Iceberg (growing table)", withCat, commits, appendCommit)
	t.Logf("whole history with Iceberg: %s (without, extrapolated: %s)", time.Since(start).Round(time.Millisecond), base*time.Duration(commits)/200)
	measure("append commits with Iceberg on the full table", withCat, 200, appendCommit)
	snap, _ := withCat.FileSnapshot(ctx)
	byPart := map[string][]string{}
	for _, f := range snap.Files {
		byPart[f.Partition()] = append(byPart[f.Partition()], f.Key)
	}
	var parts []string
	for p, keys := range byPart {
		if len(keys) >= 2 {
			parts = append(parts, p)
		}
	}
	measure("merge commits (replace) with Iceberg", withCat, min(50, len(parts)), func(i int) lake.Commit {
		keys := byPart[parts[i]]
		next++
		e := entry(next)
		e.Key = parts[i] + fmt.Sprintf("/part-merged-%d.parquet", i)
		// The partition of the removed files, from their folder names.
		seg := strings.Split(parts[i], "/")
		e.AccountID, e.Region, e.Day = strings.TrimPrefix(seg[1], "account_id="), strings.TrimPrefix(seg[2], "region="), strings.TrimPrefix(seg[3], "dt=")
		return lake.Commit{Operation: "merge", Add: []lake.FileEntry{e}, Remove: keys}
	})
	start = time.Now()
	if _, err := withCat.Vacuum(ctx, 0); err != nil {
		t.Fatal(err)
	}
	t.Logf("vacuum (expire all but current, delete unreferenced metadata): %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	ptr, err := iceberg.Rebuild(ctx, withCat)
	if err != nil {
		t.Fatal(err)
	}
	snap, _ = withCat.FileSnapshot(ctx)
	t.Logf("rebuild of %d files: %s", len(snap.Files), time.Since(start).Round(time.Millisecond))
	var total, n int64
	_ = withCat.Store().List(ctx, lake.TableCloudTrail+"/metadata/", func(o lake.ObjectInfo) error {
		total += o.Size
		n++
		if o.Key == ptr.Tables[lake.TableCloudTrail] {
			t.Logf("current metadata.json: %d bytes", o.Size)
		}
		return nil
	})
	t.Logf("cloudtrail/metadata/ after rebuild: %d objects, %d bytes", n, total)
}
