package engine

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/lake"
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The window reaches DuckDB as named parameters, compared as UTC whatever the machine's time zone.
func TestWindowParametersAreUTC(t *testing.T) {
	t.Setenv("TZ", "America/Los_Angeles")
	ctx := context.Background()
	lk := newLake(t)
	commitEvents(t, lk, []lake.CloudTrailEvent{
		ev("a", "2024-03-01T23:59:59Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2"),
		ev("a", "2024-03-02T00:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2"),
		ev("a", "2024-03-02T23:59:59Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2"),
		ev("a", "2024-03-03T00:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2"),
	})
	snap, _ := lk.Snapshot(ctx)
	var paths []string
	for _, f := range snap.Files {
		paths = append(paths, filepath.Join(lk.URL(), f.Key))
	}
	s, err := NewSession(ctx, map[string][]string{lake.TableCloudTrail: paths}, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Query(ctx, "SELECT count(*) AS n FROM cloudtrail WHERE event_time >= $window_start AND event_time < $window_end",
		Window{Start: mustTime("2024-03-02T00:00:00Z"), End: mustTime("2024-03-03T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Rows[0][0]; got != int64(2) {
		t.Fatalf("rows in [2024-03-02, 2024-03-03) = %v, want 2", got)
	}
}

func TestMacros(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cases := []struct{ expr, want string }{
		{"ua_family('aws-cli/2.15.0 Python/3.11.6 Darwin/23.1.0')", "aws-cli"},
		{"ua_family('[aws-cli/2.15.0 Python/3.11.6]')", "aws-cli"},
		{"ua_family('Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0')", "boto3"},
		{"ua_family('S3 Browser 9.5.5 https://s3browser.com')", "s3 browser"},
		{"ua_family('')", "(empty)"},
		{"ua_family(NULL)", "(empty)"},
		{"ua_family('console.amazonaws.com')", "aws-service"},
		{"ua_family('AWS Internal')", "aws-service"},
		{"is_access_denied('AccessDenied')", "true"},
		{"is_access_denied('Client.UnauthorizedOperation')", "true"},
		{"is_access_denied('AccessDeniedException')", "true"},
		{"is_access_denied('ThrottlingException')", "false"},
		{"is_access_denied(NULL)", "false"},
		{"is_service_call('ec2.amazonaws.com', '203.0.113.1')", "true"},
		{"is_service_call(NULL, 'AWS Internal')", "true"},
		{"is_service_call(NULL, 'cloudformation.amazonaws.com')", "true"},
		{"is_service_call(NULL, '203.0.113.1')", "false"},
		{"is_write(false, 'ListBuckets')", "true"},
		{"is_write(NULL, 'ListBuckets')", "false"},
		{"is_write(NULL, 'CreateUser')", "true"},
		{"zscore(10, 2, 4)", "2.0"},
		{"zscore(3, 0, 0)", "3.0"},
		// 14 days: 2 days with 7 failures, 12 with none; today 7.
		{"round(zscore_days(7, 14, 98, 14, 1), 3)", "2.449"},
		// The same baseline (daily mean 1, variance 6) against a 4-day window with 28 failures:
		// mean 4, stddev √(6·4) = 4.899, z = 24 / 4.899.
		{"round(zscore_days(28, 14, 98, 14, 4), 3)", "4.899"},
		{"arn_resource_type('arn:aws:iam::1:root')", "AwsAccount"},
		{"arn_resource_type('arn:aws:iam::1:role/x')", "AwsIamRole"},
		{"arn_resource_type('arn:aws:iam::1:user/x')", "AwsIamUser"},
		// The organization (set below): 111122223333 and 444455556666.
		{"outside_org('111122223333')", "false"},
		{"outside_org('999988887777')", "true"},
		{"outside_org('*')", "false"},
		{"outside_org(NULL)", "false"},
		{"outside_org('99998888777')", "false"},
		{`account_ids('{"Principal":{"AWS":["arn:aws:iam::999988887777:root","444455556666"]},"x":"1234567890123"}')`, "[444455556666, 999988887777]"},
		{`list_filter(account_ids('{"AWS":"arn:aws:iam::999988887777:role/x","b":"arn:aws:iam::111122223333:root"}'), a -> outside_org(a))`, "[999988887777]"},
		{"account_ids(NULL)", "[]"},
		{`grants_public('{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}')`, "true"},
		{`grants_public('{"Statement":[{"Principal":{"AWS": [ "*" ]}}]}')`, "true"},
		{`grants_public('{"bucketPolicy":"{\"Statement\":[{\"Principal\":\"*\"}]}"}')`, "true"},
		{`grants_public('{"createVolumePermission":{"add":{"items":[{"group":"all"}]}}}')`, "true"},
		{`grants_public('<Grantee><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee>')`, "true"},
		{`grants_public('{"Statement":[{"Principal":{"AWS":"arn:aws:iam::999988887777:root"}}]}')`, "false"},
		{`grants_public('{"createVolumePermission":{"add":{"items":[{"userId":"999988887777"}]}}}')`, "false"},
		{"grants_public(NULL)", "false"},
		{"is_public_ip('198.51.100.7')", "true"},
		{"is_public_ip('100.128.0.1')", "true"},
		{"is_public_ip('172.32.0.1')", "true"},
		{"is_public_ip('2a0e:1234::1')", "true"},
		{"is_public_ip('10.0.1.5')", "false"},
		{"is_public_ip('172.31.255.1')", "false"},
		{"is_public_ip('192.168.1.1')", "false"},
		{"is_public_ip('100.64.3.3')", "false"},
		{"is_public_ip('169.254.169.254')", "false"},
		{"is_public_ip('127.0.0.1')", "false"},
		{"is_public_ip('0.0.0.0')", "false"},
		{"is_public_ip('224.0.0.251')", "false"},
		{"is_public_ip('255.255.255.255')", "false"},
		{"is_public_ip('fd12:3456:789a::1')", "false"},
		{"is_public_ip('fe80::1')", "false"},
		{"is_public_ip('::1')", "false"},
		{"is_public_ip('::ffff:10.0.0.1')", "false"},
		{"is_public_ip('-')", "false"},
		{"is_public_ip('ec2.amazonaws.com')", "false"},
		{"is_public_ip(NULL)", "false"},
	}
	if err := s.SetOrganization(ctx, []string{"111122223333", "444455556666"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetOrganization(ctx, []string{"1111'; DROP"}); err == nil {
		t.Error("SetOrganization accepted an account id that is not 12 digits")
	}
	for _, c := range cases {
		t.Run(c.expr, func(t *testing.T) {
			res, err := s.Query(ctx, "SELECT CAST("+c.expr+" AS VARCHAR)", Window{})
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Rows[0][0]; got != c.want {
				t.Errorf("%s = %v, want %s", c.expr, got, c.want)
			}
		})
	}
}

// plantedLake has ten days of ordinary behaviour and, on 2024-08-20, the planted new behaviour.
func plantedLake(t testing.TB) *lake.Lake {
	lk := newLake(t)
	var events []lake.CloudTrailEvent
	for d := 10; d < 20; d++ {
		day := "2024-08-" + itoa2(d)
		events = append(events,
			ev("alice", day+"T09:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2.15.0 Python/3.11"),
			ev("alice", day+"T09:05:00Z", "s3.amazonaws.com", "GetObject", "us-east-1", "aws-cli/2.15.0 Python/3.11"),
			ev("bob", day+"T10:00:00Z", "ec2.amazonaws.com", "DescribeInstances", "us-east-1", "Boto3/1.34.0"),
		)
	}
	commitEvents(t, lk, events)
	commitEvents(t, lk, []lake.CloudTrailEvent{
		ev("alice", "2024-08-20T09:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2.17.0 Python/3.12"),
		ev("alice", "2024-08-20T09:30:00Z", "iam.amazonaws.com", "CreateAccessKey", "us-east-1", "Boto3/1.34.0"),
		ev("alice", "2024-08-20T09:31:00Z", "iam.amazonaws.com", "CreateAccessKey", "us-east-1", "Boto3/1.34.0"),
		ev("bob", "2024-08-20T10:00:00Z", "ec2.amazonaws.com", "DescribeInstances", "eu-west-1", "Boto3/1.35.2"),
		ev("carol", "2024-08-20T11:00:00Z", "iam.amazonaws.com", "CreateUser", "us-east-1", "aws-cli/2"),
	})
	return lk
}

func itoa2(d int) string { return string([]byte{byte('0' + d/10), byte('0' + d%10)}) }

func TestNewBehaviourFindsExactlyThePlantedBehaviour(t *testing.T) {
	ctx := context.Background()
	lk := plantedLake(t)
	h := libraryHunt(t, "cloudtrail-new-behaviour")
	opts := RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, To: mustTime("2024-08-21T00:00:00Z"),
		Now: func() time.Time { return mustTime("2024-08-21T00:10:00Z") }, CacheDir: t.TempDir()}
	run, findings, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if run.FailedCount != 0 {
		t.Fatalf("hunt failed: %+v", run.Hunts)
	}
	type want struct {
		entity, severity string
		count            int64
		fields           map[string]string
	}
	wants := []want{
		{"arn:aws:iam::111122223333:user/alice", "HIGH", 2, map[string]string{
			"new_apis": `["iam.amazonaws.com:CreateAccessKey"]`, "new_write_apis": `["iam.amazonaws.com:CreateAccessKey"]`,
			"new_user_agents": `["boto3"]`, "new_regions": `null`, "history_days": `10`}},
		{"arn:aws:iam::111122223333:user/bob", "MEDIUM", 1, map[string]string{
			"new_apis": `null`, "new_regions": `["eu-west-1"]`, "new_user_agents": `null`}},
	}
	if len(findings) != len(wants) {
		t.Fatalf("got %d findings, want %d: %+v", len(findings), len(wants), findings)
	}
	for i, w := range wants {
		f := findings[i]
		if f.Entity.Key != w.entity || f.Severity != w.severity || f.Count != w.count {
			t.Errorf("finding %d = %s %s count %d, want %s %s count %d", i, f.Entity.Key, f.Severity, f.Count, w.entity, w.severity, w.count)
		}
		for k, v := range w.fields {
			if b, _ := json.Marshal(f.Fields[k]); string(b) != v {
				t.Errorf("%s: field %s = %s, want %s", w.entity, k, b, v)
			}
		}
		if len(f.Evidence) != int(w.count) || f.Evidence[0].SourceKey == "" || f.Evidence[0].SourceLine == 0 {
			t.Errorf("%s: evidence without lineage: %+v", w.entity, f.Evidence)
		}
		if f.WindowStart != mustTime("2024-08-20T00:00:00Z") || f.HuntVersion != h.Version || f.SQLHash != h.SQLHash() {
			t.Errorf("%s: window/version/hash not set: %+v", w.entity, f)
		}
	}
	if hr := run.Hunts[0]; hr.BaselineStart != mustTime("2024-07-21T00:00:00Z") || hr.Findings != 2 {
		t.Errorf("hunt run = %+v", hr)
	}
	if len(run.Coverage) != 1 || run.Coverage[0].Rows != 5 || run.Coverage[0].Files != 2 {
		t.Errorf("coverage = %+v, want the 5 rows of the window in 2 files", run.Coverage)
	}
	var hourly int64
	for _, n := range run.Coverage[0].Hourly {
		hourly += n
	}
	if len(run.Coverage[0].Hourly) != 24 || hourly != 5 {
		t.Errorf("hourly rows %v, want the 5 rows over the window's 24 hours", run.Coverage[0].Hourly)
	}

	// The same window again, with the baseline now from the cache: the same findings and ids.
	_, again, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(findings) {
		t.Fatalf("second run found %d, first %d", len(again), len(findings))
	}
	for i := range findings {
		if again[i].ID != findings[i].ID || again[i].Severity != findings[i].Severity {
			t.Errorf("re-run changed finding %d: %s/%s → %s/%s", i, findings[i].ID, findings[i].Severity, again[i].ID, again[i].Severity)
		}
	}
	// A new version of the hunt updates the same findings.
	h2 := *h
	h2.Version++
	opts.Hunts = []*huntfile.Hunt{&h2}
	_, v2, err := Run(ctx, opts)
	if err != nil || len(v2) != 2 || v2[0].ID != findings[0].ID {
		t.Errorf("new hunt version changed finding ids: %v %+v", err, v2)
	}
}

// A baseline hunt on a lake with too little history does what its cold_start rule says, and run.json
// records how much baseline it had: new-behaviour skips (everything is new), failure-spike caps at LOW.
func TestColdStart(t *testing.T) {
	ctx := context.Background()
	lk := newLake(t)
	var events []lake.CloudTrailEvent
	for i := range 8 { // a new principal's burst of denials, on the lake's first and second day
		e := ev("mallory", fmt.Sprintf("2024-08-20T09:0%d:00Z", i), "iam.amazonaws.com", "ListUsers", "us-east-1", "aws-cli/2")
		e.ErrorCode = new("AccessDenied")
		events = append(events, e)
	}
	events = append(events, ev("bob", "2024-08-19T10:00:00Z", "ec2.amazonaws.com", "DescribeInstances", "us-east-1", "Boto3/1.34.0"))
	commitEvents(t, lk, events)
	opts := RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{libraryHunt(t, "cloudtrail-new-behaviour"), libraryHunt(t, "cloudtrail-failure-spike")},
		From: mustTime("2024-08-20T00:00:00Z"), To: mustTime("2024-08-21T00:00:00Z"), Now: func() time.Time { return mustTime("2024-08-21T00:10:00Z") }}
	run, findings, err := Run(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	nb, fs := run.Hunts[0], run.Hunts[1]
	if nb.Status != "skipped" || !strings.Contains(nb.SkipReason, "cold start: 1 of 30 baseline days hold data, the hunt needs 3") {
		t.Errorf("new-behaviour = %s %q, want skipped for its cold start", nb.Status, nb.SkipReason)
	}
	if fs.Status != "ok" || fs.BaselineDays != 14 || fs.BaselineDaysWithData != 1 || !strings.Contains(fs.ColdStart, "severity capped at LOW (1 of 1 findings lowered)") {
		t.Errorf("failure-spike = %+v", fs)
	}
	if len(findings) != 1 || findings[0].Severity != "LOW" || !strings.Contains(findings[0].Description, "the hunt rated it") {
		t.Fatalf("findings = %+v, want mallory's burst capped at LOW", findings)
	}
}

func TestFindingIDIsHuntEntityAndWindow(t *testing.T) {
	a, b := mustTime("2024-01-01T00:00:00Z"), mustTime("2024-01-02T00:00:00Z")
	base := FindingID("h", "principal", "arn:x", nil, a, b)
	for name, other := range map[string]string{
		"hunt":      FindingID("h2", "principal", "arn:x", nil, a, b),
		"entity":    FindingID("h", "principal", "arn:y", nil, a, b),
		"qualifier": FindingID("h", "principal", "arn:x", []string{"pacu"}, a, b),
		"window":    FindingID("h", "principal", "arn:x", nil, a, b.Add(time.Hour)),
	} {
		if other == base {
			t.Errorf("a different %s gives the same id", name)
		}
	}
	if FindingID("h", "principal", "arn:x", nil, a, b) != base || len(base) != 32 {
		t.Errorf("id not deterministic or not 32 hex: %s", base)
	}
}

// The baseline cache: a second run reads every day from the cache; late data for one day recomputes
// that day only; the result is the same as without a cache.
func TestBaselineCache(t *testing.T) {
	ctx := context.Background()
	lk := plantedLake(t)
	h := libraryHunt(t, "cloudtrail-new-behaviour")
	w := HuntWindow(h, time.Time{}, mustTime("2024-08-21T00:00:00Z"))
	cache := t.TempDir()
	build := func(cacheDir string) (BaselineStats, [][]any) {
		t.Helper()
		snap, err := lk.Snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		in := dayInput(lk, snap, h, w.BaselineStart, w.Start)
		s, err := NewSession(ctx, map[string][]string{lake.TableCloudTrail: nil}, Limits{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		st, err := s.BuildBaselines(ctx, h, in, cacheDir)
		if err != nil {
			t.Fatal(err)
		}
		res, err := s.Query(ctx, "SELECT entity, dim, value, events, days FROM principal_values ORDER BY ALL", w)
		if err != nil {
			t.Fatal(err)
		}
		return st, res.Rows
	}
	_, uncached := build("")
	first, rows1 := build(cache)
	second, rows2 := build(cache)
	if first.DaysComputed != 10 || first.DaysCached != 0 || second.DaysComputed != 0 || second.DaysCached != 10 {
		t.Errorf("first run %+v, second run %+v; want 10 computed then 10 cached", first, second)
	}
	commitEvents(t, lk, []lake.CloudTrailEvent{ev("alice", "2024-08-15T12:00:00Z", "kms.amazonaws.com", "Decrypt", "us-east-1", "aws-cli/2")})
	third, rows3 := build(cache)
	if third.DaysComputed != 1 || third.DaysCached != 9 {
		t.Errorf("after late data for one day: %+v, want 1 computed, 9 cached", third)
	}
	b1, _ := json.Marshal(rows1)
	bu, _ := json.Marshal(uncached)
	b2, _ := json.Marshal(rows2)
	if string(b1) != string(bu) || string(b2) != string(bu) {
		t.Errorf("cached baseline differs from the uncached one")
	}
	if len(rows3) != len(rows1)+1 || !strings.Contains(mustJSON(rows3), "kms.amazonaws.com:Decrypt") {
		t.Errorf("late data is not in the baseline: %s", mustJSON(rows3))
	}
}

// A run summarises its window's whole days into the baseline cache, so the next day's run, whose baseline
// now includes that window, summarises no history at all; its findings are the same as without a cache.
func TestRunWarmsTheNextDaysBaseline(t *testing.T) {
	ctx := context.Background()
	lk := plantedLake(t)
	h := libraryHunt(t, "cloudtrail-new-behaviour")
	cache := t.TempDir()
	run := func(to, cacheDir string) (string, []lake.Finding) {
		var log bytes.Buffer
		r, fs, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, To: mustTime(to), CacheDir: cacheDir, Log: &log,
			Now: func() time.Time { return mustTime(to).Add(10 * time.Minute) }})
		if err != nil || r.FailedCount != 0 {
			t.Fatalf("run to %s: %v %+v", to, err, r)
		}
		return log.String(), fs
	}
	if first, _ := run("2024-08-20T00:00:00Z", cache); !strings.Contains(first, "; 0 from the cache") {
		t.Fatalf("first run used a cache it could not have: %s", first)
	}
	next, withCache := run("2024-08-21T00:00:00Z", cache)
	if !strings.Contains(next, " 0 summarised") {
		t.Errorf("next day's run summarised history again: %s", next)
	}
	_, without := run("2024-08-21T00:00:00Z", "")
	if mustJSON(withCache) != mustJSON(without) || len(without) == 0 {
		t.Errorf("findings with the warmed cache differ from those without a cache:\n%s\n%s", mustJSON(withCache), mustJSON(without))
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

const brokenHunt = `
id: broken
version: 1
title: A hunt whose query fails at run time
status: experimental
authors: [test]
hypothesis: the runner survives one broken hunt
description: casts a string to an integer
attack: {tactics: [discovery], techniques: [T1580]}
severity: LOW
tables: [cloudtrail]
schedule: "@daily"
window: 24h
query: |
  SELECT CAST(event_name AS INTEGER) AS n FROM cloudtrail
  WHERE event_time >= $window_start AND event_time < $window_end
output:
  entity: {type: principal, key: n}
  title: never
  evidence: n
  types: ["TTPs/Discovery"]
  resources: [{type: Other, id: x}]
false_positives: [none]
tests: [{name: none, window: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z"}, expect: {count: 0}}]
`

func TestOneFailingHuntDoesNotStopTheOthers(t *testing.T) {
	ctx := context.Background()
	lk := plantedLake(t)
	bad, diags := huntfile.Parse(huntfile.Source{Name: "test"}, "broken.yaml", []byte(brokenHunt))
	if bad == nil {
		t.Fatal(diags)
	}
	good := libraryHunt(t, "cloudtrail-new-behaviour")
	run, findings, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{bad, good}, To: mustTime("2024-08-21T00:00:00Z")})
	if err != nil {
		t.Fatal(err)
	}
	if run.FailedCount != 1 || run.Hunts[0].Status != "failed" || !strings.Contains(run.Hunts[0].Error, "Conversion Error") {
		t.Errorf("broken hunt: %+v", run.Hunts[0])
	}
	if run.Hunts[1].Status != "ok" || len(findings) != 2 {
		t.Errorf("good hunt after a broken one: %+v, %d findings", run.Hunts[1], len(findings))
	}

	dir := filepath.Join(t.TempDir(), "run")
	if err := WriteRunDir(dir, run, findings); err != nil {
		t.Fatal(err)
	}
	var back lake.Run
	b, err := os.ReadFile(filepath.Join(dir, lake.RunFile))
	if err != nil || json.Unmarshal(b, &back) != nil || back.FailedCount != 1 || len(back.Hunts) != 2 {
		t.Errorf("run.json does not round-trip: %v %s", err, b)
	}
	f, err := os.Open(filepath.Join(dir, lake.FindingsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := 0
	for sc := bufio.NewScanner(f); sc.Scan(); n++ {
		var fd lake.Finding
		if err := json.Unmarshal(sc.Bytes(), &fd); err != nil || fd.ID != findings[n].ID || fd.GroupID == "" {
			t.Errorf("findings.jsonl line %d (want its id and group_id): %v %+v", n+1, err, fd.GroupID)
		}
	}
	if n != 2 {
		t.Errorf("findings.jsonl has %d lines, want 2", n)
	}
}

// countingStore is a lake store that is not a local directory, so the lake downloads its files into
// the read cache as it does from S3; it counts the data files read.
type countingStore struct {
	lake.Store
	opens *int
}

func (c countingStore) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if strings.HasSuffix(key, ".parquet") {
		*c.opens++
	}
	return c.Store.Open(ctx, key)
}

// On a remote lake, a run downloads the window's files, the day before (for the gap check) and only the
// baseline days it has no summary for.
func TestRemoteLakeFetchesOnlyWhatIsNotCached(t *testing.T) {
	ctx := context.Background()
	local := plantedLake(t)
	// Files the run must not fetch: before its 30-day baseline and after its window.
	commitEvents(t, local, []lake.CloudTrailEvent{ev("alice", "2024-06-01T09:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2")})
	commitEvents(t, local, []lake.CloudTrailEvent{ev("alice", "2024-08-25T09:00:00Z", "s3.amazonaws.com", "ListBuckets", "us-east-1", "aws-cli/2")})
	h := libraryHunt(t, "cloudtrail-new-behaviour")
	baselines := t.TempDir()
	run := func() int {
		opens := 0
		remote := lake.OpenWithStore(countingStore{Store: local.Store(), opens: &opens}, t.TempDir())
		r, fs, err := Run(ctx, RunOptions{Lake: remote, Hunts: []*huntfile.Hunt{h}, To: mustTime("2024-08-21T00:00:00Z"), CacheDir: baselines})
		if err != nil || r.FailedCount > 0 || len(fs) != 2 {
			t.Fatalf("run: %v %+v %d findings", err, r, len(fs))
		}
		return opens
	}
	// plantedLake has one file per baseline day and two in the window (the window's day, committed apart).
	if first := run(); first != 10+2 {
		t.Errorf("first run downloaded %d files, want 12 (10 baseline days + 2 window files)", first)
	}
	// The gap check reads the day before the window too (its last baseline day here); in a scheduled
	// deployment that day was the previous run's window and is in the read cache already.
	if next := run(); next != 2+1 {
		t.Errorf("run with cached baseline summaries downloaded %d files, want 3 (the 2 window files and the day before)", next)
	}
}

// run.json carries each hunt's ATT&CK and Stratus Red Team claims: the report's coverage table reads them.
func TestHuntRunCarriesAttackClaims(t *testing.T) {
	h := libraryHunt(t, "cloudtrail-logging-evasion")
	hr := huntRun(h, Window{})
	if len(h.Attack.Stratus) == 0 || !slices.Equal(hr.Stratus, h.Attack.Stratus) || !slices.Equal(hr.Techniques, h.Attack.Techniques) || !slices.Equal(hr.Tactics, h.Attack.Tactics) {
		t.Errorf("HuntRun attack: tactics %v techniques %v stratus %v; want the hunt's %+v", hr.Tactics, hr.Techniques, hr.Stratus, h.Attack)
	}
}
