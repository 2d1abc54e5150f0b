package alb

import (
	"fmt"
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

func num[T int32 | int64 | float64](p *T) string {
	if p == nil {
		return "<NULL>"
	}
	return fmt.Sprint(*p)
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("../../testdata/awsdocs/alb/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The seven example entries of the ALB user guide: every column of the HTTPS one, and what differs in
// the others (no target for Lambda, a failed Lambda call, a redirect, the region of another target group).
func TestParseDocExamples(t *testing.T) {
	rows, bad, err := parseAll(t, readDoc(t, "alb_doc_examples.log"), Options{Key: "k", FallbackAccount: "123456789012", FallbackRegion: "us-east-2"})
	if err != nil || len(bad) > 0 || len(rows) != 7 {
		t.Fatalf("rows %d, bad %v, err %v; want 7 rows", len(rows), bad, err)
	}
	r := rows[1]
	for _, c := range []struct{ col, got, want string }{
		{"event_time", r.EventTime.Format(time.RFC3339Nano), "2018-07-02T22:23:00.186641Z"},
		{"account_id", r.AccountID, "123456789012"},
		{"region", r.Region, "us-east-2"},
		{"type", r.Type, "https"},
		{"elb", r.ELB, "app/my-loadbalancer/50dc6c495c0c9188"},
		{"client_ip", str(r.ClientIP), "192.168.131.39"},
		{"client_port", num(r.ClientPort), "2817"},
		{"client_ip_v4", num(r.ClientIPV4), "3232269095"},
		{"target_ip", str(r.TargetIP), "10.0.0.1"},
		{"target_port", num(r.TargetPort), "80"},
		{"request_processing_time", num(r.RequestProcessingTime), "0.086"},
		{"target_processing_time", num(r.TargetProcessingTime), "0.048"},
		{"response_processing_time", num(r.ResponseProcessingTime), "0.037"},
		{"elb_status_code", num(r.ELBStatusCode), "200"},
		{"target_status_code", num(r.TargetStatusCode), "200"},
		{"received_bytes", num(r.ReceivedBytes), "0"},
		{"sent_bytes", num(r.SentBytes), "57"},
		{"request_method", str(r.RequestMethod), "GET"},
		{"request_url", str(r.RequestURL), "https://www.example.com:443/"},
		{"request_protocol", str(r.RequestProtocol), "HTTP/1.1"},
		{"user_agent", str(r.UserAgent), "curl/7.46.0"},
		{"ssl_cipher", str(r.SSLCipher), "ECDHE-RSA-AES128-GCM-SHA256"},
		{"ssl_protocol", str(r.SSLProtocol), "TLSv1.2"},
		{"target_group_arn", str(r.TargetGroupARN), "arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067"},
		{"trace_id", str(r.TraceID), "Root=1-58337281-1d84f3d73c47ec4e58577259"},
		{"domain_name", str(r.DomainName), "www.example.com"},
		{"chosen_cert_arn", str(r.ChosenCertARN), "arn:aws:acm:us-east-2:123456789012:certificate/12345678-1234-1234-1234-123456789012"},
		{"matched_rule_priority", num(r.MatchedRulePriority), "1"},
		{"request_creation_time", r.RequestCreationTime.Format(time.RFC3339Nano), "2018-07-02T22:22:48.364Z"},
		{"actions_executed", str(r.ActionsExecuted), "authenticate,forward"},
		{"redirect_url", str(r.RedirectURL), "<NULL>"},
		{"error_reason", str(r.ErrorReason), "<NULL>"},
		{"target_port_list", str(r.TargetPortList), "10.0.0.1:80"},
		{"target_status_code_list", str(r.TargetStatusCodeList), "200"},
		{"classification", str(r.Classification), "<NULL>"},
		{"classification_reason", str(r.ClassificationReason), "<NULL>"},
		{"conn_trace_id", str(r.ConnTraceID), "<NULL>"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.col, c.got, c.want)
		}
	}
	if rows[0].SSLCipher != nil || rows[0].DomainName != nil || rows[0].Type != "http" {
		t.Errorf("HTTP entry: ssl_cipher %s domain_name %s", str(rows[0].SSLCipher), str(rows[0].DomainName))
	}
	if str(rows[2].RedirectURL) != "https://example.com:80/" || str(rows[2].RequestProtocol) != "HTTP/2.0" {
		t.Errorf("h2 redirect: redirect_url %s protocol %s", str(rows[2].RedirectURL), str(rows[2].RequestProtocol))
	}
	if lambda := rows[5]; lambda.TargetIP != nil || lambda.TargetPort != nil || lambda.TargetPortList != nil {
		t.Errorf("Lambda target: target_ip %s", str(lambda.TargetIP))
	}
	if failed := rows[6]; num(failed.ELBStatusCode) != "502" || failed.TargetStatusCode != nil || str(failed.ErrorReason) != "LambdaInvalidResponse" {
		t.Errorf("failed Lambda call: %s %s %s", num(failed.ELBStatusCode), num(failed.TargetStatusCode), str(failed.ErrorReason))
	}
	if rows[6].SourceLine != 7 || rows[6].SourceKey != "k" {
		t.Errorf("lineage of the last row: %+v", rows[6].Lineage)
	}
}

// AWS adds fields at the end: entries of the 2019 format (25 fields) parse, the columns added since are
// NULL, and fields unknown to lakehunt after the last known one are ignored.
func TestParseFormatsOverTime(t *testing.T) {
	old, bad, err := parseAll(t, readDoc(t, "alb_doc_examples_2019.log"), Options{})
	if err != nil || len(bad) > 0 || len(old) != 7 {
		t.Fatalf("2019 format: rows %d bad %v err %v", len(old), bad, err)
	}
	if old[1].TargetPortList != nil || str(old[1].ActionsExecuted) != "authenticate,forward" || old[1].AccountID != "123456789012" || old[4].Region != "us-west-2" {
		t.Errorf("2019 HTTPS entry: %s %s %s/%s", str(old[1].TargetPortList), str(old[1].ActionsExecuted), old[1].AccountID, old[4].Region)
	}
	line := strings.SplitN(readDoc(t, "alb_doc_examples.log"), "\n", 2)[0]
	newer := line + ` "Severe" "BadContentLength" TID_0123456789abcdef "www.example.com" "/index.html" "-" "a-field-from-2030" 42`
	rows, bad, err := parseAll(t, newer+"\n", Options{})
	if err != nil || len(bad) > 0 || len(rows) != 1 {
		t.Fatalf("newer format: rows %d bad %v err %v", len(rows), bad, err)
	}
	// The doc line ends with classification "-" and classification_reason "-"; the appended ones are later fields.
	if str(rows[0].ConnTraceID) != "Severe" || rows[0].Classification != nil {
		t.Errorf("field 30: conn_trace_id %s, classification %s", str(rows[0].ConnTraceID), str(rows[0].Classification))
	}
}

func TestSplitRequest(t *testing.T) {
	for _, c := range []struct{ in, method, url, proto string }{
		{"GET http://www.example.com:80/ HTTP/1.1", "GET", "http://www.example.com:80/", "HTTP/1.1"},
		{"- - - ", "<NULL>", "<NULL>", "<NULL>"},
		{"GET https://a.example:443/x y?z=1 2 HTTP/1.1", "GET", "https://a.example:443/x y?z=1 2", "HTTP/1.1"},
		{"PRI", "PRI", "<NULL>", "<NULL>"},
		{"GET /only", "GET", "/only", "<NULL>"},
	} {
		var parts [3]string
		m, u, p := splitRequest(c.in, &parts)
		if str(m) != c.method || str(u) != c.url || str(p) != c.proto {
			t.Errorf("%q: %s | %s | %s", c.in, str(m), str(u), str(p))
		}
	}
}

const good = `https 2024-05-01T10:02:03.123456Z app/web/0123456789abcdef 198.51.100.7:40000 10.0.1.10:8080 0.001 0.010 0.000 200 200 300 1200 "GET https://app.example.com:443/login HTTP/1.1" "curl/8.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1 "Root=1-6632131b-0123456789abcdef01234567" "app.example.com" "-" 1 2024-05-01T10:02:03.110000Z "forward" "-" "-" "10.0.1.10:8080" "200" "-" "-"`

func TestParseFields(t *testing.T) {
	for _, c := range []struct {
		name, line, client, port, ua string
	}{
		{"IPv6 client, as ALB writes it", strings.Replace(good, "198.51.100.7:40000", "2001:db8::7:40000", 1), "2001:db8::7", "40000", "curl/8.0"},
		{"IPv6 client in brackets", strings.Replace(good, "198.51.100.7:40000", "[2001:db8::7]:40000", 1), "2001:db8::7", "40000", "curl/8.0"},
		{"escaped quote in the user agent", strings.Replace(good, `"curl/8.0"`, `"say \"hi\" \\o/"`, 1), "198.51.100.7", "40000", `say "hi" \o/`},
		{"CRLF", good + "\r", "198.51.100.7", "40000", "curl/8.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, bad, err := parseAll(t, c.line+"\n", Options{})
			if err != nil || len(bad) > 0 || len(rows) != 1 {
				t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
			}
			if r := rows[0]; str(r.ClientIP) != c.client || num(r.ClientPort) != c.port || str(r.UserAgent) != c.ua || r.AccountID != "111122223333" || r.Region != "eu-west-1" {
				t.Errorf("client %s:%s ua %s partition %s/%s", str(r.ClientIP), num(r.ClientPort), str(r.UserAgent), r.AccountID, r.Region)
			}
		})
	}
}

func TestParseBadRecords(t *testing.T) {
	noTG := strings.Replace(good, "arn:aws:elasticloadbalancing:eu-west-1:111122223333:targetgroup/web/1", "-", 1)
	for _, c := range []struct {
		name, in  string
		o         Options
		rows      int
		bad       []badRec
		objectErr string
	}{
		{name: "junk mid-file", in: good + "\nhello world\n\n" + good + "\n", rows: 2, bad: []badRec{{2, "2 fields; an ALB access log entry has at least 13 (type ... \"request\")"}}},
		{name: "cut off inside a quote", in: good + "\n" + good[:strings.Index(good, "login")] + "\n", rows: 1, bad: []badRec{{2, "field 13: quoted field not closed"}}},
		{name: "cut off between fields", in: good + "\n" + good[:strings.Index(good, ` "GET`)] + "\n", rows: 1, bad: []badRec{{2, "12 fields; an ALB access log entry has at least 13 (type ... \"request\")"}}},
		{name: "bad time", in: good + "\n" + strings.Replace(good, "2024-05-01T10:02:03.123456Z", "yesterday", 1), rows: 1, bad: []badRec{{2, `time "yesterday" is not an ISO 8601 time`}}},
		{name: "bad status", in: strings.Replace(good, " 200 200 ", " 2xx 200 ", 1), bad: []badRec{{1, `elb_status_code "2xx" does not parse`}}},
		{name: "bad client", in: strings.Replace(good, "198.51.100.7:40000", "somewhere", 1), bad: []badRec{{1, `client:port "somewhere" does not parse`}}},
		{name: "no space after a quote", in: strings.Replace(good, `"curl/8.0" `, `"curl/8.0"x `, 1), bad: []badRec{{1, "field 14: no space after the closing quote"}}},
		{name: "no account", in: noTG, bad: []badRec{{1, "no account and region: the object key has none and target_group_arn is not an ARN"}}},
		{name: "account from the key", in: noTG, o: Options{FallbackAccount: "111122223333", FallbackRegion: "eu-west-1"}, rows: 1},
		{name: "too long", in: good + "\n" + good + strings.Repeat(" x", 300) + "\n" + good, o: Options{MaxRecordBytes: 500}, rows: 2, bad: []badRec{{2, fmt.Sprintf("line is %d bytes, over the 500-byte limit", len(good)+600)}}},
		{name: "not ALB logs at all", in: `{"eventVersion":"1.08"}` + "\n" + good, objectErr: `not ALB access logs (type, then an ISO 8601 time, space-separated): starts with "{\"eventVersion\":\"1.08\"}"`},
		{name: "not ALB logs, a long first line", in: strings.Repeat("x", 600) + "\n" + good, o: Options{MaxRecordBytes: 500}, objectErr: `not ALB access logs (type, then an ISO 8601 time, space-separated): starts with "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"`},
		{name: "NLB log", in: "tls 2.0 2018-12-20T02:59:40 net/my-network-loadbalancer/c6e77e28c25b2234 g3d4b5e8bb8464cd 72.21.218.154:51341 172.100.100.185:443 5 2 98 246 - arn:aws:acm:us-east-2:671290407336:certificate/2a108f19-aded-46b0-8493-c63eb1ef4a99 - ECDHE-RSA-AES128-SHA tlsv12 - my-network-loadbalancer-c6e77e28c25b2234.elb.us-east-2.amazonaws.com\n",
			objectErr: `not ALB access logs (type, then an ISO 8601 time, space-separated): starts with "tls 2.0 2018-12-20T02:59:40 net/"`},
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
			if !slicesEqual(bad, c.bad) {
				t.Errorf("bad %v, want %v", bad, c.bad)
			}
		})
	}
}

