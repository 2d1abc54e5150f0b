package investigate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/entity"
)

func newLake(t *testing.T) *lake.Lake {
	t.Helper()
	lk, err := lake.Open(context.Background(), t.TempDir(), lake.Options{CacheDir: t.TempDir(), Create: true})
	if err != nil {
		t.Fatal(err)
	}
	return lk
}

// commit writes rows of one table into the lake, one Parquet file per (account, region, day) as the
// compactor lays them out, and commits them.
func commit[T any](t *testing.T, lk *lake.Lake, table string, rows []T, key func(T) (time.Time, string, string)) {
	t.Helper()
	ctx := context.Background()
	type part struct{ acct, region, day string }
	parts := map[part][]T{}
	var order []part
	for _, r := range rows {
		at, acct, region := key(r)
		p := part{acct, region, at.UTC().Format(time.DateOnly)}
		if _, ok := parts[p]; !ok {
			order = append(order, p)
		}
		parts[p] = append(parts[p], r)
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var add []lake.FileEntry
	for _, p := range order {
		rs := parts[p]
		slices.SortStableFunc(rs, func(a, b T) int { ta, _, _ := key(a); tb, _, _ := key(b); return ta.Compare(tb) })
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[T](&buf, parquet.Compression(&parquet.Zstd))
		if _, err := w.Write(rs); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(buf.Bytes())
		k := fmt.Sprintf("%s/part-v%d-%s.parquet", lake.PartitionPath(table, p.acct, p.region, p.day), snap.Version+1, hex.EncodeToString(sum[:4]))
		if err := lake.PutBytes(ctx, lk.Store(), k, buf.Bytes()); err != nil {
			t.Fatal(err)
		}
		first, _, _ := key(rs[0])
		last, _, _ := key(rs[len(rs)-1])
		add = append(add, lake.FileEntry{Table: table, Key: k, AccountID: p.acct, Region: p.region, Day: p.day,
			Rows: int64(len(rs)), Size: int64(buf.Len()), MinTime: first, MaxTime: last, SHA256: hex.EncodeToString(sum[:])})
	}
	if _, err := lk.Commit(ctx, snap, lake.Commit{Operation: "test", Add: add}); err != nil {
		t.Fatal(err)
	}
}

func trailKey(e lake.CloudTrailEvent) (time.Time, string, string) {
	return e.EventTime, e.AccountID, e.Region
}
func flowKey(e lake.VPCFlowRecord) (time.Time, string, string) {
	return e.EventTime, e.AccountID, e.Region
}
func dnsKey(e lake.Route53ResolverQuery) (time.Time, string, string) {
	return e.EventTime, e.AccountID, e.Region
}

const acct = "111122223333"

var seq int

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// call is a CloudTrail call by an IAM user.
func call(user, when, api, region, ip, agent string) lake.CloudTrailEvent {
	seq++
	source, name, _ := cut(api)
	arn := "arn:aws:iam::" + acct + ":user/" + user
	ro := len(name) > 3 && (name[:3] == "Get" || name[:3] == "Lis" || name[:3] == "Des")
	return lake.CloudTrailEvent{
		EventTime: at(when), AccountID: acct, Region: region, EventID: fmt.Sprintf("ev-%06d", seq),
		EventName: name, EventSource: source + ".amazonaws.com", EventType: new("AwsApiCall"), ReadOnly: &ro,
		SourceIPAddress: new(ip), UserAgent: new(agent), UserIdentityType: new("IAMUser"), UserIdentityARN: new(arn),
		PrincipalARN: new(arn), AccessKeyID: new("AKIAEXAMPLE" + fmt.Sprintf("%09d", len(user))), RecipientAccountID: new(acct),
		Lineage: lake.Lineage{SourceKey: "AWSLogs/" + acct + "/CloudTrail/" + region + "/trail.json.gz", SourceLine: int64(seq), IngestedAt: at(when)},
	}
}

func cut(api string) (string, string, bool) {
	for i := range api {
		if api[i] == ':' {
			return api[:i], api[i+1:], true
		}
	}
	return "", api, false
}

func open(t *testing.T, lk *lake.Lake, hist, from, to time.Time) *Investigator {
	t.Helper()
	iv, err := Open(context.Background(), lk, Span{HistoryFrom: hist, From: from, To: to}, engine.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return iv
}

// pagesOf builds the pages of entities (KIND:VALUE) in one Pages call, as a run writes them, over the
// window 2026-03-10 with history from 2026-03-01.
func pagesOf(t *testing.T, lk *lake.Lake, entities ...string) []*entity.Page {
	t.Helper()
	var reqs []Request
	for _, e := range entities {
		l, err := entity.ParseEntity(e)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, Request{Entity: l})
	}
	iv := open(t, lk, at("2026-03-01T00:00:00Z"), at("2026-03-10T00:00:00Z"), at("2026-03-11T00:00:00Z"))
	pages, err := iv.Pages(context.Background(), reqs)
	if err != nil {
		t.Fatal(err)
	}
	return pages
}

// rowsByTable is the rows in the window per table on the page.
func rowsByTable(p *entity.Page) map[string]int64 {
	got := map[string]int64{}
	for _, tb := range p.Tables {
		got[tb.Name] = tb.Rows
	}
	return got
}
