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
