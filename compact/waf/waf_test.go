package waf

import (
	"bufio"
	"encoding/json"
	"maps"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
)

type badRec struct {
	n      int64
	reason string
}

func parseAll(t *testing.T, in string, o Options) ([]*Request, []badRec, error) {
	t.Helper()
	var rows []*Request
	var bad []badRec
	_, err := Parse(strings.NewReader(in), o, func(r *Request) error { rows = append(rows, r); return nil },
		func(n int64, reason string, _ []byte) { bad = append(bad, badRec{n, reason}) })
	return rows, bad, err
}

func str(p *string) string {
	if p == nil {
		return "<NULL>"
	}
	return *p
}

// The six example records of the AWS WAF developer guide, pretty-printed one after the other.
func TestParseDocExamples(t *testing.T) {
	b, err := os.ReadFile("../../testdata/awsdocs/waf/waf_doc_examples.json")
	if err != nil {
		t.Fatal(err)
	}
	rows, bad, err := parseAll(t, string(b), Options{Key: "k"})
	if err != nil || len(bad) > 0 || len(rows) != 6 {
		t.Fatalf("rows %d, bad %v, err %v; want 6 rows", len(rows), bad, err)
	}
	r := rows[0]
	for _, c := range []struct{ col, got, want string }{
		{"event_time", r.EventTime.Format(time.RFC3339Nano), "2019-12-13T23:40:12.771Z"},
		{"account_id", r.AccountID, "111122223333"},
		{"region", r.Region, "ap-southeast-2"},
		{"web_acl_name", str(r.WebACLName), "STMTest"},
		{"action", str(r.Action), "BLOCK"},
		{"terminating_rule_id", str(r.TerminatingRuleID), "STMTest_SQLi_XSS"},
		{"terminating_rule_type", str(r.TerminatingRuleType), "REGULAR"},
		{"terminating_rule_match_details", str(r.TerminatingRuleMatchDetails), `[{"conditionType":"SQL_INJECTION","sensitivityLevel":"HIGH","location":"HEADER","matchedData":["10","AND","1"]}]`},
		{"source_name", str(r.SourceName), "<NULL>"}, // "-"
		{"client_ip", str(r.ClientIP), "1.1.1.1"},
		{"country", str(r.Country), "AU"},
		{"host", str(r.Host), "localhost:1989"},
		{"user_agent", str(r.UserAgent), "curl/7.61.1"},
		{"uri", str(r.URI), "/myUri"},
		{"args", str(r.Args), ""},
		{"http_method", str(r.HTTPMethod), "GET"},
		{"request_id", str(r.RequestID), "rid"},
		{"labels", str(r.Labels), `[{"name":"value"}]`},
		{"rule_groups", str(r.RuleGroups), "[]"},
		{"response_code", strings.TrimSpace(strings.Repeat("<NULL>", boolInt(r.ResponseCode == nil))), "<NULL>"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.col, c.got, c.want)
		}
	}
	if r.ClientIPV4 == nil || *r.ClientIPV4 != 1<<24|1<<16|1<<8|1 {
		t.Errorf("client_ip_v4 = %v, want 16843009", r.ClientIPV4)
	}
	if !strings.Contains(str(rows[2].RuleGroups), `"ruleId":"RuleA-XSS"`) || str(rows[2].TerminatingRuleType) != "GROUP" {
		t.Errorf("rule group example: rule_groups %s, type %s", str(rows[2].RuleGroups), str(rows[2].TerminatingRuleType))
	}
	if rows[3].RequestID != nil || str(rows[3].SourceName) != "ALB" {
		t.Errorf(`requestId "null" must be NULL (got %q), httpSourceName ALB kept (got %q)`, str(rows[3].RequestID), str(rows[3].SourceName))
	}
	if rows[1].Region != "us-east-1" || str(rows[1].WebACLName) != "hello-world" {
		t.Errorf("global web ACL: region %q name %q", rows[1].Region, str(rows[1].WebACLName))
	}
	if rows[5].SourceLine != 6 || rows[5].SourceKey != "k" {
		t.Errorf("lineage of the last row: %+v", rows[5].Lineage)
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Every WAF record of Panther's rule tests parses (they carry RFC 3339 timestamps, as normalised logs do).
func TestParsePantherSamples(t *testing.T) {
	f, err := os.Open("../../testdata/panther/aws_wafwebacl.tests.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in strings.Builder
	lines := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var test struct {
			Log json.RawMessage `json:"log"`
		}
		if err := json.Unmarshal(sc.Bytes(), &test); err != nil {
			t.Fatal(err)
		}
		in.Write(test.Log)
		in.WriteByte('\n')
		lines++
	}
	rows, bad, err := parseAll(t, in.String(), Options{})
	if err != nil || len(bad) > 0 || len(rows) != lines {
		t.Fatalf("%d lines: %d rows, bad %v, err %v", lines, len(rows), bad, err)
	}
	r := rows[0]
	if r.EventTime != time.Date(2024, 3, 20, 10, 30, 0, 0, time.UTC) || r.AccountID != "123456789012" || str(r.ClientIP) != "203.0.113.45" ||
		str(r.TerminatingRuleID) != "AWS-AWSManagedRulesAdminProtectionRuleSet" || str(r.URI) != "/wp-admin/" {
		t.Errorf("first Panther record: %s %s %s %s %s", r.EventTime, r.AccountID, str(r.ClientIP), str(r.TerminatingRuleID), str(r.URI))
	}
}

const (
	recA = `{"timestamp":1700000000000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1","action":"ALLOW","httpRequest":{"clientIp":"2001:db8::1","requestId":"a"}}`
	recB = `{"timestamp":1700000001000,"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1","action":"BLOCK","httpRequest":{"clientIp":"198.51.100.7","requestId":"b","uri":"/x?{}"}}`
)

// Direct delivery writes a record per line, Firehose concatenates them with no separator: same rows.
func TestParseDelimiting(t *testing.T) {
	for name, in := range map[string]string{
		"lines":              recA + "\n" + recB + "\n",
		"crlf, no final EOL": recA + "\r\n" + recB,
		"concatenated":       recA + recB,
		"byte-order mark":    "\xef\xbb\xbf" + recA + recB,
	} {
		t.Run(name, func(t *testing.T) {
			rows, bad, err := parseAll(t, in, Options{})
			if err != nil || len(bad) > 0 || len(rows) != 2 {
				t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
			}
			if str(rows[0].RequestID) != "a" || str(rows[1].RequestID) != "b" || str(rows[1].URI) != "/x?{}" || rows[0].ClientIPV4 != nil || *rows[1].ClientIPV4 != 3325256711 {
				t.Errorf("rows %+v %+v", rows[0], rows[1])
			}
		})
	}
}

func TestParseBadRecords(t *testing.T) {
	noACL := `{"timestamp":1700000000000,"action":"ALLOW"}`
	for _, c := range []struct {
		name, in  string
		o         Options
		rows      int
		bad       []badRec
		objectErr string
	}{
		{name: "not JSON mid-file", in: recA + "\nhello world\n" + recB, rows: 2, bad: []badRec{{2, "not a JSON object"}}},
		{name: "no timestamp", in: recA + `{"webaclId":"arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1"}`, rows: 1, bad: []badRec{{2, "no timestamp (milliseconds since the epoch)"}}},
		{name: "no account", in: noACL, bad: []badRec{{1, "no account and region: webaclId is not a web ACL ARN and the object key has none"}}},
		{name: "account from the key", in: noACL, o: Options{FallbackAccount: "111122223333", FallbackRegion: "us-east-1"}, rows: 1},
		{name: "invalid JSON", in: `{"timestamp":1,}` + recA, rows: 1, bad: []badRec{{1, "not a WAF log record: invalid character '}' looking for beginning of object key string"}}},
		{name: "wrong type", in: `{"timestamp":1700000000000,"action":7}` + recB, rows: 1, bad: []badRec{{1, "not a WAF log record: json: cannot unmarshal number into Go struct field record.action of type string"}}},
		{name: "too long", in: recA + `{"timestamp":1700000000000,"x":"` + strings.Repeat("a", 300) + `"}` + recB, o: Options{MaxRecordBytes: 200}, rows: 2, bad: []badRec{{2, "record is 334 bytes, over the 200-byte limit"}}},
		{name: "cut off", in: recA + `{"timestamp":1700000000000,"action":"AL`, rows: 1, bad: []badRec{{2, "JSON object cut off at the end of the file"}}},
		{name: "nested too deep", in: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}" + recA, rows: 1, bad: []badRec{{1, "JSON nested deeper than 512 levels"}}},
		{name: "not WAF logs at all", in: "2 123456789012 eni-1 ...\n", objectErr: `not WAF logs (JSON objects, one per line or concatenated): starts with "2 123456789012 eni-1 ..."`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, bad, err := parseAll(t, c.in, c.o)
			if c.objectErr != "" {
				if err == nil || err.Error() != c.objectErr {
					t.Fatalf("err %v, want %q", err, c.objectErr)
				}
				return
			}
			if err != nil || len(rows) != c.rows {
				t.Fatalf("rows %d err %v, want %d rows", len(rows), err, c.rows)
			}
			if len(bad) != len(c.bad) {
				t.Fatalf("bad %v, want %v", bad, c.bad)
			}
			for i := range bad {
				if bad[i] != c.bad[i] {
					t.Errorf("bad %v, want %v", bad[i], c.bad[i])
				}
			}
		})
	}
}

