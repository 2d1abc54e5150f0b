package securityhub

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
)

type badRec struct {
	n      int64
	reason string
}

func parseAll(t *testing.T, in string, o Options) ([]*Finding, []badRec, error) {
	t.Helper()
	var rows []*Finding
	var bad []badRec
	_, err := Parse(strings.NewReader(in), o, func(f *Finding) error { rows = append(rows, f); return nil },
		func(n int64, reason string, _ []byte) { bad = append(bad, badRec{n, reason}) })
	return rows, bad, err
}

func str(p *string) string {
	if p == nil {
		return "<NULL>"
	}
	return *p
}

// lines reads a JSON-lines test file and returns the raw value of field in each line.
func lines(t *testing.T, path, field string) []json.RawMessage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []json.RawMessage
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, m[field])
	}
	return out
}

func envelope(findings ...json.RawMessage) string {
	b, _ := json.Marshal(map[string]any{"version": "0", "id": "e1", "detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub",
		"account": "111111111111", "region": "us-east-1", "time": "2020-12-15T14:56:10Z", "detail": map[string]any{"findings": findings}})
	return string(b)
}

// Security Hub control findings from the AWS Automated Security Response solution's test data: three bare
// findings, then the two findings of one EventBridge event, delivered as Firehose concatenates records.
func TestParseASRSamples(t *testing.T) {
	f := lines(t, "../../testdata/securityhub-asff/asff_findings_sample.jsonl", "finding")
	in := string(f[0]) + "\n" + string(f[1]) + string(f[2]) + envelope(f[3], f[4])
	rows, bad, err := parseAll(t, in, Options{Key: "k"})
	if err != nil || len(bad) > 0 || len(rows) != 5 {
		t.Fatalf("rows %d, bad %v, err %v; want 5 rows", len(rows), bad, err)
	}
	s3, cis := rows[1], rows[2]
	for _, c := range []struct{ col, got, want string }{
		{"event_time", s3.EventTime.Format(time.RFC3339Nano), "2021-07-22T15:22:40.888Z"},
		{"account_id", s3.AccountID, "111111111111"},
		{"region", s3.Region, "us-east-1"},
		{"product_name", str(s3.ProductName), "Security Hub"},
		{"product_arn", str(s3.ProductARN), "arn:aws:securityhub:us-east-1::product/aws/securityhub"},
		{"compliance_status", str(s3.ComplianceStatus), "PASSED"},
		{"workflow_status", str(s3.WorkflowStatus), "RESOLVED"},
		{"record_state", str(s3.RecordState), "ACTIVE"},
		{"severity_label", str(s3.SeverityLabel), "INFORMATIONAL"},
		{"resource_types", str(s3.ResourceTypes), `["AwsS3Bucket"]`},
		{"region from ProductArn", cis.Region, "us-east-2"},
		{"compliance_status", str(cis.ComplianceStatus), "WARNING"},
		{"severity_label", str(cis.SeverityLabel), "CRITICAL"},
		{"event's first finding", str(rows[3].SeverityLabel), "CRITICAL"},
		{"event's second finding", str(rows[4].ResourceTypes), `["AwsRdsDbClusterSnapshot"]`},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.col, c.got, c.want)
		}
	}
	if str(s3.ResourceIDs) != `["arn:aws:s3:::so0111-aws-cloudtrail-111111111111"]` || str(s3.Types) != `["Effects/Data Exposure/AWS-Foundational-Security-Best-Practices"]` {
		t.Errorf("resource_ids %s, types %s", str(s3.ResourceIDs), str(s3.Types))
	}
	var lineNos []int64
	for _, r := range rows {
		lineNos = append(lineNos, r.SourceLine)
	}
	if got, _ := json.Marshal(lineNos); string(got) != "[1,2,3,4,4]" {
		t.Errorf("record numbers %s: an event's findings share its record", got)
	}
}

