package harness

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
)

func loadLibrary(t *testing.T) []*huntfile.Hunt {
	t.Helper()
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: library.FS, Name: "hunts/library"})
	if err != nil || len(diags) > 0 {
		t.Fatalf("load library: %v %v", err, diags)
	}
	return hs
}

// Every shipped hunt's inline tests pass through the real compactor and the real SQL.
func TestLibrary(t *testing.T) {
	var out bytes.Buffer
	sum, err := RunTests(context.Background(), loadLibrary(t), nil, nil, engine.Limits{}, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 || sum.Passed < 10 {
		t.Fatalf("%d passed, %d failed:\n%s", sum.Passed, sum.Failed, out.String())
	}
	t.Log(out.String())
}

// A test whose expectation the hunt does not meet fails, and says how: the harness is not a rubber stamp.
// Each case breaks one expectation of a shipped hunt's first test that expects findings.
func TestWrongExpectationsFail(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(e *huntfile.Expect)
		want   string
	}{
		{"count", func(e *huntfile.Expect) { e.Count++ }, "want %d findings, got"},
		{"severity", func(e *huntfile.Expect) { e.Findings[0].Severity = "INFORMATIONAL" }, "severity"},
		{"entity", func(e *huntfile.Expect) { e.Findings[0].Entity = "arn:aws:iam::000000000000:user/nobody" }, `no finding for entity "arn:aws:iam::000000000000:user/nobody"`},
		{"field", func(e *huntfile.Expect) { e.Findings[0].Fields = map[string]any{"event_count": 987654} }, "event_count"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var h *huntfile.Hunt
			var test *huntfile.Test
			for _, lh := range loadLibrary(t) {
				if lh.ID == "root-account-usage" {
					h = lh
				}
			}
			for i := range h.Tests {
				if h.Tests[i].Expect.Count > 0 && len(h.Tests[i].Expect.Findings) > 0 {
					test = &h.Tests[i]
					break
				}
			}
			if test == nil {
				t.Fatal("root-account-usage has no test that expects findings")
			}
			want := c.want
			if strings.Contains(want, "%d") {
				want = fmt.Sprintf(want, test.Expect.Count+1)
			}
			c.mutate(&test.Expect)
			h.Tests = []huntfile.Test{*test}
			var out bytes.Buffer
			sum, err := RunTests(context.Background(), []*huntfile.Hunt{h}, nil, nil, engine.Limits{}, &out)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Failed != 1 || sum.Passed != 0 || !strings.Contains(out.String(), "--- FAIL") || !strings.Contains(out.String(), want) {
				t.Errorf("broken %s expectation: %d passed, %d failed; want 1 failure mentioning %q:\n%s", c.name, sum.Passed, sum.Failed, want, out.String())
			}
		})
	}
}

// A hunt test holds events of any registered source under the source's name: here WAF records, written
// in WAF's delivery layout by the waf source's fixture writer and compacted like the others.
func TestRegisteredSourceEvents(t *testing.T) {
	var h *huntfile.Hunt
	for _, lh := range loadLibrary(t) {
		if lh.ID == "root-account-usage" {
			h = lh
		}
	}
	h.Tables = []string{"waf"}
	h.Query = `SELECT client_ip AS root_arn, min(account_id) AS account_id, min(region) AS region,
	  list(DISTINCT terminating_rule_id) AS event_names, list(DISTINCT client_ip) AS source_ips, list(DISTINCT user_agent) AS user_agents,
	  0 AS changes, 0 AS logins_without_mfa, 1 AS succeeded, count(*) AS event_count, min(event_time) AS first_seen, max(event_time) AS last_seen,
	  list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line}) AS evidence
	FROM waf WHERE event_time >= $window_start AND event_time < $window_end AND action = 'BLOCK' GROUP BY client_ip`
	rec := func(ms int64, action, ip string) any {
		return map[string]any{"timestamp": ms, "webaclId": "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1", "action": action,
			"terminatingRuleId": "AWS-AWSManagedRulesSQLiRuleSet", "httpRequest": map[string]any{"clientIp": ip, "requestId": ip}}
	}
	test := h.Tests[0]
	test.Window.Start, test.Window.End = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	test.Events = map[string]any{"waf": []any{rec(1714557900000, "BLOCK", "198.51.100.2"), rec(1714557901000, "ALLOW", "198.51.100.3")}}
	test.Expect = huntfile.Expect{Count: 1, Findings: []huntfile.ExpectFinding{{Entity: "198.51.100.2"}}}
	h.Tests = []huntfile.Test{test}
	var out bytes.Buffer
	sum, err := RunTests(context.Background(), []*huntfile.Hunt{h}, nil, nil, engine.Limits{}, &out)
	if err != nil || sum.Passed != 1 {
		t.Fatalf("%v\n%s", err, out.String())
	}

	// hids is delivered only under configured prefixes: its fixture writes under hids/, which the
	// harness maps to it.
	h.Tables = []string{"hids"}
	h.Query = `SELECT agent_ip AS root_arn, min(account_id) AS account_id, min(region) AS region,
	  list(DISTINCT rule_id) AS event_names, list(DISTINCT agent_ip) AS source_ips, list(DISTINCT agent_name) AS user_agents,
	  0 AS changes, 0 AS logins_without_mfa, 1 AS succeeded, count(*) AS event_count, min(event_time) AS first_seen, max(event_time) AS last_seen,
	  list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line}) AS evidence
	FROM hids WHERE event_time >= $window_start AND event_time < $window_end AND rule_level >= 12 GROUP BY agent_ip`
	alert := func(ts, id string, level int, ip string) any {
		return map[string]any{"timestamp": ts, "id": id, "rule": map[string]any{"id": "510", "level": level}, "manager": map[string]any{"name": "m"},
			"agent": map[string]any{"id": "001", "name": "web-1", "ip": ip, "labels": map[string]any{"aws": map[string]any{"account_id": "111122223333", "region": "eu-west-1"}}}}
	}
	test.Events = map[string]any{"hids": []any{alert("2024-05-01T10:00:00.000+0000", "1714557600.0", 12, "10.0.0.5"), alert("2024-05-01T11:00:00.000+0000", "1714561200.0", 3, "10.0.0.6")}}
	test.Expect = huntfile.Expect{Count: 1, Findings: []huntfile.ExpectFinding{{Entity: "10.0.0.5"}}}
	h.Tests = []huntfile.Test{test}
	out.Reset()
	sum, err = RunTests(context.Background(), []*huntfile.Hunt{h}, nil, nil, engine.Limits{}, &out)
	if err != nil || sum.Passed != 1 {
		t.Fatalf("hids: %v\n%s", err, out.String())
	}

	test.Events = map[string]any{"wafx": []any{}}
	if err := Materialize(&test, t.TempDir()); err == nil || !strings.Contains(err.Error(), `test has "wafx" events, but wafx is not a source with test events (sources: `+strings.Join(compact.Sources, ", ")+")") {
		t.Errorf("unknown source: %v", err)
	}
}

