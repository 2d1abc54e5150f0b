package cloudtrail

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"testing/iotest"
	"time"

	gojson "github.com/goccy/go-json"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"

	"github.com/lakehunt/lakehunt/lake"
)

var testdata = filepath.Join("..", "..", "testdata")

type badRec struct {
	no     int64
	reason string
	sample string
}

type result struct {
	rows []*lake.CloudTrailEvent
	bad  []badRec
	n    int64
	err  error
}

func parse(r io.Reader, o Options) result {
	var res result
	res.n, res.err = Parse(r, o,
		func(ev *lake.CloudTrailEvent) error { res.rows = append(res.rows, ev); return nil },
		func(no int64, reason string, sample []byte) {
			res.bad = append(res.bad, badRec{no, reason, string(sample)})
		})
	return res
}

func parseString(s string) result { return parse(strings.NewReader(s), Options{Key: "k"}) }

func ptr[T any](v T) *T { return &v }

// readJSONL returns the "key" member of every line of a JSONL dataset file.
func readJSONL(t *testing.T, path, key string) []json.RawMessage {
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
		var line map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, line[key])
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func wrapRecords(recs []json.RawMessage) string {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i, r := range recs {
		if i > 0 {
			b.WriteString(",\n")
		}
		b.Write(r)
	}
	b.WriteString("]}")
	return b.String()
}

func TestAWSDocExamples(t *testing.T) {
	recs := readJSONL(t, filepath.Join(testdata, "awsdocs", "cloudtrail", "cloudtrail_doc_examples.jsonl"), "record")
	res := parse(strings.NewReader(wrapRecords(recs)), Options{Key: "docs", FallbackAccount: "999988887777", FallbackRegion: "eu-west-1"})
	if res.err != nil {
		t.Fatal(res.err)
	}
	// The four Insights snippets in the docs are insightDetails fragments (no eventID, eventTime): not events.
	var fragments []int64
	for i, r := range recs {
		if bytes.Contains(r, []byte(`"insightType"`)) && !bytes.Contains(r, []byte(`"eventTime"`)) {
			fragments = append(fragments, int64(i+1))
		}
	}
	if len(fragments) != 4 {
		t.Fatalf("dataset changed: %d insight fragments", len(fragments))
	}
	if len(res.rows) != len(recs)-4 || res.n != int64(len(recs)) || len(res.bad) != 4 {
		t.Fatalf("rows=%d n=%d bad=%v, want %d rows and the 4 fragments bad", len(res.rows), res.n, res.bad, len(recs)-4)
	}
	for i, b := range res.bad {
		if b.no != fragments[i] || b.reason != "record has no eventID" {
			t.Errorf("bad %d = %+v, want record %d without eventID", i, b, fragments[i])
		}
	}
	seen := map[string]bool{}
	for _, r := range res.rows {
		if r.EventTime.IsZero() || r.EventName == "" || r.EventSource == "" || r.Region == "" || r.AccountID == "" {
			t.Errorf("record %d: incomplete row %+v", r.SourceLine, r)
		}
		if str(r.EventVersion) == "1.0" {
			if !strings.HasPrefix(r.EventID, "derived-") || seen[r.EventID] {
				t.Errorf("record %d (eventVersion 1.0, no eventID): EventID %q should be a unique derived id", r.SourceLine, r.EventID)
			}
			seen[r.EventID] = true
		}
	}
	first := res.rows[0]
	want := lake.CloudTrailEvent{
		EventTime: time.Date(2022, 11, 10, 16, 24, 34, 0, time.UTC), AccountID: "999988887777", Region: "us-east-2",
		EventID: "3fcfb182-98f8-4744-bd45-10a395ab61cb", EventVersion: new("1.05"), EventName: "ConsoleLogin",
		EventSource: "signin.amazonaws.com", EventType: new("AwsConsoleSignIn"), SourceIPAddress: new("192.0.2.0"),
		UserAgent:        new("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.12; rv:62.0) Gecko/20100101 Firefox/62.0"),
		UserIdentityType: new("IAMUser"), UserIdentityARN: new("arn:aws:iam::111122223333:user/anaya"), UserIdentityAccountID: new("111122223333"),
		UserIdentityPrincipalID: new("AIDACKCEVSQ6C2EXAMPLE"), UserIdentityUserName: new("anaya"), PrincipalARN: new("arn:aws:iam::111122223333:user/anaya"),
		ResponseElements:    new(`{"ConsoleLogin":"Success"}`),
		AdditionalEventData: new(`{"MobileVersion":"No","LoginTo":"https://console.aws.amazon.com/sns","MFAUsed":"No"}`),
		UserIdentity:        new(`{"type":"IAMUser","principalId":"AIDACKCEVSQ6C2EXAMPLE","arn":"arn:aws:iam::111122223333:user/anaya","accountId":"111122223333","userName":"anaya"}`),
		Lineage:             lake.Lineage{SourceKey: "docs", SourceLine: 1},
	}
	if !reflect.DeepEqual(*first, want) {
		t.Errorf("first doc example:\n got %+v\nwant %+v", *first, want)
	}
}

var isoTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d`)

// The Panther rule tests hold CloudTrail-shaped events (plus some other services' logs filed under AWS rules).
// Whatever has an eventID and an ISO eventTime must become a row; the rest must be reported, not dropped.
func TestPantherSamples(t *testing.T) {
	logs := readJSONL(t, filepath.Join(testdata, "panther", "aws_cloudtrail.tests.jsonl"), "log")
	wantRows := 0
	for _, l := range logs {
		var m map[string]any
		if err := json.Unmarshal(l, &m); err != nil {
			t.Fatal(err)
		}
		id, _ := m["eventID"].(string)
		if id == "" {
			id, _ = m["eventid"].(string)
		}
		ts, _ := m["eventTime"].(string)
		if ts == "" {
			ts, _ = m["eventtime"].(string)
		}
		if id != "" && isoTime.MatchString(ts) {
			wantRows++
		}
	}
	res := parse(strings.NewReader(wrapRecords(logs)), Options{Key: "panther"})
	if res.err != nil {
		t.Fatal(res.err)
	}
	if len(res.rows) != wantRows || len(res.rows)+len(res.bad) != len(logs) {
		t.Fatalf("rows=%d bad=%d of %d; want %d rows and the rest bad", len(res.rows), len(res.bad), len(logs), wantRows)
	}
	for _, b := range res.bad {
		if b.reason == "" || b.sample == "" || !strings.HasPrefix(b.sample, "{") {
			t.Errorf("bad record %d without reason or sample: %+v", b.no, b)
		}
	}
	for _, r := range res.rows {
		if r.EventTime.IsZero() || r.EventTime.Location() != time.UTC {
			t.Errorf("record %d: EventTime %v", r.SourceLine, r.EventTime)
		}
		for _, j := range []string{str(r.UserIdentity), str(r.RequestParameters), str(r.ResponseElements), str(r.AdditionalEventData), str(r.ServiceEventDetails), str(r.Resources)} {
			if j != "" && !json.Valid([]byte(j)) {
				t.Errorf("record %d: JSON column not JSON: %s", r.SourceLine, j)
			}
		}
	}
}

const assumedRole = `{
  "eventVersion": "1.08",
  "userIdentity": {
    "type": "AssumedRole",
    "principalId": "AROAEXAMPLE:alice",
    "arn": "arn:aws:sts::111122223333:assumed-role/Admin/alice",
    "accountId": "111122223333",
    "accessKeyId": "ASIAEXAMPLE",
    "sessionContext": {
      "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLE", "arn": "arn:aws:iam::111122223333:role/Admin", "accountId": "111122223333", "userName": "Admin"},
      "attributes": {"creationDate": "2024-03-07T11:00:00Z", "mfaAuthenticated": "true"}
    }
  },
  "eventTime": "2024-03-07T12:05:06Z",
  "eventSource": "iam.amazonaws.com",
  "eventName": "CreateAccessKey",
  "awsRegion": "us-east-1",
  "sourceIPAddress": "198.51.100.7",
  "userAgent": "aws-cli/2.15.0",
  "errorCode": "LimitExceeded",
  "errorMessage": "Cannot exceed quota for AccessKeysPerUser: 2",
  "requestParameters": {"userName": "bob", "tags": [ ], "n": 1.50e2, "s": "a  b\u00e9"},
  "responseElements": null,
  "additionalEventData": {"x": true},
  "serviceEventDetails": {"y": [1, 2]},
  "requestID": "req-1",
  "eventID": "ev-1",
  "readOnly": false,
  "resources": [{"ARN": "arn:aws:iam::111122223333:user/bob", "type": "AWS::IAM::User"}],
  "eventType": "AwsApiCall",
  "managementEvent": true,
  "recipientAccountId": "444455556666",
  "sharedEventID": "shared-1",
  "vpcEndpointId": "vpce-0123",
  "eventCategory": "Management",
  "tlsDetails": {"tlsVersion": "TLSv1.2", "cipherSuite": "ECDHE-RSA-AES128-GCM-SHA256", "clientProvidedHostHeader": "iam.amazonaws.com"},
  "sessionCredentialFromConsole": "true"
}`

func TestEveryColumn(t *testing.T) {
	res := parse(strings.NewReader(`{"Records":[`+assumedRole+`]}`), Options{Key: "AWSLogs/x.json.gz", FallbackAccount: "000000000000", FallbackRegion: "xx-none-1"})
	if res.err != nil || len(res.bad) > 0 || len(res.rows) != 1 {
		t.Fatalf("err=%v bad=%v rows=%d", res.err, res.bad, len(res.rows))
	}
	want := lake.CloudTrailEvent{
		EventTime: time.Date(2024, 3, 7, 12, 5, 6, 0, time.UTC), AccountID: "444455556666", Region: "us-east-1", EventID: "ev-1",
		EventVersion: new("1.08"), EventName: "CreateAccessKey", EventSource: "iam.amazonaws.com", EventType: new("AwsApiCall"),
		EventCategory: new("Management"), ReadOnly: ptr(false), ManagementEvent: ptr(true), SourceIPAddress: new("198.51.100.7"),
		UserAgent: new("aws-cli/2.15.0"), ErrorCode: new("LimitExceeded"), ErrorMessage: new("Cannot exceed quota for AccessKeysPerUser: 2"),
		UserIdentityType: new("AssumedRole"), UserIdentityARN: new("arn:aws:sts::111122223333:assumed-role/Admin/alice"),
		UserIdentityAccountID: new("111122223333"), UserIdentityPrincipalID: new("AROAEXAMPLE:alice"),
		PrincipalARN: new("arn:aws:iam::111122223333:role/Admin"), AccessKeyID: new("ASIAEXAMPLE"),
		SessionIssuerARN: new("arn:aws:iam::111122223333:role/Admin"), SessionIssuerType: new("Role"), SessionMFAAuthenticated: ptr(true),
		RequestID: new("req-1"), SharedEventID: new("shared-1"), RecipientAccountID: new("444455556666"), VPCEndpointID: new("vpce-0123"),
		TLSCipherSuite: new("ECDHE-RSA-AES128-GCM-SHA256"),
		// compacted, otherwise exactly as received: number spelling, escapes and key order kept
		RequestParameters:   new(`{"userName":"bob","tags":[],"n":1.50e2,"s":"a  b\u00e9"}`),
		AdditionalEventData: new(`{"x":true}`),
		ServiceEventDetails: new(`{"y":[1,2]}`),
		Resources:           new(`[{"ARN":"arn:aws:iam::111122223333:user/bob","type":"AWS::IAM::User"}]`),
		UserIdentity:        new(`{"type":"AssumedRole","principalId":"AROAEXAMPLE:alice","arn":"arn:aws:sts::111122223333:assumed-role/Admin/alice","accountId":"111122223333","accessKeyId":"ASIAEXAMPLE","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::111122223333:role/Admin","accountId":"111122223333","userName":"Admin"},"attributes":{"creationDate":"2024-03-07T11:00:00Z","mfaAuthenticated":"true"}}}`),
		Lineage:             lake.Lineage{SourceKey: "AWSLogs/x.json.gz", SourceLine: 1},
	}
	if got := *res.rows[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}

func TestRecordShapes(t *testing.T) {
	const base = `"eventTime":"2024-01-02T03:04:05Z","eventID":"e","eventName":"X"`
	tests := []struct {
		name   string
		record string
		check  func(r *lake.CloudTrailEvent) string // returns what is wrong, or ""
	}{
		{"IAM user: principal is the user ARN", `{"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"},` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return want(str(r.PrincipalARN), "arn:aws:iam::1:user/u") + wantNull(r.SessionIssuerARN)
			}},
		{"federated user: principal is the issuer", `{"userIdentity":{"type":"FederatedUser","arn":"arn:aws:sts::1:federated-user/f","sessionContext":{"sessionIssuer":{"type":"IAMUser","arn":"arn:aws:iam::1:user/u"}}},` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return want(str(r.PrincipalARN), "arn:aws:iam::1:user/u") + want(str(r.SessionIssuerType), "IAMUser")
			}},
		{"AWS service with invokedBy and no ARN", `{"userIdentity":{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"},"sourceIPAddress":"cloudtrail.amazonaws.com",` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return want(str(r.UserIdentityType), "AWSService") + want(str(r.UserIdentityInvokedBy), "cloudtrail.amazonaws.com") +
					wantNull(r.PrincipalARN) + want(str(r.SourceIPAddress), "cloudtrail.amazonaws.com")
			}},
		{"userIdentity without type", `{"userIdentity":{"invokedBy":"s3.amazonaws.com","accountId":"1"},` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return wantNull(r.UserIdentityType) + want(str(r.UserIdentityInvokedBy), "s3.amazonaws.com") + want(str(r.UserIdentityAccountID), "1")
			}},
		{"no userIdentity", `{` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return wantNull(r.UserIdentity) + wantNull(r.PrincipalARN) }},
		{"userIdentity null", `{"userIdentity":null,` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return wantNull(r.UserIdentity) }},
		{"readOnly bool true", `{"readOnly":true,` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return wantBool(r.ReadOnly, ptr(true)) }},
		{"readOnly string true", `{"readOnly":"true",` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return wantBool(r.ReadOnly, ptr(true)) }},
		{"readOnly string False", `{"readOnly":"False","managementEvent":"True",` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return wantBool(r.ReadOnly, ptr(false)) + wantBool(r.ManagementEvent, ptr(true))
			}},
		{"readOnly absent is NULL", `{` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return wantBool(r.ReadOnly, nil) + wantBool(r.SessionMFAAuthenticated, nil)
			}},
		{"readOnly nonsense is NULL", `{"readOnly":"maybe",` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return wantBool(r.ReadOnly, nil) }},
		{"JSON null columns are NULL", `{"requestParameters":null,"responseElements":null,"additionalEventData":null,"resources":null,` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return wantNull(r.RequestParameters) + wantNull(r.ResponseElements) + wantNull(r.AdditionalEventData) + wantNull(r.Resources)
			}},
		{"absent string fields are NULL, empty ones are ''", `{"errorCode":"","userAgent":null,"userIdentity":{"type":"","arn":null},` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return want(fmt.Sprint(r.ErrorCode != nil), "true") + want(str(r.ErrorCode), "") + wantNull(r.ErrorMessage) +
					wantNull(r.UserAgent) + want(fmt.Sprint(r.UserIdentityType != nil), "true") + wantNull(r.UserIdentityARN) + wantNull(r.PrincipalARN)
			}},
		{"scalar responseElements kept", `{"responseElements":"OK",` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return want(str(r.ResponseElements), `"OK"`) }},
		{"fallbacks when recipientAccountId and awsRegion are missing", `{` + base + `}`,
			func(r *lake.CloudTrailEvent) string {
				return want(r.AccountID, "111122223333") + want(r.Region, "us-west-2") + wantNull(r.RecipientAccountID)
			}},
		{"eventTime with fraction and offset is UTC", `{"eventTime":"2024-01-02T05:04:05.250+02:00","eventID":"e"}`,
			func(r *lake.CloudTrailEvent) string {
				if !r.EventTime.Equal(time.Date(2024, 1, 2, 3, 4, 5, 250e6, time.UTC)) || r.EventTime.Location() != time.UTC {
					return "EventTime " + r.EventTime.String()
				}
				return ""
			}},
		{"space instead of T", `{"eventTime":"2021-05-20 15:53:47Z","eventID":"e"}`,
			func(r *lake.CloudTrailEvent) string {
				if !r.EventTime.Equal(time.Date(2021, 5, 20, 15, 53, 47, 0, time.UTC)) {
					return "EventTime " + r.EventTime.String()
				}
				return ""
			}},
		{"zone-less eventTime is UTC", `{"eventTime":"2024-12-12 16:04:32.000000000","eventID":"e"}`,
			func(r *lake.CloudTrailEvent) string {
				if !r.EventTime.Equal(time.Date(2024, 12, 12, 16, 4, 32, 0, time.UTC)) {
					return "EventTime " + r.EventTime.String()
				}
				return ""
			}},
		{"eventVersion 1.11", `{"eventVersion":"1.11",` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return want(str(r.EventVersion), "1.11") }},
		{"invalid UTF-8 replaced", "{\"userAgent\":\"curl\xff\",\"requestParameters\":{\"k\":\"\xfe\"}," + base + "}",
			func(r *lake.CloudTrailEvent) string {
				return want(str(r.UserAgent), "curl\uFFFD") + want(str(r.RequestParameters), "{\"k\":\"\uFFFD\"}")
			}},
		{"unknown fields ignored", `{"insightDetails":{"a":[1,{"b":null}]},"addendum":{"reason":"x"},` + base + `}`,
			func(r *lake.CloudTrailEvent) string { return want(r.EventID, "e") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parse(strings.NewReader(`{"Records":[`+tt.record+`]}`), Options{Key: "k", FallbackAccount: "111122223333", FallbackRegion: "us-west-2"})
			if res.err != nil || len(res.bad) != 0 || len(res.rows) != 1 {
				t.Fatalf("err=%v bad=%v rows=%d", res.err, res.bad, len(res.rows))
			}
			if msg := tt.check(res.rows[0]); msg != "" {
				t.Error(msg)
			}
		})
	}
}

