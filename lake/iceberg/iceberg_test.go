package iceberg_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	iceio "github.com/apache/iceberg-go/io"
	_ "github.com/apache/iceberg-go/io/gocloud/s3"
	icetable "github.com/apache/iceberg-go/table"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/gen"
	"github.com/lakehunt/lakehunt/compact/hids"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/iceberg"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

const acct = "111122223333"

// putCloudTrail writes one raw CloudTrail object of n events named run<run>-<i>, one per hour of day.
func putCloudTrail(t *testing.T, raw lake.Store, run, n int) {
	t.Helper()
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		// Some fields absent, some "" (stored as NULL like absent ones), some with values.
		extra, user := "", ""
		switch i % 4 {
		case 0:
			extra = `,"errorCode":"AccessDenied","errorMessage":"denied","userAgent":"aws-cli/2","vpcEndpointId":"vpce-1"`
			user = `,"userName":"u","accessKeyId":"AKIAEXAMPLE"`
		case 1:
			extra = `,"errorCode":"","errorMessage":"","userAgent":"","vpcEndpointId":"","sourceIPAddress":"","requestParameters":null`
			user = `,"userName":"","accessKeyId":"","invokedBy":""`
		case 2:
			extra = `,"userAgent":"aws-cli/2","sourceIPAddress":"192.0.2.1","requestParameters":{"bucketName":""}`
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.08","eventID":"run%d-%d","eventTime":"2022-11-1%dT%02d:%02d:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","recipientAccountId":"%s","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::%s:user/u"%s}%s}`,
			run, i, i%2, i%24, run, acct, acct, user, extra)
	}
	b.WriteString("]}")
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(b.Bytes())
	zw.Close()
	key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/2022/11/10/%s_CloudTrail_us-east-1_20221110T%04dZ_r%d.json.gz", acct, acct, run, run)
	if err := lake.PutBytes(context.Background(), raw, key, z.Bytes()); err != nil {
		t.Fatal(err)
	}
}