func slicesEqual(a, b []badRec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A line of several MB over the limit is skipped without holding it.
func TestParseLongLineBounded(t *testing.T) {
	in := good + "\n" + strings.Replace(good, "curl/8.0", strings.Repeat("a", 8<<20), 1) + "\n" + good + "\n"
	rows, bad, err := parseAll(t, in, Options{})
	if err != nil || len(rows) != 2 || len(bad) != 1 || !strings.HasPrefix(bad[0].reason, fmt.Sprintf("line is %d bytes", len(good)+8<<20-8)) {
		t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
	}
}

func TestClassify(t *testing.T) {
	const dir = "AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/01/"
	for _, c := range []struct{ name, reason string }{
		{"123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz", ""},
		{"123456789012_elasticloadbalancing_us-east-2_net.my-nlb.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz", "a Network Load Balancer log: not read (the alb table holds Application Load Balancer logs)"},
		{"123456789012_elasticloadbalancing_us-east-2_my-loadbalancer_20140215T2340Z_172.160.001.192_20sg8hgm.log", "a Classic Load Balancer log: not read (the alb table holds Application Load Balancer logs)"},
		{"conn_log.123456789012_elasticloadbalancing_us-east-2_app.my-loadbalancer.1234567890abcdef_20140215T2340Z_172.160.001.192_20sg8hgm.log.gz", "an ALB connection log: not read (the alb table holds access logs)"},
		{"notes.txt", "load balancer log files end in .log.gz"},
		{"x.log.gz", "not a load balancer log file name (ACCOUNT_elasticloadbalancing_REGION_app.NAME.ID_...)"},
	} {
		info := rawkey.Classify("bucket/prefix/" + dir + c.name)
		if info.Source != Table || info.Reason != c.reason || (info.Kind == rawkey.Events) != (c.reason == "") || info.AccountID != "123456789012" {
			t.Errorf("%s: %+v", c.name, info)
		}
		if c.reason == "" && (info.Region != "us-east-2" || info.Day != time.Date(2016, 5, 1, 0, 0, 0, 0, time.UTC) ||
			info.FileTime != time.Date(2014, 2, 15, 23, 40, 0, 0, time.UTC) || info.Key != dir+c.name) {
			t.Errorf("region, day, file time, key: %+v", info)
		}
	}
	for key, reason := range map[string]string{
		"AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/05/x.log.gz":    "expected REGION/YYYY/MM/DD/FILE after elasticloadbalancing/",
		"AWSLogs/123456789012/elasticloadbalancing/us-east-2/2016/13/01/x.log.gz": "bad date folders 2016/13/01",
	} {
		if info := rawkey.Classify(key); info.Source != Table || info.Reason != reason {
			t.Errorf("%s: %+v", key, info)
		}
	}
}

func TestFixture(t *testing.T) {
	files := map[string]string{}
	put := func(k string, b []byte) error { files[k] = string(b); return nil }
	other := strings.Replace(good, "10:02:03.123456Z", "10:07:00.000000Z", 1)
	if err := fixture(good+"\n"+good+"\n\n"+other+"\n", time.Time{}, put); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/05/01/111122223333_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20240501T1005Z_198.51.100.1_test.log.gz",
		"AWSLogs/111122223333/elasticloadbalancing/eu-west-1/2024/05/01/111122223333_elasticloadbalancing_eu-west-1_app.web.0123456789abcdef_20240501T1010Z_198.51.100.1_test.log.gz",
	}
	if got := sortedKeys(files); !slicesEqualStr(got, want) {
		t.Fatalf("keys %v, want %v", got, want)
	}
	for k := range files {
		if info := rawkey.Classify(k); info.Kind != rawkey.Events || info.Source != Table {
			t.Errorf("%s: %+v", k, info)
		}
	}
	if err := fixture("hello\n", time.Time{}, put); err == nil || err.Error() != `alb event 1: 1 fields; an ALB access log entry has at least 13 (type ... "request")` {
		t.Errorf("bad event: %v", err)
	}
	if err := fixture([]any{}, time.Time{}, put); err == nil {
		t.Error("a list is not log text")
	}
}

