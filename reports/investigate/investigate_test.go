package investigate

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

const (
	mallory = "arn:aws:iam::" + acct + ":user/mallory"
	tiIP    = "203.0.113.66"
	cli     = "aws-cli/2.15.0 Python/3.11.6"
)

// plantedLake holds three weeks of mallory's routine work from the office network, then, in the window
// (2026-03-10), recon from the office, StopLogging, and calls from a threat-intel IP with a new agent.
// Someone else works alongside all along.
func plantedLake(t *testing.T, agent string) *lake.Lake {
	lk := newLake(t)
	var evs []lake.CloudTrailEvent
	for d := 1; d <= 8; d++ {
		day := time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC).Format("2006-01-02")
		evs = append(evs,
			call("mallory", day+"T09:00:00Z", "sts:GetCallerIdentity", "us-east-1", "198.51.100.10", cli),
			call("mallory", day+"T09:05:00Z", "s3:ListBuckets", "us-east-1", "198.51.100.11", cli),
			call("trent", day+"T10:00:00Z", "iam:ListUsers", "eu-west-1", "198.51.100.20", cli))
	}
	evs = append(evs,
		call("mallory", "2026-03-10T01:00:00Z", "iam:ListUsers", "us-east-1", "198.51.100.10", cli),
		call("mallory", "2026-03-10T01:01:00Z", "iam:ListRoles", "us-east-1", "198.51.100.10", cli),
		call("mallory", "2026-03-10T01:02:00Z", "sts:GetCallerIdentity", "us-east-1", "198.51.100.10", cli),
		call("mallory", "2026-03-10T02:00:00Z", "cloudtrail:StopLogging", "us-east-1", "198.51.100.10", cli),
		call("mallory", "2026-03-10T03:00:00Z", "s3:ListBuckets", "ap-southeast-2", tiIP, agent),
		call("mallory", "2026-03-10T03:05:00Z", "secretsmanager:GetSecretValue", "ap-southeast-2", tiIP, agent),
		call("trent", "2026-03-10T04:00:00Z", "iam:ListRoles", "eu-west-1", "198.51.100.20", cli))
	commit(t, lk, lake.TableCloudTrail, evs, trailKey)
	return lk
}

func finding(id, hunt, tactic, first, last string, fields map[string]any) lake.Finding {
	return lake.Finding{ID: id, HuntID: hunt, HuntVersion: 1, Title: hunt + " by mallory", Severity: lake.SeverityHigh,
		Entity: lake.Entity{Type: "principal", Key: mallory}, AccountID: acct, Region: "us-east-1",
		FirstSeen: at(first), LastSeen: at(last), Count: 2, Tactics: []string{tactic}, Fields: fields,
		WindowStart: at("2026-03-10T00:00:00Z"), WindowEnd: at("2026-03-11T00:00:00Z")}
}

// The run's findings about mallory, out of time order, plus one about someone else.
func plantedFindings() []lake.Finding {
	return []lake.Finding{
		finding("f-ti", "ti-ip-cloudtrail", "command-and-control", "2026-03-10T03:00:00Z", "2026-03-10T03:05:00Z", map[string]any{"source_ip": tiIP}),
		finding("f-evasion", "cloudtrail-logging-evasion", "defense-evasion", "2026-03-10T02:00:00Z", "2026-03-10T02:00:00Z", nil),
		finding("f-recon", "discovery-burst", "discovery", "2026-03-10T01:00:00Z", "2026-03-10T01:01:00Z", nil),
		{ID: "f-trent", HuntID: "discovery-burst", Severity: lake.SeverityLow, Title: "trent lists roles",
			Entity: lake.Entity{Type: "principal", Key: "arn:aws:iam::" + acct + ":user/trent"}, FirstSeen: at("2026-03-10T04:00:00Z"), LastSeen: at("2026-03-10T04:00:00Z")},
	}
}

