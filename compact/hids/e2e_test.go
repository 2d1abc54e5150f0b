package hids_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/hids"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

const (
	alertA = `{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":12,"id":"510","groups":["ossec","rootcheck"]},"agent":{"id":"001","name":"web-1","ip":"10.0.0.5","labels":{"aws":{"account_id":"111122223333","region":"eu-west-1"}}},"manager":{"name":"m1"},"id":"1714557600.0","location":"rootcheck"}`
	alertB = `{"timestamp":"2024-05-01T10:00:01.000+0000","rule":{"level":7,"id":"550","groups":["ossec","syscheck"]},"agent":{"id":"002","name":"web-2","ip":"10.0.0.6","labels":{"aws":{"account_id":"111122223333","region":"eu-west-1"}}},"manager":{"name":"m1"},"id":"1714557601.300","location":"syscheck"}`
	// The same id from another manager of the cluster is another alert.
	alertC = `{"timestamp":"2024-05-01T10:00:01.000+0000","rule":{"level":7,"id":"550","groups":["ossec","syscheck"]},"agent":{"id":"007","name":"db-1","ip":"10.0.1.6","labels":{"aws":{"account_id":"111122223333","region":"eu-west-1"}}},"manager":{"name":"m2"},"id":"1714557601.300","location":"syscheck"}`
	ossec  = `{"rule":{"level":5,"comment":"Syslogd restarted.","sidid":1005,"group":"syslog,errors,"},"id":"1510376401.0","TimeStamp":1510376401000,"location":"/var/log/messages","full_log":"Nov 11 00:00:01 ix syslogd[72090]: restart","hostname":"ix","program_name":"syslogd"}`
)

// Alerts under a configured prefix fill the table; an alert shipped twice is one row; a bad line is
// quarantined with its reason; a second run reads nothing again; objects outside the prefix are ignored.
func TestCompactUnderPrefix(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	raw, err := lake.OpenStore(ctx, filepath.Join(root, "raw"), lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	first := "wazuh/2024/05/01/10/wazuh-alerts-1-2024-05-01-10-00-00-aaaa.gz"
	second := "wazuh/2024/05/01/10/wazuh-alerts-1-2024-05-01-10-05-00-bbbb.gz"
	for key, body := range map[string]string{
		first:                   alertA + "\n" + "garbage\n" + alertB + "\n",
		second:                  alertB + "\n" + alertC + "\n" + ossec + "\n", // B shipped again
		"other/2024/05/01/x.gz": alertA + "\n",
	} {
		if err := lake.PutBytes(ctx, raw, key, source.Gzip([]byte(body))); err != nil {
			t.Fatal(err)
		}
	}
	// Under the prefix but not alerts: VPC flow records, and a gzip object cut short.
	flows := "wazuh/2024/05/01/11/flows.gz"
	cut := "wazuh/2024/05/01/11/cut.gz"
	gz := source.Gzip([]byte(alertA + "\n"))
	for key, body := range map[string][]byte{flows: source.Gzip([]byte("2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 5000 6 1 40 1 2 ACCEPT OK\n")), cut: gz[:len(gz)-10]} {
		if err := lake.PutBytes(ctx, raw, key, body); err != nil {
			t.Fatal(err)
		}
	}
	lk, err := lake.Open(ctx, filepath.Join(root, "lake"), lake.Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	opts := compact.Options{From: raw, Lake: lk, Workers: 1, Prefixes: map[string][]string{hids.Table: {"wazuh/"}},
		Now: func() time.Time { return time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC) }}
	sum, err := compact.Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if sum.RecordsWritten != 4 || sum.PerTable[hids.Table] != 4 || sum.DuplicatesDropped != 1 || sum.RecordsQuarantined != 1 || sum.ObjectsIgnored != 1 || sum.ObjectsRead != 2 || sum.ObjectsQuarantined != 2 {
		t.Fatalf("summary %+v", sum)
	}
	var quarantined []string
	for _, q := range sum.Quarantine {
		if q.Source != hids.Table {
			t.Errorf("quarantined as %s", q.Source)
		}
		quarantined = append(quarantined, fmt.Sprintf("%s#%d: %s", q.SourceKey, q.Record, q.Reason))
	}
	sort.Strings(quarantined)
	wantQ := []string{
		first + "#2: line is not a JSON object",
		cut + "#0: corrupt gzip: " + cut + ": reading line 2: unexpected EOF",
		flows + `#0: not Wazuh or OSSEC alerts (alerts.json: a JSON object per line): starts with "2 123456789012 eni-1 10.0.0.1 10"`,
	}
	sort.Strings(wantQ)
	if !slices.Equal(quarantined, wantQ) {
		t.Errorf("quarantined\n%s\nwant\n%s", strings.Join(quarantined, "\n"), strings.Join(wantQ, "\n"))
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(hids.Table, time.Time{}, time.Time{}))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, p := range paths {
		rows, err := parquet.ReadFile[hids.Alert](p)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			got[*r.AlertKey] = r.AccountID + "/" + r.Region
		}
	}
	want := map[string]string{"m1/1714557600.0": "111122223333/eu-west-1", "m1/1714557601.300": "111122223333/eu-west-1",
		"m2/1714557601.300": "111122223333/eu-west-1", "/1510376401.0": "/"}
	if len(got) != len(want) {
		t.Fatalf("rows by alert key: %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: partition %q, want %q", k, got[k], v)
		}
	}

	again, err := compact.Run(ctx, opts)
	if err != nil || again.RecordsWritten != 0 || again.ObjectsAlreadyDone != 4 {
		t.Fatalf("second run: %+v %v", again, err)
	}
}