// Hunt tests hold GuardDuty and Security Hub findings too, and hunts read the newest version of each
// finding from the _latest views: an instance with an open HIGH GuardDuty finding and an Inspector CVE in
// Security Hub is found; one whose HIGH finding was archived in its newest version is not.
func TestFindingSourceEvents(t *testing.T) {
	var h *huntfile.Hunt
	for _, lh := range loadLibrary(t) {
		if lh.ID == "root-account-usage" {
			h = lh
		}
	}
	h.Tables = []string{"guardduty", "securityhub"}
	h.Query = `SELECT g.instance_id AS root_arn, g.account_id, g.region, list(DISTINCT g.type) AS event_names, [] AS source_ips, [] AS user_agents,
	  0 AS changes, 0 AS logins_without_mfa, 1 AS succeeded, count(*) AS event_count, min(g.event_time) AS first_seen, max(g.event_time) AS last_seen,
	  list({'event_time': g.event_time, 'source_key': g.source_key, 'source_line': g.source_line}) AS evidence
	FROM guardduty_latest g JOIN securityhub_latest s ON json_contains(s.resource_ids, to_json('arn:aws:ec2:eu-west-1:111122223333:instance/' || g.instance_id))
	WHERE g.severity_label = 'HIGH' AND NOT g.archived AND s.cve_ids IS NOT NULL GROUP BY ALL`
	gd := func(id, instance, updated string, archived bool) any {
		return map[string]any{"id": id, "accountId": "111122223333", "region": "eu-west-1", "type": "Trojan:EC2/DNSDataExfiltration", "severity": 8,
			"updatedAt": updated, "service": map[string]any{"archived": archived}, "resource": map[string]any{"resourceType": "Instance", "instanceDetails": map[string]any{"instanceId": instance}}}
	}
	sh := func(instance string) any {
		return map[string]any{"SchemaVersion": "2018-10-08", "Id": "inspector/" + instance, "ProductArn": "arn:aws:securityhub:eu-west-1::product/aws/inspector",
			"AwsAccountId": "111122223333", "Region": "eu-west-1", "UpdatedAt": "2024-05-01T09:00:00Z", "Vulnerabilities": []any{map[string]any{"Id": "CVE-2024-3094"}},
			"Resources": []any{map[string]any{"Type": "AwsEc2Instance", "Id": "arn:aws:ec2:eu-west-1:111122223333:instance/" + instance}}}
	}
	test := h.Tests[0]
	test.Window.Start, test.Window.End = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)
	test.Events = map[string]any{
		"guardduty":   []any{gd("f1", "i-0aaa", "2024-05-01T10:00:00Z", false), gd("f2", "i-0bbb", "2024-05-01T10:00:00Z", false), gd("f2", "i-0bbb", "2024-05-01T12:00:00Z", true)},
		"securityhub": []any{sh("i-0aaa"), sh("i-0bbb")},
	}
	test.Expect = huntfile.Expect{Count: 1, Findings: []huntfile.ExpectFinding{{Entity: "i-0aaa"}}}
	h.Tests = []huntfile.Test{test}
	var out bytes.Buffer
	sum, err := RunTests(context.Background(), []*huntfile.Hunt{h}, nil, nil, engine.Limits{}, &out)
	if err != nil || sum.Passed != 1 {
		t.Fatalf("%v\n%s", err, out.String())
	}
}