func buildPlanted(t *testing.T, agent string) *entity.Page {
	t.Helper()
	lk := plantedLake(t, agent)
	from, to, hist := at("2026-03-10T00:00:00Z"), at("2026-03-11T00:00:00Z"), at("2026-02-20T00:00:00Z")
	iv := open(t, lk, hist, from, to)
	p, err := iv.Build(context.Background(), Request{Entity: group.Link{Kind: group.KindPrincipal, Value: mallory},
		Findings: plantedFindings(), FindingsFrom: "run test"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newIn(tb entity.Table, dim string) []string {
	for _, n := range tb.New {
		if n.Dim == dim {
			var vs []string
			for _, v := range n.Values {
				vs = append(vs, v.Value)
			}
			return vs
		}
	}
	return nil
}

// A principal's recon -> logging evasion -> threat-intel contact reads as one story: its findings in the
// order they happened, in one group, with first/last seen and what was new against its own history.
func TestPlantedPrincipalPage(t *testing.T) {
	p := buildPlanted(t, "python-requests/2.31")

	var hunts []string
	for _, f := range p.Findings {
		hunts = append(hunts, f.HuntID)
	}
	if want := []string{"discovery-burst", "cloudtrail-logging-evasion", "ti-ip-cloudtrail"}; !slices.Equal(hunts, want) {
		t.Errorf("steps %v, want %v", hunts, want)
	}
	if len(p.Groups) != 1 || len(p.Groups[0].Findings) != 3 {
		t.Fatalf("groups %+v, want one group of the 3 findings", p.Groups)
	}
	if want := []string{"discovery", "defense-evasion", "command-and-control"}; !slices.Equal(p.Groups[0].Tactics, want) { // in the order of the steps
		t.Errorf("group tactics %v, want %v", p.Groups[0].Tactics, want)
	}
	if !p.FirstSeen.Equal(at("2026-03-01T09:00:00Z")) || !p.LastSeen.Equal(at("2026-03-10T03:05:00Z")) {
		t.Errorf("first/last seen %s / %s, want 2026-03-01T09:00:00Z / 2026-03-10T03:05:00Z", p.FirstSeen, p.LastSeen)
	}
	if len(p.Tables) != 1 || p.Tables[0].Name != lake.TableCloudTrail {
		t.Fatalf("tables %+v, want cloudtrail only (no flow or DNS data in the lake)", p.Tables)
	}
	ct := p.Tables[0]
	if ct.Rows != 6 || ct.HistoryRows != 16 {
		t.Errorf("cloudtrail rows %d in the window, %d in the history; want 6 and 16 (trent's are not mallory's)", ct.Rows, ct.HistoryRows)
	}
	for dim, want := range map[string][]string{
		"APIs":            {"iam:ListUsers", "iam:ListRoles", "cloudtrail:StopLogging", "secretsmanager:GetSecretValue"},
		"regions":         {"ap-southeast-2"},
		"user agents":     {"python-requests/2.31"},
		"source networks": {"203.0.113.0/24"},
	} {
		if got := newIn(ct, dim); !slices.Equal(got, want) {
			t.Errorf("new %s %v, want %v (in order of first use)", dim, got, want)
		}
	}
	if len(ct.Evidence) != 6 || ct.Evidence[0].SourceKey == "" || ct.Evidence[0].SourceLine == 0 {
		t.Errorf("evidence %+v, want the 6 rows of the window with their object and line", ct.Evidence)
	}
	var total int64
	for _, s := range ct.Series {
		total += s.Total
	}
	if total != 6 || ct.Top[0].Label == "" {
		t.Errorf("activity series sum to %d rows, want 6", total)
	}

	var buf bytes.Buffer
	if err := entity.Render(&buf, p); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	last := -1
	for _, h := range []string{`<code class="hunt">discovery-burst`, `<code class="hunt">cloudtrail-logging-evasion`, `<code class="hunt">ti-ip-cloudtrail`} {
		i := strings.Index(html, h)
		if i <= last {
			t.Errorf("the page does not list %s after the step before it", h)
		}
		last = i
	}
	if strings.Contains(html, "trent lists roles") {
		t.Error("the page shows a finding about someone else")
	}
	for _, s := range []string{"2026-03-01 09:00:00Z", "2026-03-10 03:05:00Z", "secretsmanager:GetSecretValue", "trail.json.gz line "} {
		if !strings.Contains(html, s) {
			t.Errorf("the page does not show %q", s)
		}
	}
	if os.Getenv("LAKEHUNT_ARTIFACTS") != "" {
		_ = os.WriteFile(filepath.Join(os.Getenv("LAKEHUNT_ARTIFACTS"), "entity-planted.html"), buf.Bytes(), 0o644)
	}
}

// Each kind finds the rows of each table that mention it, and nothing else.
func TestMatchEveryKind(t *testing.T) {
	lk := newLake(t)
	const inst, ip, peer = "i-0123456789abcdef0", "10.0.0.5", "198.51.100.99"
	withKey := call("alice", "2026-03-10T01:00:00Z", "s3:GetObject", "us-east-1", ip, cli)
	withKey.AccessKeyID = new("AKIAALICEKEY00000001")
	withKey.RequestParameters = new(`{"bucketName":"secret-bucket","key":"a.txt"}`)
	fromInstance := call("alice", "2026-03-10T02:00:00Z", "ec2:DescribeInstances", "us-east-1", "198.51.100.1", cli)
	fromInstance.UserIdentityPrincipalID = new("AROAEXAMPLE:" + inst)
	other := call("bob", "2026-03-10T03:00:00Z", "s3:GetObject", "us-east-1", "198.51.100.2", cli)
	other.RequestParameters = new(`{"bucketName":"public-bucket"}`)
	commit(t, lk, lake.TableCloudTrail, []lake.CloudTrailEvent{withKey, fromInstance, other}, trailKey)
	flow := func(when, src, dst string, instance *string) lake.VPCFlowRecord {
		seq++
		return lake.VPCFlowRecord{EventTime: at(when), AccountID: acct, Region: "us-east-1", SrcAddr: new(src), DstAddr: new(dst),
			DstPort: new(int32(443)), Protocol: new(int32(6)), InstanceID: instance, Action: new("ACCEPT"),
			Lineage: lake.Lineage{SourceKey: "AWSLogs/flow.log.gz", SourceLine: int64(seq)}}
	}
	commit(t, lk, lake.TableVPCFlow, []lake.VPCFlowRecord{
		flow("2026-03-10T01:00:00Z", ip, peer, new(inst)), flow("2026-03-10T01:01:00Z", peer, ip, new(inst)),
		flow("2026-03-10T01:02:00Z", "10.0.0.6", peer, nil)}, flowKey)
	dns := func(when, name, src string, instance *string, answers string) lake.Route53ResolverQuery {
		seq++
		return lake.Route53ResolverQuery{EventTime: at(when), AccountID: acct, Region: "us-east-1", QueryName: new(name), QueryType: new("A"),
			SrcAddr: new(src), SrcInstanceID: instance, Answers: new(answers), Lineage: lake.Lineage{SourceKey: "AWSLogs/dns.log.gz", SourceLine: int64(seq)}}
	}
	commit(t, lk, lake.TableRoute53Resolver, []lake.Route53ResolverQuery{
		dns("2026-03-10T01:00:00Z", "c2.Evil.example.", ip, new(inst), `[{"Rdata":"`+peer+`","Type":"A"}]`),
		dns("2026-03-10T01:05:00Z", "evil.example.", "10.0.0.6", nil, `[]`),
		dns("2026-03-10T01:06:00Z", "notevil.example.", "10.0.0.6", nil, `[{"Rdata":"`+peer+`0","Type":"A"}]`)}, dnsKey)

	cases := []struct {
		entity string
		rows   map[string]int64 // per table; a table not named does not mention the kind
	}{
		{"principal:" + "arn:aws:iam::" + acct + ":user/alice", map[string]int64{"cloudtrail": 2}},
		{"access-key:AKIAALICEKEY00000001", map[string]int64{"cloudtrail": 1}},
		{"ip:" + ip, map[string]int64{"cloudtrail": 1, "vpc_flow": 2, "route53_resolver": 1}},
		{"ip:" + peer, map[string]int64{"cloudtrail": 0, "vpc_flow": 3, "route53_resolver": 1}},
		{"instance:" + inst, map[string]int64{"cloudtrail": 1, "vpc_flow": 2, "route53_resolver": 1}},
		{"domain:evil.example", map[string]int64{"route53_resolver": 2}},
		{"bucket:secret-bucket", map[string]int64{"cloudtrail": 1}},
	}
	// All pages at once, as a run writes them: each table read for all entities, then each entity's share.
	var entities []string
	for _, tc := range cases {
		entities = append(entities, tc.entity)
	}
	pages := pagesOf(t, lk, entities...)
	for i, tc := range cases {
		if got := rowsByTable(pages[i]); !maps.Equal(got, tc.rows) {
			t.Errorf("%s: rows per table %v, want %v", tc.entity, got, tc.rows)
		}
	}
}

// A busy entity's chart draws its busiest activities and sums the rest as one series; the busiest list
// is ordered by rows.
func TestBusyEntityChart(t *testing.T) {
	lk := newLake(t)
	var flows []lake.VPCFlowRecord
	for i := range 12 { // peer i gets i+1 flows
		for j := 0; j <= i; j++ {
			seq++
			flows = append(flows, lake.VPCFlowRecord{EventTime: at("2026-03-10T01:00:00Z").Add(time.Duration(seq) * time.Minute), AccountID: acct, Region: "us-east-1",
				SrcAddr: new("10.0.0.5"), DstAddr: new(fmt.Sprintf("198.51.100.%d", i)), SrcPort: new(int32(40000 + j)), DstPort: new(int32(443)), Protocol: new(int32(6)),
				Lineage: lake.Lineage{SourceKey: "AWSLogs/flow.log.gz", SourceLine: int64(seq)}})
		}
	}
	commit(t, lk, lake.TableVPCFlow, flows, flowKey)
	iv := open(t, lk, at("2026-03-01T00:00:00Z"), at("2026-03-10T00:00:00Z"), at("2026-03-11T00:00:00Z"))
	p, err := iv.Build(context.Background(), Request{Entity: group.Link{Kind: group.KindIP, Value: "10.0.0.5"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tables) != 1 { // the lake holds no other table
		t.Fatalf("tables %+v, want vpc_flow only", p.Tables)
	}
	tb := p.Tables[0]
	if tb.Name != lake.TableVPCFlow || tb.Rows != 78 {
		t.Fatalf("table %s with %d rows, want vpc_flow with 78", tb.Name, tb.Rows)
	}
	if len(tb.Series) != maxSeries+1 || tb.Series[0].Label != "to 198.51.100.11 port 443/tcp" || tb.Series[maxSeries].Label != "4 other" {
		t.Errorf("series %v, want the %d busiest (198.51.100.11 first) and \"4 other\"", tb.Series, maxSeries)
	}
	var sum, total int64
	for _, s := range tb.Series {
		total += s.Total
		for _, n := range s.Counts {
			sum += n
		}
	}
	if sum != 78 || total != 78 {
		t.Errorf("the chart counts %d rows (totals %d), want 78", sum, total)
	}
	if len(tb.Top) != 12 || tb.Top[0].Count != 12 || tb.Top[11].Count != 1 {
		t.Errorf("busiest %v, want all 12 peers by rows", tb.Top)
	}
	// It has no history: the summary says everything is new rather than "0 new values".
	var buf bytes.Buffer
	if err := entity.Render(&buf, p); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "in <code>vpc_flow</code> it has no history, so all of its activity there is new") {
		t.Error("the summary does not say that the entity has no history in vpc_flow")
	}
}

// A value from the logs with quotes and control characters is data: it finds its rows and nothing else.
func TestHostileValueIsData(t *testing.T) {
	lk := newLake(t)
	odd := "x'OR'1'='1\x1b[31m\u202e.evil.example."
	seq++
	commit(t, lk, lake.TableRoute53Resolver, []lake.Route53ResolverQuery{
		{EventTime: at("2026-03-10T01:00:00Z"), AccountID: acct, Region: "us-east-1", QueryName: new(odd), SrcAddr: new("10.0.0.6"),
			Lineage: lake.Lineage{SourceKey: "AWSLogs/dns.log.gz", SourceLine: int64(seq)}},
		{EventTime: at("2026-03-10T01:01:00Z"), AccountID: acct, Region: "us-east-1", QueryName: new("other.example."), SrcAddr: new("10.0.0.6"),
			Lineage: lake.Lineage{SourceKey: "AWSLogs/dns.log.gz", SourceLine: int64(seq + 1)}},
	}, dnsKey)
	iv := open(t, lk, at("2026-03-01T00:00:00Z"), at("2026-03-10T00:00:00Z"), at("2026-03-11T00:00:00Z"))
	l, ok := group.Normalize(group.KindDomain, odd)
	if !ok {
		t.Fatal("group.Normalize does not take the odd name as a domain")
	}
	p, err := iv.Build(context.Background(), Request{Entity: l})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Tables) != 1 || p.Tables[0].Rows != 1 {
		t.Errorf("tables %+v, want the one row of the odd name", p.Tables)
	}
	if _, err := iv.Build(context.Background(), Request{Entity: group.Link{Kind: group.KindDomain, Value: "a\x00b.example"}}); err == nil {
		t.Error("a value with a NUL byte was used in SQL")
	}
}

// Pages read (and for an S3 lake fetch) only the tables their entities can be in, of those the lake holds.
func TestOnlyTheTablesOfTheKinds(t *testing.T) {
	every := newTablesLake(t) // and one row in each of the lake's own tables
	commit(t, every, lake.TableCloudTrail, []lake.CloudTrailEvent{call("alice", "2026-03-10T01:00:00Z", "s3:ListBuckets", "us-east-1", "198.51.100.1", cli)}, trailKey)
	commit(t, every, lake.TableVPCFlow, []lake.VPCFlowRecord{{EventTime: at("2026-03-10T01:00:00Z"), AccountID: acct, Region: "us-east-1",
		SrcAddr: new("10.0.0.5"), DstAddr: new("198.51.100.1"), Lineage: lineage("AWSLogs/flow.log.gz")}}, flowKey)
	commit(t, every, lake.TableRoute53Resolver, []lake.Route53ResolverQuery{{EventTime: at("2026-03-10T01:00:00Z"), AccountID: acct, Region: "us-east-1",
		QueryName: new("example.com."), SrcAddr: new("10.0.0.5"), Lineage: lineage("AWSLogs/dns.log.gz")}}, dnsKey)
	trailOnly := plantedLake(t, cli)
	for _, tc := range []struct {
		lake  *lake.Lake
		kinds []string
		want  []string
	}{
		{every, []string{group.KindPrincipal, group.KindAccessKey}, []string{"cloudtrail", "guardduty", "securityhub"}},
		{every, []string{group.KindDomain}, []string{"guardduty", "route53_resolver", "securityhub"}},
		{every, []string{group.KindBucket}, []string{"cloudtrail", "guardduty", "securityhub"}},
		{every, []string{group.KindPrincipal, group.KindInstance}, []string{"cloudtrail", "guardduty", "hids", "route53_resolver", "securityhub", "vpc_flow"}},
		{every, []string{group.KindIP}, []string{"alb", "cloudtrail", "guardduty", "hids", "route53_resolver", "securityhub", "vpc_flow", "waf"}},
		{trailOnly, []string{group.KindPrincipal, group.KindAccessKey}, []string{"cloudtrail"}},
		{trailOnly, []string{group.KindDomain}, nil},
		{trailOnly, []string{group.KindIP, group.KindInstance}, []string{"cloudtrail"}},
	} {
		iv := open(t, tc.lake, at("2026-02-20T00:00:00Z"), at("2026-03-10T00:00:00Z"), at("2026-03-11T00:00:00Z"))
		var reqs []Request
		for _, k := range tc.kinds {
			reqs = append(reqs, Request{Entity: group.Link{Kind: k, Value: "x"}})
		}
		files, err := iv.files(context.Background(), reqs)
		if err != nil {
			t.Fatal(err)
		}
		if got := slices.Sorted(maps.Keys(files)); !slices.Equal(got, tc.want) {
			t.Errorf("kinds %v read tables %v, want %v", tc.kinds, got, tc.want)
		}
	}
}