func sortedKeys(m map[string]string) []string {
	var out []string
	for k := range maps.Keys(m) {
		out = append(out, k)
	}
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func slicesEqualStr(a, b []string) bool { return strings.Join(a, "\n") == strings.Join(b, "\n") }

// The generator is deterministic, writes keys compact reads as ALB logs, and every line parses.
func TestGenerate(t *testing.T) {
	gen := func() map[string]string {
		var mu sync.Mutex
		out := map[string]string{}
		n, err := generate(source.GenConfig{Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), Days: 2, Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, Seed: 3, PerDay: 200},
			func(k string, body []byte) error {
				mu.Lock()
				defer mu.Unlock()
				out[k] = string(body)
				return nil
			})
		if err != nil || n != 400 {
			t.Fatalf("n %d err %v", n, err)
		}
		return out
	}
	a, b := gen(), gen()
	if len(a) == 0 || !maps.Equal(a, b) {
		t.Fatal("the same config wrote different objects")
	}
	rows, statuses := 0, map[int32]int{}
	for k, body := range a {
		info := rawkey.Classify(k)
		if info.Kind != rawkey.Events || info.Source != Table {
			t.Fatalf("%s: %+v", k, info)
		}
		_, err := Parse(gunzip(t, body), Options{Key: k, FallbackAccount: info.AccountID, FallbackRegion: info.Region},
			func(r *Request) error { rows++; statuses[*r.ELBStatusCode]++; return nil },
			func(n int64, reason string, _ []byte) { t.Errorf("%s line %d: %s", k, n, reason) })
		if err != nil {
			t.Fatal(err)
		}
	}
	// 403: the world's scanners, blocked by the web ACL; nothing they ask for is answered 2xx.
	if rows != 400 || statuses[200] == 0 || statuses[301] == 0 || statuses[403] == 0 {
		t.Errorf("rows %d, status codes %v", rows, statuses)
	}
}
