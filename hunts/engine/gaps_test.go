package engine

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

// A trail that goes silent for 4 hours in a busy account, a trail that stops at 06:00 for the rest of the
// day, and an account whose data stops before the window are all reported as gaps in run.json; a quiet
// stream's silence is not.
func TestCoverageReportsGaps(t *testing.T) {
	ctx := context.Background()
	lk := newLake(t)
	day := mustTime("2024-08-20T00:00:00Z")
	var events []lake.CloudTrailEvent
	for h := 0; h < 24; h++ {
		at := day.Add(time.Duration(h) * time.Hour).Format(time.RFC3339)
		if h < 10 || h >= 14 { // busy: silent 10:00-14:00
			events = append(events, ev("alice", at, "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2"))
		}
		// busy the day before and until its trail stops at 06:00
		events = append(events, ev("dave", day.Add(time.Duration(h-24)*time.Hour).Format(time.RFC3339), "iam.amazonaws.com", "ListRoles", "ap-southeast-2", "aws-cli/2"))
		if h < 6 {
			events = append(events, ev("dave", at, "iam.amazonaws.com", "ListRoles", "ap-southeast-2", "aws-cli/2"))
		}
		if h >= 9 && h < 17 { // working hours only, today and the day before: quiet at night is no gap
			for _, d := range []time.Duration{-24 * time.Hour, 0} {
				events = append(events, ev("erin", day.Add(d+time.Duration(h)*time.Hour).Format(time.RFC3339), "s3.amazonaws.com", "GetObject", "ca-central-1", "Boto3"))
			}
		}
		if h%8 == 0 { // quiet: data in 3 of 24 hours
			events = append(events, ev("bob", at, "ec2.amazonaws.com", "DescribeInstances", "eu-west-1", "Boto3"))
		}
	}
	commitEvents(t, lk, events)
	old := ev("carol", "2024-08-15T09:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-west-2", "aws-cli/2")
	commitEvents(t, lk, []lake.CloudTrailEvent{old})

	h := libraryHunt(t, "cloudtrail-logging-evasion")
	run, _, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, From: day, To: day.Add(24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range run.Coverage {
		for _, g := range c.Gaps {
			got = append(got, fmt.Sprintf("%s %s %s-%s", c.Table, g.Region, g.Start.Format("15"), g.End.Format("15")))
		}
	}
	want := "cloudtrail ap-southeast-2 06-00|cloudtrail us-east-1 10-14|cloudtrail us-west-2 00-00"
	if strings.Join(got, "|") != want {
		t.Errorf("gaps = %q, want %q", got, want)
	}
}

// A run with AllTables lists every lake table in its coverage: the tables no hunt read are marked Unread,
// with their rows in the window counted (so the report shows data that is collected but never hunted) and
// no gaps; without it (hunt diff) only the tables the hunts read are listed.
func TestCoverageListsEveryTable(t *testing.T) {
	ctx := context.Background()
	lk := newLake(t)
	day := mustTime("2024-08-20T00:00:00Z")
	commitEvents(t, lk, []lake.CloudTrailEvent{ev("alice", "2024-08-20T09:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2")})
	var flows []lake.VPCFlowRecord
	for i, at := range []string{"2024-08-20T01:00:00Z", "2024-08-20T02:00:00Z", "2024-08-21T02:00:00Z"} { // the last is after the window
		src := fmt.Sprintf("10.0.0.%d", i)
		flows = append(flows, lake.VPCFlowRecord{EventTime: mustTime(at), AccountID: "111122223333", Region: "us-east-1", SrcAddr: &src})
	}
	commitRows(t, lk, lake.TableVPCFlow, flows, func(r lake.VPCFlowRecord) (string, string, time.Time) { return r.AccountID, r.Region, r.EventTime })
	h := libraryHunt(t, "root-account-usage")
	if len(h.Tables) != 1 || h.Tables[0] != lake.TableCloudTrail {
		t.Fatalf("the test needs a hunt that reads cloudtrail only; root-account-usage reads %v", h.Tables)
	}
	for _, all := range []bool{false, true} {
		run, _, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, From: day, To: day.Add(24 * time.Hour), AllTables: all})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]lake.Coverage{}
		for _, c := range run.Coverage {
			got[c.Table] = c
		}
		if ct := got[lake.TableCloudTrail]; ct.Unread || ct.Rows != 1 {
			t.Errorf("AllTables=%v: cloudtrail coverage %+v, want read, 1 row", all, ct)
		}
		flow, listed := got[lake.TableVPCFlow]
		if !all {
			if len(run.Coverage) != 1 {
				t.Errorf("without AllTables the coverage lists %d tables, want only cloudtrail", len(run.Coverage))
			}
			continue
		}
		for _, tbl := range lake.Tables() {
			if _, ok := got[tbl.Name]; !ok {
				t.Errorf("AllTables: table %s missing from the coverage", tbl.Name)
			}
		}
		if !listed || !flow.Unread || flow.Rows != 2 || flow.Files != 1 || len(flow.Gaps) != 0 || len(flow.Hourly) != 0 {
			t.Errorf("AllTables: vpc_flow coverage %+v, want unread, 2 rows in the window, 1 file, no gaps or hourly counts", flow)
		}
	}
	// A window that ends inside the file (after the 01:00 flow, before the 02:00 one) counts its rows in it.
	run, _, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, From: day, To: day.Add(90 * time.Minute), AllTables: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range run.Coverage {
		if c.Table == lake.TableVPCFlow && c.Rows != 1 {
			t.Errorf("window 00:00-01:30: vpc_flow rows %d, want 1", c.Rows)
		}
	}
}
