package route53

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

var testdata = filepath.Join("..", "..", "testdata")

type badLine struct {
	no     int64
	reason string
	sample string
}

type result struct {
	rows []*lake.Route53ResolverQuery
	bad  []badLine
	n    int64
	err  error
}

func parse(r io.Reader, o Options) result {
	var res result
	res.n, res.err = Parse(r, o,
		func(q *lake.Route53ResolverQuery) error { res.rows = append(res.rows, q); return nil },
		func(no int64, reason string, sample []byte) {
			res.bad = append(res.bad, badLine{no, reason, string(sample)})
		})
	return res
}

func i32(v int32) *int32 { return &v }

const key = "AWSLogs/111122223333/vpcdnsquerylogs/vpc-0fallback/2021/02/04/111122223333_vpcdnsquerylogs_vpc-0fallback_20210204T1750Z_3e1a9c.log.gz"

var opts = Options{Key: key, FallbackAccount: "999999999999", FallbackRegion: "xx-fallback-1", FallbackVPC: "vpc-0fallback"}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		t.Fatalf("dataset JSON: %v", err)
	}
	return buf.String()
}

func readDataset(t *testing.T, parts ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{testdata}, parts...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The documentation's example entry (pretty-printed in the page) and the OCSF project's raw sample,
// written one per line as S3 delivery does.
func TestPublishedExamples(t *testing.T) {
	doc := readDataset(t, "awsdocs", "route53-resolver-query-logs-example-json.md")
	start, end := bytes.IndexByte(doc, '{'), bytes.LastIndexByte(doc, '}')
	ocsf := readDataset(t, "ocsf-examples", "route53.raw")
	in := compactJSON(t, doc[start:end+1]) + "\n" + compactJSON(t, ocsf) + "\n"
	res := parse(strings.NewReader(in), opts)
	if res.err != nil || len(res.bad) != 0 || len(res.rows) != 2 || res.n != 2 {
		t.Fatalf("err=%v bad=%v rows=%d", res.err, res.bad, len(res.rows))
	}
	want := []lake.Route53ResolverQuery{{
		EventTime: time.Date(2021, 2, 4, 17, 51, 55, 0, time.UTC), AccountID: "111122223333", Region: "us-east-1",
		Version: new("1.100000"), VPCID: new("vpc-7example"), QueryName: new("15.3.4.32.in-addr.arpa."), QueryType: new("PTR"), QueryClass: new("IN"),
		Rcode: new("NOERROR"), Answers: new(`[{"Rdata":"203.0.113.9","Type":"PTR","Class":"IN"}]`), SrcAddr: new("4.5.64.102"), SrcPort: i32(56067),
		Transport: new("UDP"), SrcIDs: new(`{"instance":"i-0d15cd0d3example"}`), SrcInstanceID: new("i-0d15cd0d3example"),
		FirewallRuleAction: new("BLOCK"), FirewallRuleGroupID: new("rslvr-frg-01234567890abcdef"), FirewallDomainListID: new("rslvr-fdl-01234567890abcdef"),
		Lineage: lake.Lineage{SourceKey: key, SourceLine: 1},
	}, {
		EventTime: time.Date(2022, 10, 13, 21, 2, 36, 0, time.UTC), AccountID: "123456789012", Region: "us-east-1",
		Version: new("1.100000"), VPCID: new("vpc-00000000000000000"), QueryName: new("ip-127-0-0-62.alert.firewall.canary."), QueryType: new("A"),
		QueryClass: new("IN"), Rcode: new("NOERROR"), Answers: new(`[{"Rdata":"127.0.0.62","Type":"A","Class":"IN"}]`), SrcAddr: new("10.200.21.100"),
		SrcPort: i32(15083), Transport: new("UDP"), SrcIDs: new(`{"resolver_endpoint":"rslvr-in-0000000000000000","resolver_network_interface":"rni-0000000000000000"}`),
		SrcResolverEndpoint: new("rslvr-in-0000000000000000"), SrcResolverNetworkIface: new("rni-0000000000000000"),
		FirewallRuleAction: new("ALERT"), FirewallRuleGroupID: new("rslvr-frg-000000000000000"), FirewallDomainListID: new("rslvr-fdl-0000000000000"),
		Lineage: lake.Lineage{SourceKey: key, SourceLine: 2},
	}}
	for i := range want {
		if !reflect.DeepEqual(*res.rows[i], want[i]) {
			t.Errorf("entry %d:\n got %+v\nwant %+v", i+1, *res.rows[i], want[i])
		}
	}
}

var isoTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d`)

// Panther's DNS samples mix Resolver entries (with Panther's zone-less timestamps and an answers object)
// and other vendors' DNS logs: the first become rows, the others bad lines.
func TestPantherSamples(t *testing.T) {
	f, err := os.Open(filepath.Join(testdata, "panther", "aws_vpcdns.tests.jsonl"))
	if err != nil {
		t.Fatalf("dataset missing: %v", err)
	}
	defer f.Close()
	var lines []string
	var want []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var test struct{ Log json.RawMessage }
		if err := json.Unmarshal(sc.Bytes(), &test); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, string(test.Log))
		var m map[string]any
		json.Unmarshal(test.Log, &m)
		if ts, _ := m["query_timestamp"].(string); isoTime.MatchString(ts) {
			want = append(want, m)
		}
	}
	res := parse(strings.NewReader(strings.Join(lines, "\n")), opts)
	if res.err != nil || len(res.rows) != len(want) || len(res.rows)+len(res.bad) != len(lines) || len(want) < 10 {
		t.Fatalf("err=%v rows=%d bad=%d of %d, want %d rows", res.err, len(res.rows), len(res.bad), len(lines), len(want))
	}
	for i, r := range res.rows {
		w := want[i]
		if str(r.QueryName) != w["query_name"] || r.AccountID != w["account_id"] || str(r.VPCID) != w["vpc_id"] {
			t.Errorf("row %d: %+v does not match %v", i, r, w)
		}
		if a, ok := w["answers"]; ok {
			var got any
			if err := json.Unmarshal([]byte(str(r.Answers)), &got); err != nil || !reflect.DeepEqual(got, a) {
				t.Errorf("row %d: answers %s, want %v", i, str(r.Answers), a)
			}
		}
		if ids, ok := w["srcids"].(map[string]any); ok && str(r.SrcInstanceID) != ids["instance"] {
			t.Errorf("row %d: srcids_instance %q", i, str(r.SrcInstanceID))
		}
		if p, ok := w["srcport"].(string); ok && (r.SrcPort == nil || fmt.Sprint(*r.SrcPort) != p) {
			t.Errorf("row %d: srcport %v, want %s", i, r.SrcPort, p)
		}
	}
	for _, b := range res.bad {
		if !strings.Contains(b.reason, "query_timestamp") {
			t.Errorf("line %d: reason %q", b.no, b.reason)
		}
	}
}

func TestLines(t *testing.T) {
	const ok = `{"query_timestamp":"2024-01-02T03:04:05.123Z","query_name":"example.com.","srcport":"53"}`
	tests := []struct {
		name   string
		line   string
		reason string // "" means the line is a row
		check  func(r *lake.Route53ResolverQuery) string
	}{
		{"milliseconds", ok, "", func(r *lake.Route53ResolverQuery) string {
			return eq(r.EventTime.String(), time.Date(2024, 1, 2, 3, 4, 5, 123e6, time.UTC).String())
		}},
		{"fallbacks", ok, "", func(r *lake.Route53ResolverQuery) string {
			return eq(r.AccountID+" "+r.Region+" "+str(r.VPCID), "999999999999 xx-fallback-1 vpc-0fallback")
		}},
		{"numeric srcport and version", `{"query_timestamp":"2024-01-02T03:04:05Z","srcport":5353,"version":1.1}`, "", func(r *lake.Route53ResolverQuery) string {
			return eq(fmt.Sprint(*r.SrcPort, " ", str(r.Version)), "5353 1.1")
		}},
		{"nulls are NULL", `{"query_timestamp":"2024-01-02T03:04:05Z","answers":null,"srcids":null,"srcport":null,"rcode":null}`, "", func(r *lake.Route53ResolverQuery) string {
			return eq(fmt.Sprint(r.Answers == nil, r.SrcIDs == nil, r.SrcPort == nil, r.Rcode == nil), "true true true true")
		}},
		{"empty strings kept, absent fields NULL", `{"query_timestamp":"2024-01-02T03:04:05Z","rcode":"","transport":null}`, "", func(r *lake.Route53ResolverQuery) string {
			return eq(fmt.Sprint(r.Rcode != nil, str(r.Rcode) == "", r.Transport == nil, r.QueryName == nil), "true true true true")
		}},
		{"empty answers kept", `{"query_timestamp":"2024-01-02T03:04:05Z","answers":[]}`, "", func(r *lake.Route53ResolverQuery) string {
			return eq(str(r.Answers), "[]")
		}},
		{"unknown fields ignored", `{"query_timestamp":"2024-01-02T03:04:05Z","firewall_protocol":"DoH","new":{"a":[1]}}`, "", func(r *lake.Route53ResolverQuery) string {
			return ""
		}},
		{"invalid UTF-8 replaced", "{\"query_timestamp\":\"2024-01-02T03:04:05Z\",\"query_name\":\"a\xffb.\",\"answers\":[{\"Rdata\":\"\xfe\"}]}", "", func(r *lake.Route53ResolverQuery) string {
			return eq(str(r.QueryName)+" "+str(r.Answers), "a\uFFFDb. [{\"Rdata\":\"\uFFFD\"}]")
		}},
		{"escapes decoded", `{"query_timestamp":"2024-01-02T03:04:05Z","query_name":"a\u00e9\"\\b.","srcids":{"instance":"i\/1"}}`, "", func(r *lake.Route53ResolverQuery) string {
			return eq(str(r.QueryName)+" "+str(r.SrcInstanceID)+" "+str(r.SrcIDs), `aé"\b. i/1 {"instance":"i\/1"}`)
		}},
		{"spaces around", "  " + ok + "  ", "", func(r *lake.Route53ResolverQuery) string { return eq(str(r.QueryName), "example.com.") }},
		{"not JSON", "hello", "line is not a JSON object", nil},
		{"array", `[` + ok + `]`, "line is not a JSON object", nil},
		{"invalid JSON", `{"query_timestamp":"2024-01-02T03:04:05Z",}`, "invalid JSON", nil},
		{"truncated", ok[:40], "invalid JSON", nil},
		{"two objects on a line", ok + ok, "invalid JSON", nil},
		{"no timestamp", `{"query_name":"a."}`, "entry has no query_timestamp", nil},
		{"bad timestamp", `{"query_timestamp":"1700000000"}`, `query_timestamp "1700000000" is not`, nil},
		{"srcport not a port", `{"query_timestamp":"2024-01-02T03:04:05Z","srcport":"70000"}`, `srcport "70000" is not a port number`, nil},
		{"srcport object", `{"query_timestamp":"2024-01-02T03:04:05Z","srcport":{}}`, "srcport", nil},
		{"wrong type", `{"query_timestamp":"2024-01-02T03:04:05Z","query_name":5}`, "field query_name: JSON number", nil},
		{"nested 513 levels", `{"query_timestamp":"2024-01-02T03:04:05Z","answers":` + strings.Repeat("[", 512) + strings.Repeat("]", 512) + `}`, "JSON nested deeper than 512 levels", nil},
		{"nested 512 levels", `{"query_timestamp":"2024-01-02T03:04:05Z","answers":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + `}`, "", func(r *lake.Route53ResolverQuery) string {
			return eq(str(r.Answers), strings.Repeat("[", 511)+strings.Repeat("]", 511))
		}},
		{"byte-order mark", "\ufeff" + ok, "", func(r *lake.Route53ResolverQuery) string { return eq(str(r.QueryName), "example.com.") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := ok + "\n" + tt.line + "\n" + ok + "\n"
			res := parse(strings.NewReader(in), opts)
			if res.err != nil {
				t.Fatal(res.err)
			}
			if tt.reason == "" {
				if len(res.bad) != 0 || len(res.rows) != 3 || res.rows[1].SourceLine != 2 {
					t.Fatalf("bad=%v rows=%d", res.bad, len(res.rows))
				}
				if msg := tt.check(res.rows[1]); msg != "" {
					t.Error(msg)
				}
				return
			}
			if len(res.rows) != 2 || res.rows[1].SourceLine != 3 {
				t.Fatalf("want lines 1 and 3 as rows, got %d", len(res.rows))
			}
			sample := strings.TrimSpace(tt.line)
			sample = sample[:min(len(sample), sampleBytes)]
			if len(res.bad) != 1 || res.bad[0].no != 2 || !strings.Contains(res.bad[0].reason, tt.reason) || res.bad[0].sample != sample {
				t.Fatalf("bad = %+v, want line 2 with %q", res.bad, tt.reason)
			}
			if res.n != 3 {
				t.Errorf("n = %d, want 3 records read", res.n)
			}
		})
	}
}

// text reads a JSON column; NULL reads as "".

// str is a nullable column's text, "" for NULL.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func eq(got, want string) string {
	if got != want {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	return ""
}

func TestFileShapes(t *testing.T) {
	const ok = `{"query_timestamp":"2024-01-02T03:04:05Z"}`
	for _, tt := range []struct {
		name  string
		in    string
		lines []int64
	}{
		{"empty", "", nil},
		{"blank lines skipped", "\n" + ok + "\n\n  \n" + ok + "\n\n", []int64{2, 5}},
		{"CRLF", ok + "\r\n" + ok + "\r\n", []int64{1, 2}},
		{"no final newline", ok + "\n" + ok, []int64{1, 2}},
		{"byte-order mark", "\ufeff" + ok + "\n" + ok, []int64{1, 2}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := parse(strings.NewReader(tt.in), opts)
			var got []int64
			for _, r := range res.rows {
				got = append(got, r.SourceLine)
			}
			if res.err != nil || len(res.bad) != 0 || !reflect.DeepEqual(got, tt.lines) {
				t.Fatalf("err=%v bad=%v lines=%v, want %v", res.err, res.bad, got, tt.lines)
			}
		})
	}
}

func TestLongLine(t *testing.T) {
	const ok = `{"query_timestamp":"2024-01-02T03:04:05Z"}` + "\n"
	long := io.MultiReader(strings.NewReader(`{"query_name":"`), io.LimitReader(repeatReader('a'), 3<<20), strings.NewReader(`"}`+"\n"))
	res := parse(io.MultiReader(strings.NewReader(ok), long, strings.NewReader(ok)), Options{Key: key, MaxLineBytes: 1000})
	if res.err != nil || len(res.rows) != 2 || res.rows[1].SourceLine != 3 {
		t.Fatalf("err=%v rows=%d", res.err, len(res.rows))
	}
	if len(res.bad) != 1 || res.bad[0].no != 2 || !strings.Contains(res.bad[0].reason, fmt.Sprintf("line is %d bytes, more than the 1000-byte limit", 3<<20+17)) || len(res.bad[0].sample) != sampleBytes {
		t.Fatalf("bad = %.300v", res.bad)
	}
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestErrors(t *testing.T) {
	const ok = `{"query_timestamp":"2024-01-02T03:04:05Z"}` + "\n"
	boom := errors.New("connection reset")
	res := parse(io.MultiReader(strings.NewReader(ok), iotest.ErrReader(boom)), opts)
	if !errors.Is(res.err, boom) || len(res.rows) != 1 {
		t.Fatalf("read error: %v", res.err)
	}
	stop := errors.New("disk full")
	n, err := Parse(strings.NewReader(ok+ok), opts, func(*lake.Route53ResolverQuery) error { return stop }, func(int64, string, []byte) {})
	if !errors.Is(err, stop) || n != 0 || !strings.Contains(err.Error(), key+": line 1") {
		t.Fatalf("emit error: n=%d %v", n, err)
	}
	_, err = Parse(strings.NewReader(ok+"x\n"), opts, func(*lake.Route53ResolverQuery) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "line 2: line is not a JSON object") {
		t.Fatalf("nil bad: %v", err)
	}
}

func genQueries(n int) []byte {
	var b bytes.Buffer
	names := []string{"example.com.", "s3.us-east-1.amazonaws.com.", "api.github.com.", "x7f3k2.badsite.top.", "ec2.us-east-1.amazonaws.com."}
	for i := range n {
		fmt.Fprintf(&b, `{"version":"1.100000","account_id":"111122223333","region":"us-east-1","vpc_id":"vpc-0a1b2c3d4e5f60718","query_timestamp":"2024-03-07T12:%02d:%02d.%03dZ","query_name":"%s","query_type":"A","query_class":"IN","rcode":"NOERROR","answers":[{"Rdata":"203.0.113.%d","Type":"A","Class":"IN"}],"srcaddr":"10.0.%d.%d","srcport":"%d","transport":"UDP","srcids":{"instance":"i-0%016x"}}`+"\n",
			i/60%60, i%60, i%1000, names[i%len(names)], i%250, i%4, i%250, 1024+i%60000, i%17)
	}
	return b.Bytes()
}

func BenchmarkParse(b *testing.B) {
	const n = 20000
	data := genQueries(n)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got, err := Parse(bytes.NewReader(data), opts, func(*lake.Route53ResolverQuery) error { return nil }, func(int64, string, []byte) {})
		if err != nil || got != n {
			b.Fatal(got, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "queries/s")
}

// BenchmarkParseSmallObjects parses many objects of 60 entries, the size of a delivery of a few minutes of
// one VPC's queries: what costs per object (buffers) shows here.
func BenchmarkParseSmallObjects(b *testing.B) {
	const n, per = 20000, 60
	lines := bytes.SplitAfter(genQueries(n), []byte("\n"))
	var objects [][]byte
	for i := 0; i < n; i += per {
		objects = append(objects, bytes.Join(lines[i:min(i+per, n)], nil))
	}
	b.SetBytes(int64(len(bytes.Join(objects, nil))))
	b.ReportAllocs()
	for b.Loop() {
		for _, o := range objects {
			if _, err := Parse(bytes.NewReader(o), opts, func(*lake.Route53ResolverQuery) error { return nil }, func(int64, string, []byte) {}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "queries/s")
}
