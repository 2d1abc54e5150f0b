package waf_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/compact/waf"
	"github.com/lakehunt/lakehunt/lake"
)

const directKey = "AWSLogs/111122223333/WAFLogs/eu-west-1/app/2024/05/01/10/05/111122223333_waflogs_eu-west-1_app_20240501T1005Z_e0ca43b5.log.gz"

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		key, region, reason string
		kind                rawkey.Kind
	}{
		{key: "bucket/" + directKey, region: "eu-west-1", kind: rawkey.Events},
		{key: "AWSLogs/111122223333/WAFLogs/cloudfront/cf-acl/2024/05/01/23/55/111122223333_waflogs_cloudfront_cf-acl_20240501T2355Z_1.log.gz", region: "cloudfront", kind: rawkey.Events},
		{key: "AWSLogs/111122223333/WAFLogs/eu-west-1/app/2024/05/01/10/111122223333_waflogs.log.gz", reason: "expected REGION/WEBACL/YYYY/MM/DD/HH/mm/FILE after WAFLogs/"},
		{key: "AWSLogs/111122223333/WAFLogs/eu-west-1/app/2024/13/01/10/05/f.log.gz", reason: "bad date folders 2024/13/01/10/05"},
		{key: "AWSLogs/111122223333/WAFLogs/eu-west-1/app/2024/05/01/10/05/f.json", reason: "WAF log files end in .log.gz"},
	} {
		info := rawkey.Classify(c.key)
		if info.Source != waf.Table || info.Kind != c.kind || info.Region != c.region || info.Reason != c.reason || info.AccountID != "111122223333" {
			t.Errorf("%s: %+v", c.key, info)
		}
	}
	if info := rawkey.Classify("bucket/" + directKey); info.Key != directKey || info.Day != time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC) ||
		info.FileTime != time.Date(2024, 5, 1, 10, 5, 0, 0, time.UTC) {
		t.Errorf("key, day, file time: %+v", info)
	}
}

const (
	recA = `{"timestamp":1714557900000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1","action":"ALLOW","httpRequest":{"clientIp":"198.51.100.1","requestId":"a"}}`
	recB = `{"timestamp":1714557901000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1","action":"BLOCK","httpRequest":{"clientIp":"198.51.100.2","requestId":"b"}}`
	recC = `{"timestamp":1714557902000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1","action":"ALLOW","httpRequest":{"clientIp":"198.51.100.3","requestId":"c"}}`
)

// Direct delivery and Firehose delivery under a configured prefix fill one table; a request delivered
// both ways is one row; a bad record is quarantined with its reason; a second run reads nothing again.
func TestCompactDirectAndFirehose(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	firehoseKey := "firehose/waf/2024/05/01/10/aws-waf-logs-app-1-2024-05-01-10-05-00-0f1e2d3c.gz"
	for key, body := range map[string]string{
		directKey:                           recA + "\n" + "garbage\n" + recB + "\n",
		firehoseKey:                         recB + recC, // Firehose: no separator
		"firehose/other/2024/05/01/10/x.gz": recC,
	} {
		if err := lake.PutBytes(ctx, raw, key, source.Gzip([]byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	lk, err := lake.Open(ctx, filepath.Join(root, "lake"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := compact.Options{From: raw, Lake: lk, Workers: 1, Prefixes: map[string][]string{waf.Table: {"firehose/waf/"}},
		Now: func() time.Time { return time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC) }}
	sum, err := compact.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordsWritten != 3 || sum.PerTable[waf.Table] != 3 || sum.DuplicatesDropped != 1 || sum.RecordsQuarantined != 1 || sum.ObjectsIgnored != 1 || sum.ObjectsRead != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if q := sum.Quarantine[0]; q.Source != waf.Table || q.SourceKey != directKey || q.Record != 2 || q.Reason != "not a JSON object" {
		t.Errorf("quarantined %+v", q)
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(waf.Table, time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range paths {
		rows, err := parquet.ReadFile[waf.Request](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if r.AccountID != "111122223333" || r.Region != "eu-west-1" {
				t.Errorf("partition %s/%s", r.AccountID, r.Region)
			}
			got[*r.RequestID] = r.SourceKey
		}
	}
	keys := []string{got["a"], got["b"], got["c"]}
	if len(got) != 3 || !slices.Equal(keys, []string{directKey, directKey, firehoseKey}) {
		t.Errorf("rows by request id: %v", got)
	}

	again, err := compact.Run(ctx, opts)
	if err != nil || again.RecordsWritten != 0 || again.ObjectsAlreadyDone != 2 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}
