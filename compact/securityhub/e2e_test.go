package securityhub_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/securityhub"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
)

const suggestedKey = "AWSLogs/111122223333/SecurityHub/eu-west-1/2024/05/01/10/securityhub-findings-1-2024-05-01-10-05-00-0f1e2d3c.gz"

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		key, region, reason string
		kind                rawkey.Kind
	}{
		{key: "bucket/" + suggestedKey, region: "eu-west-1", kind: rawkey.Events},
		{key: "AWSLogs/111122223333/SecurityHub/eu-west-1/2024/05/01/x.gz", reason: "expected REGION/YYYY/MM/DD/HH/FILE after SecurityHub/"},
		{key: "AWSLogs/111122223333/SecurityHub/eu-west-1/2024/05/01/25/x.gz", reason: "bad date folders 2024/05/01/25"},
	} {
		info := rawkey.Classify(c.key)
		if info.Source != securityhub.Table || info.Kind != c.kind || info.Region != c.region || info.Reason != c.reason || info.AccountID != "111122223333" {
			t.Errorf("%s: %+v", c.key, info)
		}
	}
}

func event(id, updated, status string) string {
	return fmt.Sprintf(`{"version":"0","id":"e-%s-%s","detail-type":"Security Hub Findings - Imported","source":"aws.securityhub","account":"111122223333","region":"eu-west-1","detail":{"findings":[`+
		`{"SchemaVersion":"2018-10-08","Id":%q,"ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/securityhub","AwsAccountId":"111122223333","Region":"eu-west-1","UpdatedAt":%q,"Compliance":{"Status":%q}}]}}`,
		id, updated, id, updated, status)
}

// Findings delivered under the suggested layout and under a configured Firehose prefix fill one table;
// a version delivered twice is one row; securityhub_latest holds the newest version of each finding.
func TestCompactVersionsAndLatest(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	firehoseKey := "firehose/securityhub/2024/05/01/12/sh-1-2024-05-01-12-00-00-abc"
	for key, body := range map[string]string{
		suggestedKey: event("S3.8", "2024-05-01T10:00:00Z", "FAILED") + event("IAM.4", "2024-05-01T10:00:00Z", "PASSED") + "garbage\n",
		firehoseKey:  event("S3.8", "2024-05-01T10:00:00Z", "FAILED") + "\n" + event("S3.8", "2024-05-01T12:00:00Z", "PASSED"),
	} {
		if err := lake.PutBytes(ctx, raw, key, source.Gzip([]byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	lk, err := lake.Open(ctx, filepath.Join(root, "lake"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := compact.Options{From: raw, Lake: lk, Workers: 1, Prefixes: map[string][]string{securityhub.Table: {"firehose/securityhub/"}},
		Now: func() time.Time { return time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC) }}
	sum, err := compact.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.PerTable[securityhub.Table] != 3 || sum.DuplicatesDropped != 1 || sum.RecordsQuarantined != 1 || sum.ObjectsRead != 2 {
		t.Fatalf("summary %+v", sum)
	}
	if q := sum.Quarantine[0]; q.SourceKey != suggestedKey || q.Record != 3 || q.Reason != "not a JSON object" {
		t.Errorf("quarantined %+v", q)
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(securityhub.Table, time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := engine.NewSession(ctx, map[string][]string{securityhub.Table: paths}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Query(ctx, "SELECT id, compliance_status, strftime(updated_at, '%H:%M') FROM securityhub_latest ORDER BY id", engine.Window{})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(res.Rows); got != "[[IAM.4 PASSED 10:00] [S3.8 PASSED 12:00]]" {
		t.Errorf("securityhub_latest: %s", got)
	}
}