// Panther's ASFF tests: custom findings with an API-call action, Panther's timestamps without a zone.
func TestParsePantherSamples(t *testing.T) {
	var in strings.Builder
	logs := lines(t, "../../testdata/panther/aws_securityfindingformat.tests.jsonl", "log")
	for _, l := range logs {
		in.Write(l)
		in.WriteByte('\n')
	}
	rows, bad, err := parseAll(t, in.String(), Options{})
	if err != nil || len(bad) > 0 || len(rows) != len(logs) {
		t.Fatalf("%d logs: rows %d, bad %v, err %v", len(logs), len(rows), bad, err)
	}
	r := rows[0]
	if r.EventTime != time.Date(2024, 5, 24, 22, 53, 24, 0, time.UTC) || str(r.ProductName) != "DecoyDetector" || str(r.GeneratorID) != "dynamodb.amazonaws.com" ||
		str(r.ResourceTypes) != `["AwsDynamoDbTable","AwsIamAccessKey","AwsIamRole"]` || r.VersionID != "1abc2de3-69ea-4e15-91c6-27eb4a07bd21@2024-05-24T22:53:24.000000Z" {
		t.Errorf("first Panther finding: %s %s %s %s %s", r.EventTime, str(r.ProductName), str(r.GeneratorID), str(r.ResourceTypes), r.VersionID)
	}
}

const inspector = `{"SchemaVersion":"2018-10-08","Id":"arn:aws:inspector2:eu-west-1:111122223333:finding/1","ProductArn":"arn:aws:securityhub:eu-west-1::product/aws/inspector","AwsAccountId":"111122223333","UpdatedAt":"2024-05-01T10:00:00Z","Severity":{"Normalized":75},"Resources":[{"Type":"AwsEc2Instance","Id":"arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"}],"Vulnerabilities":[{"Id":"CVE-2024-3094"},{"Id":"CVE-2023-4863"}]}`

// Inspector's vulnerabilities are CVE ids; a label missing from Severity is derived from Normalized;
// Region comes from ProductArn when the finding has none.
func TestParseVulnerabilities(t *testing.T) {
	rows, bad, err := parseAll(t, inspector, Options{})
	if err != nil || len(bad) > 0 || len(rows) != 1 {
		t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
	}
	r := rows[0]
	if str(r.CVEIDs) != `["CVE-2024-3094","CVE-2023-4863"]` || str(r.SeverityLabel) != "HIGH" || *r.SeverityNormalized != 75 || r.Region != "eu-west-1" ||
		str(r.ResourceIDs) != `["arn:aws:ec2:eu-west-1:111122223333:instance/i-0abc"]` {
		t.Errorf("cve %s label %s region %s resources %s", str(r.CVEIDs), str(r.SeverityLabel), r.Region, str(r.ResourceIDs))
	}
}

