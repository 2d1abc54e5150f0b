package engine

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

func TestSQLWords(t *testing.T) {
	cases := []struct {
		in    string
		words []string
		ok    bool
	}{
		{"principal_arn", []string{"principal_arn"}, true},
		{`event_source || ':' || "Event_Name"`, []string{"event_source", "event_name"}, true},
		{"json_extract_string(request_parameters, '$.user_agent') -- region\n", []string{"json_extract_string", "request_parameters"}, true},
		{"'it''s region' || user_agent", []string{"user_agent"}, true},
		{"/* region */ user_agent", []string{"user_agent"}, true},
		{"COLUMNS(*)", []string{"columns"}, false},
		{"bytes * 2", []string{"bytes"}, false},
		{"#1", nil, false},
		{"$$region$$", nil, false},
		{"E'a\\'' || region", []string{"e"}, false},
		{"'unterminated", nil, false},
		{`"unterminated`, nil, false},
		{"/* unterminated", nil, false},
		{"lower(x2_y)", []string{"lower", "x2_y"}, true},
	}
	for _, c := range cases {
		words, ok := sqlWords(c.in)
		if ok != c.ok || (ok && !slices.Equal(words, c.words)) || (!ok && c.words != nil && !slices.Equal(words[:len(c.words)], c.words)) {
			t.Errorf("sqlWords(%q) = %q, %v; want %q, %v", c.in, words, ok, c.words, c.ok)
		}
	}
}

func TestFastForms(t *testing.T) {
	ct, err := lake.LookupTable(lake.TableCloudTrail)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name    string
		entity  string
		values  map[string]string
		onePass bool
		groupBy []string
	}{
		{"columns, in the table's order", "principal_arn", map[string]string{"api": "event_source || ':' || event_name", "agent": "ua_family(user_agent)"},
			true, []string{`"event_name"`, `"event_source"`, `"user_agent"`, `"principal_arn"`}},
		{"an unnest", "principal_arn", map[string]string{"x": "unnest([region])"}, false, nil},
		{"the event time", "principal_arn", map[string]string{"day": "CAST(event_time AS DATE)"}, true, nil},
		{"a JSON document", "principal_arn", map[string]string{"name": "json_extract_string(request_parameters, '$.userName')"}, true, nil},
		{"a star", "principal_arn", map[string]string{"x": "length(region) * 2"}, true, nil},
		{"a window", "principal_arn", map[string]string{"x": "row_number() OVER ()"}, true, nil},
		{"random", "principal_arn", map[string]string{"x": "CASE WHEN random() < 0.5 THEN region END"}, true, nil},
		{"our own names", "principal_arn", map[string]string{"x": "__n"}, true, nil},
		{"no column", "'all'", map[string]string{"x": "'x'"}, true, nil},
	}
	for _, c := range cases {
		onePass, groupBy := fastForms(ct, huntfile.Profile{Entity: c.entity, Values: c.values})
		if onePass != c.onePass || !slices.Equal(groupBy, c.groupBy) {
			t.Errorf("%s: fastForms = %v, %q; want %v, %q", c.name, onePass, groupBy, c.onePass, c.groupBy)
		}
	}
}

// summaryLake holds three days of CloudTrail with what profiles trip over: NULL and empty values (the
// view reads an empty string as NULL), several principals, agents and regions, service calls, JSON parameters.
func summaryLake(t *testing.T) (*lake.Lake, []lake.CloudTrailEvent) {
	lk := newLake(t)
	var events []lake.CloudTrailEvent
	agents := []string{"aws-cli/2.15.0 Python/3.11", "Boto3/1.34.0", "", "  ", "Mozilla/5.0 (Windows NT 10.0)", "[aws-sdk-go-v2/1.2]", "ünïcode-agent/1"}
	for d := 1; d <= 3; d++ {
		for n := 0; n < 120; n++ {
			at := fmt.Sprintf("2024-09-%02dT%02d:%02d:00Z", d, n%24, n%60)
			i := n % 30 // each kind of call four times a day
			e := ev([]string{"alice", "bob", "carol"}[i%3], at, []string{"s3.amazonaws.com", "iam.amazonaws.com", "ec2.amazonaws.com"}[i%3],
				[]string{"ListBuckets", "CreateAccessKey", "DescribeInstances", "GetObject", "RunInstances"}[i%5], []string{"us-east-1", "eu-west-1", ""}[i%4%3], agents[i%len(agents)])
			switch i % 7 {
			case 0:
				e.PrincipalARN = nil
			case 1:
				e.UserIdentityInvokedBy = new("cloudformation.amazonaws.com")
			case 2:
				e.ErrorCode = new("AccessDenied")
			case 3:
				e.RequestParameters = new(`{"userName":"mallory","instanceIds":["i-0123456789abcdef0","i-0fedcba9876543210"]}`)
			case 4:
				e.UserAgent = nil
			}
			events = append(events, e)
		}
	}
	commitEvents(t, lk, events)
	return lk, events
}