// A record of several MB over the limit is skipped without holding it.
func TestParseLongRecordBounded(t *testing.T) {
	in := recA + `{"x":"` + strings.Repeat("a", 8<<20) + `"}` + recB
	rows, bad, err := parseAll(t, in, Options{})
	if err != nil || len(rows) != 2 || len(bad) != 1 || !strings.HasPrefix(bad[0].reason, "record is 8388616 bytes") {
		t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
	}
}

func TestFixtureKeys(t *testing.T) {
	var keys []string
	events := []any{
		map[string]any{"timestamp": "2024-05-01T10:07:00Z", "webaclId": "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1"},
		map[string]any{"timestamp": float64(1714558020000), "webaclId": "arn:aws:wafv2:eu-west-1:111122223333:regional/webacl/app/1"},
	}
	err := fixture(events, time.Time{}, func(k string, b []byte) error { keys = append(keys, k); return nil })
	want := "AWSLogs/111122223333/WAFLogs/eu-west-1/app/2024/05/01/10/05/111122223333_waflogs_eu-west-1_app_20240501T1005Z_test.log.gz"
	if err != nil || len(keys) != 1 || keys[0] != want {
		t.Fatalf("keys %v err %v, want [%s]", keys, err, want)
	}
	if err := fixture([]any{map[string]any{"timestamp": 1}}, time.Time{}, nil); err == nil || !strings.Contains(err.Error(), "needs webaclId") {
		t.Errorf("event without webaclId: %v", err)
	}
}

