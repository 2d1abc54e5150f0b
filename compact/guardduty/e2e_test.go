package guardduty_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/guardduty"
	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
)

func TestClassify(t *testing.T) {
	for _, c := range []struct {
		key, region, reason string
		kind                rawkey.Kind
	}{
		{key: "bucket/AWSLogs/111122223333/GuardDuty/eu-west-1/2024/05/01/5f3c1a2b-6f1e-3a8d-9c4b-2e7d1f0a9b8c.jsonl.gz", region: "eu-west-1", kind: rawkey.Events},
		{key: "AWSLogs/111122223333/GuardDuty/eu-west-1/2024/05/01/10/x.jsonl.gz", reason: "expected REGION/YYYY/MM/DD/FILE after GuardDuty/"},
		{key: "AWSLogs/111122223333/GuardDuty/eu-west-1/2024/02/30/x.jsonl.gz", reason: "bad date folders 2024/02/30"},
		{key: "AWSLogs/111122223333/GuardDuty/eu-west-1/2024/05/01/x.json.gz", reason: "GuardDuty export files end in .jsonl.gz"},
	} {
		info := rawkey.Classify(c.key)
		if info.Source != guardduty.Table || info.Kind != c.kind || info.Region != c.region || info.Reason != c.reason || info.AccountID != "111122223333" {
			t.Errorf("%s: %+v", c.key, info)
		}
	}
}

func finding(updated string, count int) string {
	return fmt.Sprintf(`{"id":"f1","accountId":"111122223333","region":"eu-west-1","type":"Recon:EC2/PortProbeUnprotectedPort","severity":2,"updatedAt":%q,"service":{"count":%d}}`, updated, count)
}

// Every version of a finding is a row, once however often it is exported; guardduty_latest holds the
// newest version of each finding; a second run reads nothing again.
func TestCompactVersionsAndLatest(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := "AWSLogs/111122223333/GuardDuty/eu-west-1/2024/05/01/"
	other := `{"id":"f2","accountId":"111122223333","region":"eu-west-1","updatedAt":"2024-05-01T09:00:00Z"}`
	for key, body := range map[string]string{
		dir + "a.jsonl.gz": finding("2024-05-01T10:00:00Z", 1) + "\n" + other + "\n",
		dir + "b.jsonl.gz": finding("2024-05-01T10:00:00.000Z", 1) + "\n" + finding("2024-05-01T12:00:00Z", 3) + "\n{\"id\":\n",
	} {
		if err := lake.PutBytes(ctx, raw, key, source.Gzip([]byte(body))); err != nil {
			t.Fatal(err)
		}
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
	if sum.PerTable[guardduty.Table] != 3 || sum.DuplicatesDropped != 1 || sum.RecordsQuarantined != 1 {
		t.Fatalf("summary %+v", sum)
	}
	if q := sum.Quarantine[0]; q.Source != guardduty.Table || q.Record != 3 || q.Reason != "JSON object cut off at the end of the file" {
		t.Errorf("quarantined %+v", q)
	}
	got := query(t, lk, "SELECT id, count, strftime(updated_at, '%H:%M') FROM guardduty_latest ORDER BY id")
	if got != "[[f1 3 12:00] [f2 <nil> 09:00]]" {
		t.Errorf("guardduty_latest: %s", got)
	}
	if got := query(t, lk, "SELECT count(*) FROM guardduty"); got != "[[3]]" {
		t.Errorf("guardduty rows: %s", got)
	}
	again, err := compact.Run(ctx, opts)
	if err != nil || again.RecordsWritten != 0 || again.ObjectsAlreadyDone != 2 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}

// query runs SQL over the lake's guardduty table as hunts see it.
func query(t *testing.T, lk *lake.Lake, q string) string {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(guardduty.Table, time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := engine.NewSession(ctx, map[string][]string{guardduty.Table: paths}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Query(ctx, q, engine.Window{})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(res.Rows)
}