// The fast forms of a day's summary give exactly what the plain form gives, for the library's CloudTrail
// profiles and for profiles that take each branch of fastForms.
func TestSummaryFormsAgree(t *testing.T) {
	ctx := context.Background()
	lk, _ := summaryLake(t)
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	paths, err := lk.LocalPaths(ctx, snap.FilesFor(lake.TableCloudTrail, mustTime("2024-09-01T00:00:00Z"), mustTime("2024-09-04T00:00:00Z")))
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewSession(ctx, map[string][]string{lake.TableCloudTrail: paths}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ct, _ := lake.LookupTable(lake.TableCloudTrail)
	profiles := []huntfile.Profile{
		{Name: "grouped", Where: "error_code IS NULL", Entity: "principal_arn",
			Values: map[string]string{"api": "event_source || ':' || event_name", "agent": "ua_family(user_agent)", "region": "region"}},
		{Name: "day", Entity: "principal_arn", Values: map[string]string{"day": "CAST(event_time AS DATE)", "region": "region"}},
		{Name: "json", Entity: "coalesce(principal_arn, 'none')", Values: map[string]string{"user": "json_extract_string(request_parameters, '$.userName')"}},
		{Name: "unnest", Entity: "principal_arn", Values: map[string]string{"instance": "unnest(json_extract_string(request_parameters, '$.instanceIds[*]'))", "api": "event_name"}},
		{Name: "empty", Where: "false", Entity: "principal_arn", Values: map[string]string{"api": "event_name"}},
		{Name: "measures", Entity: "principal_arn", Measures: map[string]string{"denied": "count_if(error_code IS NOT NULL)"}},
	}
	grouped := 0
	for _, h := range libraryHuntsWithProfiles(t) {
		for _, p := range h.Baseline.Profiles {
			if p.Table == lake.TableCloudTrail {
				profiles = append(profiles, p)
			}
		}
	}
	for _, p := range profiles {
		for day := 1; day <= 3; day++ {
			start := time.Date(2024, 9, day, 0, 0, 0, 0, time.UTC)
			fast := summarySQL(ct, p, lake.TableCloudTrail, start, start.AddDate(0, 0, 1))
			plain := summaryForm(ct, p, lake.TableCloudTrail, start, start.AddDate(0, 0, 1), formPlain)
			if _, groupBy := fastForms(ct, p); len(p.Values) > 0 && len(groupBy) > 0 && day == 1 {
				grouped++
			}
			var onlyFast, onlyPlain, rows int64
			q := fmt.Sprintf(`WITH f AS (%s), p AS (%s) SELECT (SELECT count(*) FROM (SELECT * FROM f EXCEPT ALL SELECT * FROM p)),
				(SELECT count(*) FROM (SELECT * FROM p EXCEPT ALL SELECT * FROM f)), (SELECT count(*) FROM p)`,
				strings.TrimPrefix(fast, "WITH "), strings.TrimPrefix(plain, "WITH "))
			q = strings.Replace(strings.Replace(q, "WITH f AS (src AS", "WITH f AS (WITH src AS", 1), "p AS (src AS", "p AS (WITH src AS", 1)
			err := s.QueryRows(ctx, q, func(r *sql.Rows) error {
				r.Next()
				return r.Scan(&onlyFast, &onlyPlain, &rows)
			})
			if err != nil {
				t.Fatalf("%s: %v", p.Name, err)
			}
			if onlyFast != 0 || onlyPlain != 0 {
				t.Errorf("%s, day %d: %d rows only in the fast form, %d only in the plain one (of %d)", p.Name, day, onlyFast, onlyPlain, rows)
			}
		}
	}
	if grouped < 2 {
		t.Errorf("only %d profiles were grouped first: the test no longer covers that form", grouped)
	}
}

func libraryHuntsWithProfiles(t *testing.T) []*huntfile.Hunt {
	var hs []*huntfile.Hunt
	for _, id := range []string{"cloudtrail-new-behaviour", "discovery-burst", "secrets-burst", "instance-remote-execution",
		"instance-credentials-outside-ec2", "lambda-code-tampered", "cloudtrail-failure-spike", "bedrock-first-use"} {
		hs = append(hs, libraryHunt(t, id))
	}
	return hs
}

// profileRows builds profile p over the summary lake's three days and returns what q reads from it (all
// of it, in order, when q is "").
func profileRows(t *testing.T, lk *lake.Lake, p huntfile.Profile, cache, q string) [][]any {
	t.Helper()
	ctx := context.Background()
	snap, err := lk.FileSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h := &huntfile.Hunt{ID: "summary", Tables: []string{p.Table}, Baseline: &huntfile.Baseline{Profiles: []huntfile.Profile{p}}}
	s, err := NewSession(ctx, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.BuildBaselines(ctx, h, dayInput(lk, snap, h, mustTime("2024-09-01T00:00:00Z"), mustTime("2024-09-04T00:00:00Z")), cache); err != nil {
		t.Fatalf("cache %q: %v", cache, err)
	}
	if q == "" {
		q = "SELECT * FROM " + ident(p.Name) + " ORDER BY ALL"
	}
	res, err := s.Query(ctx, q, Window{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Rows
}

// A profile whose columns fastForms misreads (here through the CTE's name, which only the plain form has)
// still gets its baseline: the plain form runs instead.
func TestSummaryFallsBackToThePlainForm(t *testing.T) {
	lk, _ := summaryLake(t)
	misread := huntfile.Profile{Name: "p", Table: lake.TableCloudTrail, Entity: "src.principal_arn", Values: map[string]string{"region": "src.region"}}
	ct, _ := lake.LookupTable(lake.TableCloudTrail)
	if _, groupBy := fastForms(ct, misread); len(groupBy) == 0 {
		t.Fatal("the profile is not grouped first: the test does not reach the fallback")
	}
	want := profileRows(t, lk, huntfile.Profile{Name: "p", Table: lake.TableCloudTrail, Entity: "principal_arn", Values: map[string]string{"region": "region"}}, "", "")
	for _, cache := range []string{"", t.TempDir()} {
		if got := profileRows(t, lk, misread, cache, ""); fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("cache %q: profile rows\n%s\nwant\n%s", cache, got, want)
		}
	}
}

// A baseline reads the table as the hunt's query does: an empty string is NULL, so it is no value.
func TestSummaryReadsTheTablesView(t *testing.T) {
	lk, events := summaryLake(t)
	empty := 0
	for _, e := range events {
		if e.Region == "" && e.PrincipalARN != nil {
			empty++
		}
	}
	if empty == 0 {
		t.Fatal("no event without a region: the test checks nothing")
	}
	p := huntfile.Profile{Name: "p", Table: lake.TableCloudTrail, Entity: "principal_arn", Values: map[string]string{"region": "region", "api": "event_name"}}
	r := profileRows(t, lk, p, t.TempDir(), "SELECT count(*) FILTER (WHERE dim = 'region' AND value = ''), sum(events) FILTER (WHERE dim = 'region'), sum(events) FILTER (WHERE dim = 'api') FROM p")[0]
	if r[0] != int64(0) {
		t.Errorf("%v region values are empty strings", r[0])
	}
	if regions, apis := Normalize(r[1]), Normalize(r[2]); fmt.Sprint(apis) == fmt.Sprint(regions) {
		t.Errorf("the region dimension counts %v events, as many as the api one: the %d events without a region were counted", regions, empty)
	}
}