// text reads a JSON column; NULL reads as "".

func want(got, want string) string {
	if got != want {
		return "got " + got + ", want " + want + "; "
	}
	return ""
}

func wantNull(got *string) string {
	if got != nil {
		return fmt.Sprintf("got %q, want NULL; ", *got)
	}
	return ""
}

// str is a nullable column's text, "" for NULL.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func wantBool(got, want *bool) string {
	if (got == nil) != (want == nil) || (got != nil && *got != *want) {
		return "bool mismatch; "
	}
	return ""
}

func TestBadRecords(t *testing.T) {
	const good = `{"eventTime":"2024-01-02T03:04:05Z","eventID":"good"}`
	big := `{"eventTime":"2024-01-02T03:04:05Z","eventID":"big","requestParameters":{"x":"` + strings.Repeat("A", 5000) + `"}}`
	tests := []struct {
		name   string
		record string
		reason string // substring
	}{
		{"no eventID", `{"eventTime":"2024-01-02T03:04:05Z","eventVersion":"1.08"}`, "no eventID"},
		{"empty eventID", `{"eventTime":"2024-01-02T03:04:05Z","eventID":""}`, "no eventID"},
		{"eventID in another case", `{"eventTime":"2024-01-02T03:04:05Z","EventID":"x","EVENTID":"y"}`, "no eventID"}, // keys match exactly
		{"no eventTime", `{"eventID":"x"}`, "no eventTime"},
		{"unparseable eventTime", `{"eventID":"x","eventTime":"yesterday"}`, `eventTime "yesterday"`},
		{"not an object", `"just a string"`, "not a JSON object"},
		{"array", `[1,2]`, "not a JSON object"},
		{"number", `42`, "not a JSON object"},
		{"null", `null`, "not a JSON object"},
		{"invalid JSON inside", `{"eventID":"x","eventTime":"2024-01-02T03:04:05Z","bad":tru}`, "invalid record"},
		{"wrong type", `{"eventID":"x","eventTime":"2024-01-02T03:04:05Z","eventName":{"a":1}}`, "field eventName: JSON object where CloudTrail has string"},
		{"oversized", big, "more than the 4096-byte limit"},
		{"nested 513 levels", `{"eventID":"x","eventTime":"2024-01-02T03:04:05Z","requestParameters":` + strings.Repeat("[", 512) + strings.Repeat("]", 512) + `}`, "JSON nested deeper than 512 levels"},
		{"objects and arrays nested 601 levels", `{"eventID":"x","eventTime":"2024-01-02T03:04:05Z","requestParameters":` + strings.Repeat(`{"a":[`, 300) + strings.Repeat(`]}`, 300) + `}`, "JSON nested deeper than 512 levels"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := `{"Records":[` + good + `,` + tt.record + `,` + good + `]}`
			res := parse(strings.NewReader(in), Options{Key: "k", MaxRecordBytes: 4096})
			if res.err != nil {
				t.Fatal(res.err)
			}
			if len(res.rows) != 2 || res.rows[0].SourceLine != 1 || res.rows[1].SourceLine != 3 {
				t.Fatalf("want the good records 1 and 3 around the bad one, got %d rows", len(res.rows))
			}
			if len(res.bad) != 1 || res.bad[0].no != 2 || !strings.Contains(res.bad[0].reason, tt.reason) {
				t.Fatalf("bad = %+v, want record 2 with %q", res.bad, tt.reason)
			}
			if res.n != 3 {
				t.Errorf("n = %d, want 3 records read", res.n)
			}
			if s := res.bad[0].sample; s == "" || len(s) > sampleBytes || !strings.HasPrefix(tt.record, s) {
				t.Errorf("sample %q is not a prefix of the record", s)
			}
		})
	}
}

