package ti

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/lake"
)

// End to end: raw flow logs in their S3 layout go through the real compactor; weeks later a feed is
// imported; the match over the lake finds the instance that talked to the listed C2, and a feed listing
// private space (FireHOL level1 style) flags none of the internal traffic.
func TestEndToEndRetroMatch(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	flows := `version account-id interface-id instance-id srcaddr dstaddr srcport dstport protocol packets bytes start end action tcp-flags log-status
5 123456789012 eni-01 i-0000000000000c2c2 10.0.1.5 45.77.1.10 49152 443 6 10 4200 1714971600 1714971660 ACCEPT 2 OK
5 123456789012 eni-01 i-0000000000000c2c2 45.77.1.10 10.0.1.5 443 49152 6 12 98000 1714971600 1714971660 ACCEPT 18 OK
5 123456789012 eni-02 i-00000000000000db1 10.0.1.5 10.0.2.9 49153 5432 6 10 4200 1714971600 1714971660 ACCEPT 2 OK
5 123456789012 eni-02 i-00000000000000db1 10.0.2.9 172.31.0.2 49154 53 17 1 80 1714971600 1714971660 ACCEPT 0 OK
5 123456789012 eni-03 i-0000000000000web 198.51.100.23 10.0.3.3 51515 22 6 1 60 1714975200 1714975260 REJECT 2 OK
`
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(flows))
	zw.Close()
	key := "AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/05/06/123456789012_vpcflowlogs_us-east-1_fl-0e2e_20240506T0500Z_a1b2c3d4.log.gz"
	if err := lake.PutBytes(ctx, raw, key, gz.Bytes()); err != nil {
		t.Fatal(err)
	}
	lk := openLake(t, filepath.Join(root, "lake"))
	sum, err := compact.Run(ctx, compact.Options{From: raw, Lake: lk, Workers: 1, Now: func() time.Time { return day(7) }})
	if err != nil || sum.RecordsWritten != 5 || sum.Quarantined() {
		t.Fatalf("compact: %+v %v", sum, err)
	}

	// Six weeks after the flows: Feodo lists the C2, a scanner list the scan source, FireHOL level1 private space.
	imported := time.Date(2024, 6, 20, 8, 0, 0, 0, time.UTC)
	for _, f := range []struct{ feed, content string }{
		{"feodo", "\"first_seen_utc\",\"dst_ip\",\"dst_port\",\"c2_status\",\"last_online\",\"malware\"\n\"2024-06-18 10:00:00\",\"45.77.1.10\",\"443\",\"online\",\"2024-06-20\",\"Pikabot\"\n"},
		{"scanners", "198.51.100.0/24\n"},
		{"firehol-level1", "# ipv4 hash:net ipset\n0.0.0.0/8\n10.0.0.0/8\n172.16.0.0/12\n192.168.0.0/16\n1.10.16.0/20\n"},
	} {
		s, err := Import(ctx, lk, f.feed, []Source{{URL: writeFeed(t, f.feed+".txt", f.content)}}, imported)
		if err != nil {
			t.Fatal(err)
		}
		if f.feed == "firehol-level1" && (s.BogonCount != 4 || s.Indicators != 1) {
			t.Fatalf("bogons not excluded: %+v", s)
		}
	}

	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	db := duck(t)
	for _, table := range []string{lake.TableVPCFlow, lake.TableTIIndicators} {
		paths, err := lk.LocalPaths(ctx, snap.FilesFor(table, time.Time{}, time.Time{}))
		if err != nil || len(paths) == 0 {
			t.Fatalf("%s: %v %v", table, paths, err)
		}
		list := ""
		for i, p := range paths {
			if i > 0 {
				list += ", "
			}
			list += "'" + p + "'"
		}
		mustExec(t, db, fmt.Sprintf("CREATE VIEW %s AS SELECT * FROM read_parquet([%s])", table, list))
	}
	for _, m := range MatchMacros {
		mustExec(t, db, m.SQL)
	}
	rows, err := db.Query(`
		WITH a AS (
		  SELECT * EXCLUDE (u), u.side, u.addr FROM (
		    SELECT *, unnest([{'side': 'src', 'addr': srcaddr_v4}, {'side': 'dst', 'addr': dstaddr_v4}]) AS u FROM vpc_flow)
		  WHERE u.addr IS NOT NULL)
		SELECT instance_id, t.indicator, t.feed, string_agg(DISTINCT action, ',' ORDER BY action), sum(bytes)
		FROM a JOIN (SELECT *, unnest(ti_ip_buckets(start_v4, end_v4, start_v6, end_v6)) AS bucket16 FROM ti_indicators WHERE start_v4 IS NOT NULL) t ON ip_bucket(a.addr, NULL) = t.bucket16 AND a.addr BETWEEN t.start_v4 AND t.end_v4
		WHERE t.valid_to IS NULL AND a.event_time < t.valid_from -- the contact happened before the intel existed
		GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var inst, ind, feed, actions string
		var b int64
		if err := rows.Scan(&inst, &ind, &feed, &actions, &b); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s %s %s %s %d", inst, ind, feed, actions, b))
	}
	want := []string{
		"i-0000000000000c2c2 45.77.1.10 feodo ACCEPT 102200",
		"i-0000000000000web 198.51.100.0/24 scanners REJECT 60",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("matches:\n got %q\nwant %q", got, want)
	}
}