func TestParseBadRecords(t *testing.T) {
	noID := `{"SchemaVersion":"2018-10-08","AwsAccountId":"111122223333","UpdatedAt":"2024-05-01T10:00:00Z"}`
	for _, c := range []struct {
		name, in  string
		o         Options
		rows      int
		bad       []badRec
		objectErr string
	}{
		{name: "not JSON mid-file", in: inspector + "\nhello\n" + inspector, rows: 2, bad: []badRec{{2, "not a JSON object"}}},
		{name: "other EventBridge event", in: `{"detail-type":"EC2 Instance State-change Notification","id":"x","detail":{}}` + inspector, rows: 1, bad: []badRec{{1, `EventBridge event "EC2 Instance State-change Notification" without detail.findings`}}},
		{name: "neither", in: `{"Records":[]}` + inspector, rows: 1, bad: []badRec{{1, "neither an EventBridge event with detail.findings nor an ASFF finding (no SchemaVersion or Id)"}}},
		{name: "a bad finding quarantines its whole event", in: envelope(json.RawMessage(inspector), json.RawMessage(noID)) + inspector, rows: 1, bad: []badRec{{1, "finding 2 of the event: no Id"}}},
		{name: "no UpdatedAt", in: `{"SchemaVersion":"2018-10-08","Id":"x"}`, bad: []badRec{{1, "no UpdatedAt"}}},
		{name: "no account", in: `{"Id":"x","UpdatedAt":"2024-05-01T10:00:00Z"}`, bad: []badRec{{1, "no AwsAccountId and Region in the finding, and neither the event nor the object key has them"}}},
		{name: "account from the event", in: envelope(json.RawMessage(`{"Id":"x","UpdatedAt":"2024-05-01T10:00:00Z"}`)), rows: 1},
		{name: "wrong type", in: `{"Id":"x","UpdatedAt":"2024-05-01T10:00:00Z","Types":"TTPs"}`, bad: []badRec{{1, "not an ASFF finding: json: cannot unmarshal string into Go struct field asff.Types of type []string"}}},
		{name: "too long", in: inspector + `{"Id":"` + strings.Repeat("a", 600) + `"}` + inspector, o: Options{MaxRecordBytes: 500}, rows: 2, bad: []badRec{{2, "record is 609 bytes, over the 500-byte limit"}}},
		{name: "cut off", in: inspector + `{"Id":"x","Upda`, rows: 1, bad: []badRec{{2, "JSON object cut off at the end of the file"}}},
		{name: "nested too deep", in: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}" + inspector, rows: 1, bad: []badRec{{1, "JSON nested deeper than 512 levels"}}},
		{name: "not findings at all", in: "2 123456789012 eni-1\n", objectErr: `not Security Hub findings (EventBridge events or ASFF findings, JSON objects one after the other): starts with "2 123456789012 eni-1"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, bad, err := parseAll(t, c.in, c.o)
			if c.objectErr != "" {
				if err == nil || err.Error() != c.objectErr {
					t.Fatalf("err %v, want %q", err, c.objectErr)
				}
				return
			}
			if err != nil || len(rows) != c.rows || len(bad) != len(c.bad) {
				t.Fatalf("rows %d bad %v err %v, want %d rows, bad %v", len(rows), bad, err, c.rows, c.bad)
			}
			for i := range bad {
				if bad[i] != c.bad[i] {
					t.Errorf("bad %v, want %v", bad[i], c.bad[i])
				}
			}
		})
	}
}

func TestFixtureKeys(t *testing.T) {
	got := map[string]string{}
	events := []any{
		map[string]any{"Id": "a", "AwsAccountId": "111122223333", "Region": "eu-west-1", "UpdatedAt": "2024-05-01T10:07:00Z"},
		map[string]any{"Id": "b", "AwsAccountId": "111122223333", "Region": "eu-west-1", "UpdatedAt": "2024-05-01T10:59:00Z"},
	}
	err := fixture(events, time.Time{}, func(k string, b []byte) error { got[k] = string(gunzip(t, b)); return nil })
	key := "AWSLogs/111122223333/SecurityHub/eu-west-1/2024/05/01/10/test-2024-05-01-10-00-00.gz"
	if err != nil || len(got) != 1 || got[key] == "" {
		t.Fatalf("objects %v err %v, want %s", got, err, key)
	}
	rows, bad, err := parseAll(t, got[key], Options{})
	if err != nil || len(bad) > 0 || len(rows) != 2 || rows[1].ID != "b" {
		t.Fatalf("fixture object: rows %d bad %v err %v", len(rows), bad, err)
	}
	if err := fixture([]any{map[string]any{"Id": "a"}}, time.Time{}, nil); err == nil || !strings.Contains(err.Error(), "needs Id, AwsAccountId, Region and UpdatedAt") {
		t.Errorf("event without account: %v", err)
	}
}

// The generator is deterministic and writes events the parser reads: daily versions of control findings
// and Inspector CVEs.
func TestGenerate(t *testing.T) {
	c := source.GenConfig{Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), Days: 2, Accounts: []string{"111122223333"}, Regions: []string{"us-east-1"}, Seed: 3}
	var a, b bytes.Buffer
	var all []*Finding
	n, err := generate(c, func(k string, body []byte) error {
		a.WriteString(k)
		a.Write(body)
		_, err := Parse(bytes.NewReader(gunzip(t, body)), Options{Key: k}, func(f *Finding) error { all = append(all, f); return nil },
			func(n int64, reason string, _ []byte) { t.Errorf("%s#%d: %s", k, n, reason) })
		return err
	})
	if err != nil || n != len(all) || n != 2*(len(genControls)+3)+1 {
		t.Fatalf("n %d rows %d err %v", n, len(all), err)
	}
	ids, cves, analyzer := map[string]bool{}, 0, 0
	for _, f := range all {
		ids[f.ID] = true
		if f.CVEIDs != nil {
			cves++
		}
		if *f.ProductName == "IAM Access Analyzer" {
			analyzer++
		}
	}
	if len(ids) != len(genControls)+2*3+1 || cves != 6 || analyzer != 1 {
		t.Errorf("%d ids, %d findings with CVEs, %d of Access Analyzer", len(ids), cves, analyzer)
	}
	if _, err := generate(c, func(k string, body []byte) error { b.WriteString(k); b.Write(body); return nil }); err != nil || !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("the same config wrote different bytes (err %v)", err)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
