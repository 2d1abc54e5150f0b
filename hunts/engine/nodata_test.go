package engine

import (
	"context"
	"slices"
	"testing"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// A hunt whose window holds no rows of a table it reads checked nothing there: the run says so per hunt
// (HuntRun.NoData) and NoDataIn names the table, the window and the newest data the lake has.
func TestRunSaysWhenAWindowHadNoData(t *testing.T) {
	ctx := context.Background()
	lk := newLake(t)
	// One file for the day: its first and last rows are 00:00 and 23:59, nothing in between.
	commitEvents(t, lk, []lake.CloudTrailEvent{
		ev("alice", "2025-06-16T00:00:00Z", "iam.amazonaws.com", "ListUsers", "us-east-1", "aws-cli/2"),
		ev("alice", "2025-06-16T23:59:00Z", "iam.amazonaws.com", "ListUsers", "us-east-1", "aws-cli/2"),
	})
	evasion, ti := libraryHunt(t, "cloudtrail-logging-evasion"), libraryHunt(t, "ti-ip-cloudtrail")
	for _, c := range []struct {
		name, from, to string
		noData         [][]string // per hunt
		want           []string   // NoDataIn, in order
	}{
		{"a year after the newest data", "2026-11-26T00:00:00Z", "2026-12-03T00:00:00Z",
			[][]string{{"cloudtrail"}, {"cloudtrail", "ti_indicators"}},
			[]string{
				"no cloudtrail data in 2026-11-26T00:00Z..2026-12-03T00:00Z (newest: 2025-06-16T23:59Z); hunts cloudtrail-logging-evasion, ti-ip-cloudtrail checked nothing",
				"no ti_indicators data in the lake; hunt ti-ip-cloudtrail checked nothing",
			}},
		{"inside a file, between its rows", "2025-06-16T10:00:00Z", "2025-06-16T12:00:00Z",
			[][]string{{"cloudtrail"}, {"cloudtrail", "ti_indicators"}},
			[]string{
				"no cloudtrail data in 2025-06-16T10:00Z..2025-06-16T12:00Z (newest: 2025-06-16T23:59Z); hunts cloudtrail-logging-evasion, ti-ip-cloudtrail checked nothing",
				"no ti_indicators data in the lake; hunt ti-ip-cloudtrail checked nothing",
			}},
		{"over the data", "2025-06-15T00:00:00Z", "2025-06-17T00:00:00Z",
			[][]string{nil, {"ti_indicators"}},
			[]string{"no ti_indicators data in the lake; hunt ti-ip-cloudtrail checked nothing"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run, _, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{evasion, ti}, From: mustTime(c.from), To: mustTime(c.to)})
			if err != nil {
				t.Fatal(err)
			}
			for i, h := range run.Hunts {
				if h.Status != "ok" || !slices.Equal(h.NoData, c.noData[i]) {
					t.Errorf("hunt %s: status %s, no data in %v; want ok, %v", h.ID, h.Status, h.NoData, c.noData[i])
				}
			}
			var got []string
			for _, n := range NoDataIn(run) {
				got = append(got, n.String())
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("NoDataIn:\n got %q\nwant %q", got, c.want)
			}
		})
	}
}