// lakeRows runs what "lakehunt query --lake LAKE" runs over the lake's live files of a table (its views,
// through hunts/engine): the event IDs (cloudtrail only), the rows, and the NULLs of each column.
func lakeRows(t *testing.T, lk *lake.Lake, table string) (ids []string, rows int64, nulls map[string]int64) {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]string{}
	for _, tb := range lake.Tables() {
		if files[tb.Name], err = lk.LocalPaths(ctx, snap.FilesFor(tb.Name, time.Time{}, time.Time{})); err != nil {
			t.Fatal(err)
		}
	}
	sess, err := engine.NewSession(ctx, files, engine.Limits{Timeout: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	if table == lake.TableCloudTrail {
		res, err := sess.Query(ctx, "SELECT event_id FROM cloudtrail ORDER BY event_id", engine.Window{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range res.Rows {
			ids = append(ids, r[0].(string))
		}
	}
	tb, err := lake.LookupTable(table)
	if err != nil {
		t.Fatal(err)
	}
	counts := []string{"count(*) AS \"rows()\""}
	for _, c := range tb.Columns {
		counts = append(counts, fmt.Sprintf("count(*) FILTER (WHERE %s IS NULL) AS %s", c.Name, c.Name))
	}
	res, err := sess.Query(ctx, "SELECT "+strings.Join(counts, ", ")+" FROM "+table, engine.Window{})
	if err != nil {
		t.Fatal(err)
	}
	nulls = map[string]int64{}
	for i, c := range res.Columns {
		nulls[c.Name] = res.Rows[0][i].(int64)
	}
	rows = nulls["rows()"]
	delete(nulls, "rows()")
	return ids, rows, nulls
}

// scan reads a table through iceberg-go's own scan (its metadata parser, manifest reader, Parquet reader
// and name mapping), from the metadata file the pointer names: no lakehunt code on the read path. It
// returns the event IDs (cloudtrail only), the rows, and the NULLs of each column.
func scan(t *testing.T, lk *lake.Lake, props map[string]string, table string) (ids []string, rows int64, nulls map[string]int64, snapID int64) {
	t.Helper()
	ctx := context.Background()
	ptr, _, err := iceberg.ReadPointer(ctx, lk)
	if err != nil || ptr == nil {
		t.Fatalf("no Iceberg pointer: %v", err)
	}
	loc := lk.ObjectURL(ptr.Tables[table])
	tbl, err := icetable.NewFromLocation(ctx, []string{table}, loc, iceio.LoadFSFunc(props, loc), nil)
	if err != nil {
		t.Fatalf("iceberg-go cannot load %s: %v", loc, err)
	}
	if cur := tbl.CurrentSnapshot(); cur != nil {
		snapID = cur.SnapshotID
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatalf("iceberg-go scan of %s: %v", table, err)
	}
	defer at.Release()
	nulls = map[string]int64{}
	for i, f := range at.Schema().Fields() {
		for _, c := range at.Column(i).Data().Chunks() {
			nulls[f.Name] += int64(c.NullN())
			if f.Name == "event_id" && table == lake.TableCloudTrail {
				for j := 0; j < c.Len(); j++ {
					ids = append(ids, c.(*array.String).Value(j))
				}
			}
		}
	}
	sort.Strings(ids)
	return ids, at.NumRows(), nulls, snapID
}

// sameNulls fails t unless the Iceberg scan of table holds the rows and the NULLs of each column that
// lakehunt query returns; it returns what lakehunt query returns.
func sameNulls(t *testing.T, step string, lk *lake.Lake, props map[string]string, table string) (ids []string, rows int64, nulls map[string]int64) {
	t.Helper()
	want, wantRows, wantNulls := lakeRows(t, lk, table)
	got, gotRows, gotNulls, _ := scan(t, lk, props, table)
	if gotRows != wantRows || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: %s: Iceberg scan returned %d rows, lakehunt query %d", step, table, gotRows, wantRows)
	}
	for c, n := range wantNulls {
		if g, ok := gotNulls[c]; !ok || g != n {
			t.Errorf("%s: %s.%s: the Iceberg scan has %d NULLs (column read: %v), lakehunt query %d", step, table, c, g, ok, n)
		}
	}
	if len(gotNulls) != len(wantNulls) {
		t.Errorf("%s: %s: the Iceberg scan has %d columns, lakehunt query %d", step, table, len(gotNulls), len(wantNulls))
	}
	return want, wantRows, wantNulls
}

// check asserts the Iceberg cloudtrail table holds exactly the rows and NULLs lakehunt query returns, at
// the lake's latest commit.
func check(t *testing.T, step string, lk *lake.Lake, props map[string]string) {
	t.Helper()
	ids, _, nulls := sameNulls(t, step, lk, props, lake.TableCloudTrail)
	if nulls["error_code"] == 0 || nulls["error_code"] == int64(len(ids)) {
		t.Fatalf("%s: error_code has %d NULLs in %d rows: the input must give some rows one and not others", step, nulls["error_code"], len(ids))
	}
	_, _, _, snapID := scan(t, lk, props, lake.TableCloudTrail)
	snap, _ := lk.FileSnapshot(context.Background())
	ptr, _, _ := iceberg.ReadPointer(context.Background(), lk)
	if ptr.Version != snap.Version {
		t.Fatalf("%s: Iceberg pointer at commit %d, lake at %d", step, ptr.Version, snap.Version)
	}
	if snapID > snap.Version {
		t.Fatalf("%s: snapshot %d is ahead of the lake (%d)", step, snapID, snap.Version)
	}
}

func snapshotCount(t *testing.T, lk *lake.Lake) int {
	ptr, _, _ := iceberg.ReadPointer(context.Background(), lk)
	b, err := lake.ReadAll(context.Background(), lk.Store(), ptr.Tables[lake.TableCloudTrail])
	if err != nil {
		t.Fatal(err)
	}
	m, err := icetable.ParseMetadataBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return len(m.Snapshots())
}

// TestIcebergMirrorsCommitsMergesOrphansAndVacuum: after ingest, late data, merges, an uncommitted
// (orphan) file and a vacuum, iceberg-go's scan returns exactly the lake's rows, on disk and on S3.
func TestIcebergMirrorsCommitsMergesOrphansAndVacuum(t *testing.T) {
	t.Run("local", func(t *testing.T) {
		mirror(t, t.TempDir(), lake.StoreOptions{}, nil)
	})
	t.Run("s3", func(t *testing.T) {
		if os.Getenv("LAKEHUNT_VERSITYGW") == "" {
			t.Skip("LAKEHUNT_VERSITYGW not set")
		}
		srv := s3test.Start(t)
		props := map[string]string{iceio.S3EndpointURL: srv.Endpoint, iceio.S3Region: "us-east-1",
			iceio.S3AccessKeyID: s3test.AccessKey, iceio.S3SecretAccessKey: s3test.SecretKey, "s3.force-virtual-addressing": "false"}
		mirror(t, srv.Bucket(t, "lake")+"lake/", lake.StoreOptions{S3Endpoint: srv.Endpoint}, props)
	})
}

func mirror(t *testing.T, lakeURL string, so lake.StoreOptions, props map[string]string) {
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, err := lake.Open(ctx, lakeURL, lake.Options{Store: so, Create: true, Catalog: iceberg.Catalog{}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	// Five runs of 30 events over two days: small batches make several files per run, and from the
	// third run on, partitions with 3 small files are merged (replace snapshots).
	for run := range 5 {
		putCloudTrail(t, raw, run, 30)
		if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: lk, BatchRows: 10, MergeMinFiles: 3}); err != nil {
			t.Fatal(err)
		}
		if err := lk.CatalogErr(); err != nil {
			t.Fatal(err)
		}
		check(t, fmt.Sprintf("run %d", run), lk, props)
	}
	snap, _ := lk.FileSnapshot(ctx)
	// A killed run's file: written into a partition folder, never committed. A Hive table would read it.
	live := snap.FilesFor(lake.TableCloudTrail, time.Time{}, time.Time{})[0]
	b, _ := lake.ReadAll(ctx, lk.Store(), live.Key)
	orphan := live.Partition() + "/part-orphan.parquet"
	if err := lake.PutBytes(ctx, lk.Store(), orphan, b); err != nil {
		t.Fatal(err)
	}
	check(t, "orphan file", lk, props)

	before := snapshotCount(t, lk)
	if before < 3 {
		t.Fatalf("only %d Iceberg snapshots after 5 runs with merges", before)
	}
	sum, err := lk.Vacuum(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Objects == 0 {
		t.Fatal("vacuum deleted nothing: the orphan and the merged-away files were left")
	}
	if _, err := lk.Store().Stat(ctx, orphan); err == nil {
		t.Fatal("vacuum left the orphan file")
	}
	check(t, "after vacuum", lk, props)
	if n := snapshotCount(t, lk); n != 1 {
		t.Fatalf("%d snapshots after vacuum --min-age 0, want only the current one", n)
	}
}

// TestIcebergOneBehindAfterCrashAndRebuild: a commit whose Iceberg write never happened (the process died
// in between) leaves Iceberg exactly one commit behind, never wrong; the next commit catches up, and
// Rebuild restores it from the log at any time.
func TestIcebergOneBehindAfterCrashAndRebuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	with, _ := lake.Open(ctx, dir, lake.Options{Create: true, Catalog: iceberg.Catalog{}})
	without, _ := lake.Open(ctx, dir, lake.Options{}) // the same lake, committing as a killed process would
	putCloudTrail(t, raw, 0, 20)
	if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: with, MergeMinFiles: 1000}); err != nil {
		t.Fatal(err)
	}
	check(t, "first run", with, nil)
	ids0, _, _, snap0 := scan(t, with, nil, lake.TableCloudTrail)

	putCloudTrail(t, raw, 1, 20)
	if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: without, MergeMinFiles: 1000}); err != nil {
		t.Fatal(err)
	}
	ids1, _, _, snap1 := scan(t, with, nil, lake.TableCloudTrail)
	if strings.Join(ids1, ",") != strings.Join(ids0, ",") || snap1 != snap0 {
		t.Fatalf("after a commit without its Iceberg write, Iceberg changed: %d rows (snapshot %d), was %d rows (snapshot %d)", len(ids1), snap1, len(ids0), snap0)
	}
	ptr, _, _ := iceberg.ReadPointer(ctx, with)
	if snap, _ := with.FileSnapshot(ctx); ptr.Version != snap.Version-1 {
		t.Fatalf("Iceberg pointer at %d, lake at %d: want exactly one behind", ptr.Version, snap.Version)
	}

	if _, err := iceberg.Rebuild(ctx, with); err != nil {
		t.Fatal(err)
	}
	check(t, "rebuild", with, nil)

	putCloudTrail(t, raw, 2, 20)
	if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: without, MergeMinFiles: 1000}); err != nil {
		t.Fatal(err)
	}
	putCloudTrail(t, raw, 3, 20)
	if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: with, MergeMinFiles: 1000}); err != nil {
		t.Fatal(err)
	}
	check(t, "catch-up on the next commit", with, nil)
}