func TestGenerateDeterministic(t *testing.T) {
	gen := func() map[string]string {
		var mu sync.Mutex
		out := map[string]string{}
		n, err := generate(sourceGen(), func(k string, body []byte) error {
			mu.Lock()
			defer mu.Unlock()
			out[k] = string(body)
			return nil
		})
		if err != nil || n != 2*50 {
			t.Fatalf("n %d err %v", n, err)
		}
		return out
	}
	a, b := gen(), gen()
	if len(a) == 0 || !maps.Equal(a, b) {
		t.Error("the same config wrote different objects")
	}
	for k := range a {
		if info := rawKeyInfo(k); info != "" {
			t.Errorf("%s: %s", k, info)
		}
	}
}

// rawKeyInfo checks a generated key against the direct-delivery layout.
func rawKeyInfo(key string) string {
	var info rawkey.Info
	rest := strings.Split(key, "/")
	if len(rest) != 11 || rest[0] != "AWSLogs" || rest[2] != "WAFLogs" {
		return "not AWSLogs/ACCOUNT/WAFLogs/..."
	}
	classify(&info, "WAFLogs", rest[3:])
	if info.Kind != rawkey.Events {
		return info.Reason
	}
	return ""
}

func sourceGen() source.GenConfig {
	return source.GenConfig{Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), Days: 2, Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, Seed: 3, PerDay: 50}
}