func TestFileErrors(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"Records":[]}`))
	zw.Close()
	digest := `{"awsAccountId":"111122223333","digestStartTime":"2024-03-07T11:00:00Z","digestEndTime":"2024-03-07T12:00:00Z","digestS3Bucket":"b","digestS3Object":"o","newestEventTime":"2024-03-07T11:59:00Z","oldestEventTime":"2024-03-07T11:00:01Z","previousDigestS3Bucket":"b","previousDigestHashValue":"abc","previousDigestHashAlgorithm":"SHA-256","previousDigestSignature":"def","logFiles":[{"s3Bucket":"b","s3Object":"AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/07/f.json.gz","hashValue":"00","hashAlgorithm":"SHA-256","newestEventTime":"2024-03-07T11:59:00Z","oldestEventTime":"2024-03-07T11:00:01Z"}]}`
	const rec = `{"eventTime":"2024-01-02T03:04:05Z","eventID":"a"}`
	tests := []struct {
		name  string
		in    string
		msg   string // substring of the error
		nrows int    // rows emitted before the error (the caller discards them)
	}{
		{"empty file", "", "empty file", 0},
		{"only space", " \n ", "empty file", 0},
		{"not JSON", "hello world", "expected '{' to open the JSON document, found 'h'", 0},
		{"gzip not decompressed", gz.String(), "at byte offset 0", 0},
		{"top-level array", `[` + rec + `]`, "found '['", 0},
		{"object without Records", `{"foo":[1,2,3],"bar":{"Records":[]}}`, `no top-level "Records" array`, 0},
		{"empty object", `{}`, `no top-level "Records" array`, 0},
		{"digest file", digest, `no top-level "Records" array (a CloudTrail digest`, 0},
		{"Records not an array", `{"Records":{"a":1}}`, `"Records" is not an array`, 0},
		{"truncated inside a record", `{"Records":[` + rec + `,{"eventTime":"2024-01-02T03:04:05Z","eve`, "record 2 (starting at byte offset 63)", 1},
		{"truncated after a record", `{"Records":[` + rec + `,`, "expected record 2", 1},
		{"truncated before ]", `{"Records":[` + rec, "after record 1", 1},
		{"truncated before }", `{"Records":[` + rec + `]`, "inside the top-level object", 1},
		{"missing comma", `{"Records":[` + rec + ` ` + rec + `]}`, "expected ',' or ']' after record 1", 1},
		{"garbage after document", `{"Records":[` + rec + `]} x`, "unexpected 'x' after the top-level object", 1},
		{"two documents", `{"Records":[]}{"Records":[]}`, "after the top-level object", 0},
		{"two Records keys", `{"Records":[],"Records":[]}`, "second \"Records\"", 0},
		{"key without colon", `{"Records" []}`, "expected ':' after a key", 0},
		{"non-string key", `{1:2}`, "expected a key", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := parse(strings.NewReader(tt.in), Options{Key: "AWSLogs/obj.json.gz"})
			if res.err == nil {
				t.Fatalf("no error; rows=%d bad=%v", len(res.rows), res.bad)
			}
			if !errors.Is(res.err, ErrNotCloudTrail) {
				t.Errorf("error does not wrap ErrNotCloudTrail: %v", res.err)
			}
			if msg := res.err.Error(); !strings.Contains(msg, tt.msg) || !strings.HasPrefix(msg, "AWSLogs/obj.json.gz: ") {
				t.Errorf("error %q should name the object and contain %q", msg, tt.msg)
			}
			if len(res.rows) != tt.nrows || res.n != int64(tt.nrows) {
				t.Errorf("rows=%d n=%d, want %d", len(res.rows), res.n, tt.nrows)
			}
		})
	}
}

func TestValidFileShapes(t *testing.T) {
	const rec = `{"eventTime":"2024-01-02T03:04:05Z","eventID":"a"}`
	for name, in := range map[string]string{
		"no records":                `{"Records":[]}`,
		"other keys around":         `{"a":"]}\"","Records":[` + rec + `],"b":[{"c":"["}],"d":null,"e":1.5e3,"f":true}`,
		"pretty printed":            "{\n  \"Records\" : [\n    " + rec + " ,\n    " + rec + "\n  ]\n}\n",
		"braces inside strings":     `{"Records":[{"eventTime":"2024-01-02T03:04:05Z","eventID":"a","errorMessage":"} ] \" \\"}]}`,
		"escaped quote before key":  `{"x":"\\","Records":[` + rec + `]}`,
		"byte-order mark":           "\ufeff" + `{"Records":[` + rec + `]}`,
		"byte-order mark and space": "\ufeff \n" + `{"Records":[` + rec + `]}`,
		"nested 512 levels":         `{"Records":[{"eventTime":"2024-01-02T03:04:05Z","eventID":"a","requestParameters":` + strings.Repeat("[", 511) + strings.Repeat("]", 511) + `}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			res := parseString(in)
			if res.err != nil || len(res.bad) != 0 {
				t.Fatalf("err=%v bad=%v", res.err, res.bad)
			}
			wantN := strings.Count(in, `"eventID"`)
			if len(res.rows) != wantN {
				t.Errorf("rows = %d, want %d", len(res.rows), wantN)
			}
		})
	}
}

// Reads that return a byte at a time, or data with the EOF, must give the same result as one big read.
func TestReadBoundaries(t *testing.T) {
	file := genFile(40, 7)
	// include some bad records and a long one that crosses the oversize limit
	file = bytes.Replace(file, []byte(`{"Records":[`), []byte(`{"pre":"x","Records":[42,{"eventID":"q"},{"eventID":"big","eventTime":"2024-01-02T03:04:05Z","pad":"`+strings.Repeat("z", 3000)+`"},`), 1)
	o := Options{Key: "k", MaxRecordBytes: 2500}
	want := parse(bytes.NewReader(file), o)
	if want.err != nil || len(want.rows) != 40 || len(want.bad) != 3 {
		t.Fatalf("baseline: err=%v rows=%d bad=%v", want.err, len(want.rows), want.bad)
	}
	for name, r := range map[string]io.Reader{
		"one byte":   iotest.OneByteReader(bytes.NewReader(file)),
		"half":       iotest.HalfReader(bytes.NewReader(file)),
		"data + EOF": iotest.DataErrReader(bytes.NewReader(file)),
	} {
		t.Run(name, func(t *testing.T) {
			got := parse(r, o)
			if got.err != nil || !reflect.DeepEqual(got.rows, want.rows) || !reflect.DeepEqual(got.bad, want.bad) {
				t.Errorf("differs from a single read: err=%v rows=%d bad=%v", got.err, len(got.rows), got.bad)
			}
		})
	}
}

func TestReadError(t *testing.T) {
	boom := errors.New("connection reset")
	r := io.MultiReader(strings.NewReader(`{"Records":[{"eventTime":"2024-01-02T03:04:05Z","eventID":"a"},`), iotest.ErrReader(boom))
	res := parse(r, Options{Key: "k"})
	if !errors.Is(res.err, boom) || errors.Is(res.err, ErrNotCloudTrail) {
		t.Fatalf("err = %v, want the read error (not 'not CloudTrail')", res.err)
	}
}

// An oversized record is skipped without holding it: the buffer stays near the limit, not the record size.
func TestOversizedRecordIsNotBuffered(t *testing.T) {
	const size = 16 << 20
	head := `{"Records":[{"eventID":"huge","eventTime":"2024-01-02T03:04:05Z","requestParameters":{"blob":"`
	tail := `"}},{"eventID":"after","eventTime":"2024-01-02T03:04:05Z"}]}`
	r := io.MultiReader(strings.NewReader(head), io.LimitReader(repeatReader('A'), size), strings.NewReader(tail))
	var rows []*lake.CloudTrailEvent
	var bad []badRec
	p := parser{s: newStream(r), d: newDecoder(), o: Options{Key: "k"}, limit: 64 << 10,
		emit: func(ev *lake.CloudTrailEvent) error { rows = append(rows, ev); return nil },
		bad:  func(no int64, reason string, sample []byte) { bad = append(bad, badRec{no, reason, string(sample)}) }}
	if err := p.document(); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].EventID != "after" || len(bad) != 1 || !strings.Contains(bad[0].reason, "16777") {
		t.Fatalf("rows=%d bad=%+v", len(rows), bad)
	}
	if c := cap(p.s.buf); c > 512<<10 {
		t.Errorf("stream buffer grew to %d bytes for a %d-byte record with a 64 KiB limit", c, size)
	}
}

type repeatReader byte

func (b repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}

func TestEmitErrorStops(t *testing.T) {
	stop := errors.New("disk full")
	calls := 0
	n, err := Parse(bytes.NewReader(genFile(5, 1)), Options{Key: "k"},
		func(*lake.CloudTrailEvent) error { calls++; return stop }, func(int64, string, []byte) {})
	if !errors.Is(err, stop) || errors.Is(err, ErrNotCloudTrail) || calls != 1 || n != 0 {
		t.Fatalf("n=%d calls=%d err=%v", n, calls, err)
	}
}

func TestNilBadMakesBadRecordsFatal(t *testing.T) {
	_, err := Parse(strings.NewReader(`{"Records":[{"eventID":"a"}]}`), Options{Key: "k"}, func(*lake.CloudTrailEvent) error { return nil }, nil)
	if err == nil || !strings.Contains(err.Error(), "record 1: record has no eventTime") {
		t.Fatalf("err = %v", err)
	}
}

func TestParseEvent(t *testing.T) {
	ev, err := ParseEvent([]byte(assumedRole), "", "")
	if err != nil || ev.EventName != "CreateAccessKey" || str(ev.PrincipalARN) != "arn:aws:iam::111122223333:role/Admin" {
		t.Fatalf("ev=%+v err=%v", ev, err)
	}
	if _, err := ParseEvent([]byte(`{"eventID":"a"`), "", ""); err == nil {
		t.Fatal("truncated record accepted")
	}
}

func TestGeneratedFile(t *testing.T) {
	file := genFile(1000, 3)
	res := parse(bytes.NewReader(file), Options{Key: "k"})
	if res.err != nil || len(res.bad) != 0 || len(res.rows) != 1000 {
		t.Fatalf("err=%v bad=%d rows=%d", res.err, len(res.bad), len(res.rows))
	}
	var doc struct{ Records []map[string]any }
	if err := json.Unmarshal(file, &doc); err != nil {
		t.Fatal(err)
	}
	for i, r := range res.rows {
		src := doc.Records[i]
		if r.EventID != src["eventID"] || r.SourceLine != int64(i+1) || *r.ReadOnly != src["readOnly"] {
			t.Fatalf("row %d does not match its record", i)
		}
		var rp map[string]any
		if err := json.Unmarshal([]byte(str(r.RequestParameters)), &rp); err != nil || !reflect.DeepEqual(rp, src["requestParameters"]) {
			t.Fatalf("row %d: request_parameters %s", i, str(r.RequestParameters))
		}
	}
}

func BenchmarkParse(b *testing.B) {
	file := genFile(10000, 42)
	b.SetBytes(int64(len(file)))
	b.ReportAllocs()
	cpu0 := cpuTime()
	for b.Loop() {
		n, err := Parse(bytes.NewReader(file), Options{Key: "k"}, func(*lake.CloudTrailEvent) error { return nil }, func(int64, string, []byte) {})
		if err != nil || n != 10000 {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(10000*b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(10000*b.N), "cpu-ns/event")
}

// cpuTime is the process's user+system CPU time: on a shared machine, wall time says little.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecodeRecord compares the record decoders on the same records (the choice made in ParseEvent).
func BenchmarkDecodeRecord(b *testing.B) {
	var doc struct{ Records []json.RawMessage }
	if err := json.Unmarshal(genFile(1000, 42), &doc); err != nil {
		b.Fatal(err)
	}
	size := 0
	for _, r := range doc.Records {
		size += len(r)
	}
	d := newDecoder()
	for name, decode := range map[string]func([]byte) error{
		"encoding-json":  func(raw []byte) error { var r record; return json.Unmarshal(raw, &r) },
		"goccy":          func(raw []byte) error { var r record; return gojson.Unmarshal(raw, &r) },
		"validate+goccy": func(raw []byte) error { _, err := oldParseEvent(raw, "", ""); return err }, // before
		"one-pass":       func(raw []byte) error { _, err := d.parseEvent(raw, "", ""); return err },
		"jsonlimit":      jsonlimit.Check, // the part of ParseEvent that bounds nesting
	} {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				for _, r := range doc.Records {
					if err := decode(r); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// valid reports whether the record decoder's validation accepts b as one JSON text (after ParseEvent's
// repair of invalid UTF-8, which encoding/json accepts).
func valid(b []byte) bool {
	d := decoder{b: bytes.ToValidUTF8(b, []byte("\uFFFD"))}
	d.skip()
	d.peek()
	return !d.bad && d.i == len(d.b)
}

// The record decoder must accept exactly what encoding/json accepts: anything else quarantines a record
// encoding/json would take, or makes a row of one it rejects.
func TestValidAcceptsExactlyWhatEncodingJSONAccepts(t *testing.T) {
	for _, in := range []string{
		`{}`, `{"a":"b"}`, "{\"a\":\"tab\there\"}", "{\"a\":\"nl\nhere\"}", "{\"a\":\"\\\x01\"}", `{"a":"\u00e9\"\\"}`,
		`{"a":"\x"}`, `{"a":1e5,"b":-0.5,"c":[true,false,null]}`, `{"a":01}`, `{"a":1.}`, `{"a":"b"} x`, `{"a":"b",}`,
		"{\"a\":\"\x7f\"}", " {\"a\" : [ ] } \n", `"s"`, `12`, ``, `{"a":"\ud800"}`, `{"a":"b"`, `[{"a":{}}]`,
	} {
		if got, want := valid([]byte(in)), json.Valid([]byte(in)); got != want {
			t.Errorf("Valid(%q) = %v, encoding/json says %v", in, got, want)
		}
	}
	var doc struct{ Records []json.RawMessage }
	if err := json.Unmarshal(genFile(200, 7), &doc); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("{}[]\",:\\ \t\n\r0123456789.eE+-truefalsnul\x00\x01\x1f\x7f\xc3\xa9/bfnrtu")
	for i := 0; i < 100_000; i++ {
		r := append([]byte(nil), doc.Records[rng.IntN(len(doc.Records))]...)
		for m := rng.IntN(3) + 1; m > 0 && len(r) > 0; m-- {
			p := rng.IntN(len(r))
			switch c := alphabet[rng.IntN(len(alphabet))]; rng.IntN(3) {
			case 0:
				r[p] = c
			case 1:
				r = append(r[:p], r[p+1:]...)
			default:
				r = append(r[:p], append([]byte{c}, r[p:]...)...)
			}
		}
		if got, want := valid(r), json.Valid(r); got != want {
			t.Fatalf("Valid = %v, encoding/json says %v, on %q", got, want, r)
		}
	}
}