// TestIcebergNullsMatchQueryInEveryTable: in every table of a lake compacted from generated logs of every
// source (and CloudTrail records with "" values), iceberg-go's scan returns the rows and the NULLs of
// each column that lakehunt query returns.
func TestIcebergNullsMatchQueryInEveryTable(t *testing.T) {
	ctx := context.Background()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true, Catalog: iceberg.Catalog{}})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	put := func(key string, body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		return lake.PutBytes(ctx, raw, key, body)
	}
	sum, err := gen.Generate(ctx, gen.Config{Scale: "custom", Days: 1, Accounts: 1, Regions: 1, Seed: 5,
		CloudTrailPerDay: 2000, FlowsPerDay: 2000, DNSPerDay: 2000}, put)
	if err != nil {
		t.Fatal(err)
	}
	gc := source.GenConfig{Start: sum.Start, Days: 1, Accounts: sum.Accounts, Regions: sum.Regions, Seed: 5}
	for _, d := range compact.Descriptors() {
		if d.Generate() != nil {
			if _, err := d.Generate()(gc, put); err != nil {
				t.Fatalf("gen %s: %v", d.Table(), err)
			}
		}
	}
	putCloudTrail(t, raw, 0, 40)
	if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: lk, Prefixes: map[string][]string{hids.Table: {hids.GenPrefix}}}); err != nil {
		t.Fatal(err)
	}
	if err := lk.CatalogErr(); err != nil {
		t.Fatal(err)
	}
	for _, tb := range lake.Tables() {
		if tb.Name == lake.TableTIIndicators {
			continue // filled by ti import, not compact
		}
		if _, rows, _ := sameNulls(t, "generated lake", lk, nil, tb.Name); rows == 0 {
			t.Errorf("%s: no rows: the generator wrote none, or compact did not read them", tb.Name)
		}
	}
}

