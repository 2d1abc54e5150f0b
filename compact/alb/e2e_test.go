package alb_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/alb"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

const (
	dir    = "AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/05/01/"
	albKey = dir + "111122223333_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20240501T1005Z_203.0.113.10_2k3j4h5g.log.gz"
	badGz  = dir + "111122223333_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20240501T1010Z_203.0.113.10_9x8y7z6w.log.gz"
	nlbKey = dir + "111122223333_elasticloadbalancing_eu-west-1_net.tcp.0123456789abcdef_20240501T1005Z_203.0.113.11_2k3j4h5g.log.gz"
	line   = `https 2024-05-01T10:02:03.123456Z app/web/0123456789abcdef CLIENT:40000 10.0.1.10:8080 0.001 0.010 0.000 200 200 300 1200 "GET https://app.example.com:443/login HTTP/1.1" "curl/8.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1 "Root=1-6632131b-0123456789abcdef01234567" "app.example.com" "-" 1 2024-05-01T10:02:03.110000Z "forward" "-" "-" "10.0.1.10:8080" "200" "-" "-"`
)

func entry(client string) string { return strings.Replace(line, "CLIENT", client, 1) + "\n" }

// An ALB log in its AWSLogs/ layout fills the alb table; a bad line is quarantined with its reason; an
// NLB log in the same folder is skipped with the reason; a corrupt gzip object is quarantined; a second run reads nothing again.
func TestCompact(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for key, body := range map[string]string{
		"bucket/" + albKey: entry("198.51.100.1") + "truncated entry\n" + entry("198.51.100.2"),
		nlbKey:             "tls 2.0 2024-05-01T10:00:00 net/tcp/0123456789abcdef ...\n",
	} {
		if err := lake.PutBytes(ctx, raw, key, source.Gzip([]byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	corrupt := source.Gzip([]byte(entry("198.51.100.3")))
	corrupt[len(corrupt)/2] ^= 0xff
	if err := lake.PutBytes(ctx, raw, badGz, corrupt); err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, filepath.Join(root, "lake"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := compact.Options{From: raw, Lake: lk, Workers: 1, Now: func() time.Time { return time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC) }}
	sum, err := compact.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordsWritten != 2 || sum.PerTable[alb.Table] != 2 || sum.RecordsQuarantined != 1 || sum.ObjectsQuarantined != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if sum.ObjectsSkipped != 1 || sum.Skipped[0].Key != nlbKey || sum.Skipped[0].Reason != "a Network Load Balancer log: not read (the alb table holds Application Load Balancer logs)" {
		t.Errorf("skipped %d: %+v", sum.ObjectsSkipped, sum.Skipped)
	}
	for _, q := range sum.Quarantine {
		switch q.SourceKey {
		case albKey:
			if q.Record != 2 || !strings.HasPrefix(q.Reason, "2 fields;") {
				t.Errorf("quarantined line %+v", q)
			}
		case badGz:
			if q.Record != 0 || !strings.Contains(q.Reason, "gzip") {
				t.Errorf("quarantined object %+v", q)
			}
		default:
			t.Errorf("quarantined %+v", q)
		}
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(alb.Table, time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	var clients []string
	for _, p := range paths {
		rows, err := parquet.ReadFile[alb.Request](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.AccountID != "111122223333" || r.Region != "eu-west-1" || *r.RequestURL != "https://app.example.com:443/login" {
				t.Errorf("row %s/%s %s", r.AccountID, r.Region, *r.RequestURL)
			}
			clients = append(clients, *r.ClientIP)
		}
	}
	if strings.Join(clients, ",") != "198.51.100.1,198.51.100.2" {
		t.Errorf("clients %v", clients)
	}
	again, err := compact.Run(ctx, opts)
	if err != nil || again.RecordsWritten != 0 || again.ObjectsAlreadyDone != 3 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}

// What a hunt test holds under alb: (log text) is written by the fixture writer where compact reads it,
// and every entry becomes a row of the account and region of its target group.
func TestFixtureCompacts(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	text := entry("198.51.100.1") + strings.Replace(entry("198.51.100.2"), "10:02:03.123456Z", "10:31:00.000000Z", 1)
	if err := alb.Source.Fixture(text, time.Time{}, func(k string, b []byte) error { return lake.PutBytes(ctx, raw, k, b) }); err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, filepath.Join(root, "lake"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	sum, err := compact.Run(ctx, compact.Options{From: raw, Lake: lk, Workers: 1, Now: func() time.Time { return time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC) }})
	if err != nil || sum.ObjectsRead != 2 || sum.PerTable[alb.Table] != 2 || sum.RecordsQuarantined != 0 {
		t.Fatalf("summary %+v, err %v", sum, err)
	}
}
