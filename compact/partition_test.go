package compact

import (
	"fmt"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// tableBuf.add files each row under its account, region and UTC day, in order, whatever runs of rows
// share a partition: around midnight, with times in other zones than UTC, and across accounts.
func TestAddFilesRowsByAccountRegionAndUTCDay(t *testing.T) {
	tokyo := time.FixedZone("JST", 9*3600)
	midnight := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
	row := func(acct, region string, at time.Time) *lake.Route53ResolverQuery {
		return &lake.Route53ResolverQuery{AccountID: acct, Region: region, EventTime: at}
	}
	for _, tc := range []struct {
		name string
		rows []*lake.Route53ResolverQuery
	}{
		{"one partition", []*lake.Route53ResolverQuery{row("1", "r", midnight), row("1", "r", midnight.Add(time.Hour))}},
		{"midnight", []*lake.Route53ResolverQuery{row("1", "r", midnight.Add(-time.Nanosecond)), row("1", "r", midnight),
			row("1", "r", midnight.Add(24*time.Hour-time.Nanosecond)), row("1", "r", midnight.Add(24*time.Hour)), row("1", "r", midnight.Add(-time.Hour))}},
		{"other zones", []*lake.Route53ResolverQuery{row("1", "r", midnight.Add(-time.Hour).In(tokyo)), row("1", "r", midnight.Add(time.Hour).In(tokyo)),
			row("1", "r", midnight.Add(-time.Minute))}},
		{"accounts and regions", []*lake.Route53ResolverQuery{row("1", "r", midnight), row("2", "r", midnight), row("1", "r", midnight),
			row("1", "s", midnight), row("1", "s", midnight), row("2", "r", midnight)}},
		{"empty", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newTableBuf(lake.TableRoute53Resolver, func(r *lake.Route53ResolverQuery) time.Time { return r.EventTime },
				func(r *lake.Route53ResolverQuery) (string, string) { return r.AccountID, r.Region }, nil, "",
				func(r *lake.Route53ResolverQuery) *lake.Lineage { return &r.Lineage })
			b.add(tc.rows[:len(tc.rows)/2])
			b.add(tc.rows[len(tc.rows)/2:])
			want := map[partKey][]*lake.Route53ResolverQuery{}
			for _, r := range tc.rows {
				k := partKey{r.AccountID, r.Region, r.EventTime.UTC().Format(time.DateOnly)}
				want[k] = append(want[k], r)
			}
			got := b.take().(map[partKey][]*lake.Route53ResolverQuery)
			if fmt.Sprint(got) != fmt.Sprint(want) || b.buffered() != 0 {
				t.Errorf("partitions %v, want %v", got, want)
			}
		})
	}
}