// TestMetadataHasSpecRequiredFields checks the written metadata JSON against the Iceberg v2 spec's
// required table-metadata and snapshot fields, independently of iceberg-go's parser.
func TestMetadataHasSpecRequiredFields(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	raw, _ := lake.OpenStore(ctx, t.TempDir(), lake.StoreOptions{})
	lk, _ := lake.Open(ctx, dir, lake.Options{Create: true, Catalog: iceberg.Catalog{}})
	putCloudTrail(t, raw, 0, 20)
	if _, err := compact.Run(ctx, compact.Options{From: raw, Lake: lk}); err != nil {
		t.Fatal(err)
	}
	ptr, _, _ := iceberg.ReadPointer(ctx, lk)
	for _, tb := range lake.Tables() {
		b, err := lake.ReadAll(ctx, lk.Store(), ptr.Tables[tb.Name])
		if err != nil {
			t.Fatalf("%s: %v", tb.Name, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"format-version", "table-uuid", "location", "last-sequence-number", "last-updated-ms",
			"last-column-id", "schemas", "current-schema-id", "partition-specs", "default-spec-id", "last-partition-id",
			"sort-orders", "default-sort-order-id"} {
			if _, ok := m[f]; !ok {
				t.Errorf("%s metadata lacks required field %q", tb.Name, f)
			}
		}
		if m["format-version"] != float64(2) {
			t.Errorf("%s: format-version %v, want 2", tb.Name, m["format-version"])
		}
		if !strings.HasPrefix(m["location"].(string), "file://") {
			t.Errorf("%s: location %v is not an absolute URI", tb.Name, m["location"])
		}
		props, _ := m["properties"].(map[string]any)
		if props["schema.name-mapping.default"] == nil {
			t.Errorf("%s: no name mapping: readers cannot match the lake's Parquet columns (no field IDs)", tb.Name)
		}
		snaps, _ := m["snapshots"].([]any)
		if tb.Name == lake.TableCloudTrail && len(snaps) == 0 {
			t.Fatalf("cloudtrail has no snapshot")
		}
		for _, s := range snaps {
			sm := s.(map[string]any)
			for _, f := range []string{"snapshot-id", "sequence-number", "timestamp-ms", "manifest-list", "summary"} {
				if _, ok := sm[f]; !ok {
					t.Errorf("%s snapshot lacks required field %q", tb.Name, f)
				}
			}
			if op := sm["summary"].(map[string]any)["operation"]; op == nil {
				t.Errorf("%s snapshot summary lacks operation", tb.Name)
			}
		}
		specs := m["partition-specs"].([]any)
		fields := specs[0].(map[string]any)["fields"].([]any)
		if tb.Name == lake.TableCloudTrail && len(fields) != 3 {
			t.Errorf("cloudtrail partition spec %v, want account_id, region, day(event_time)", fields)
		}
	}
}
