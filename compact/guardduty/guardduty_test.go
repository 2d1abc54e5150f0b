package guardduty

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

// pantherLogs is the finding of each of Panther's GuardDuty rule tests, one per line.
func pantherLogs(t *testing.T) string {
	t.Helper()
	f, err := os.Open("../../testdata/panther/aws_guardduty.tests.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var in strings.Builder
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
	}
	return in.String()
}

// Every finding of Panther's GuardDuty rule tests is a row with the columns the issue asks for: an attack
// sequence (Panther's timestamps without a zone) and an IAM API-call finding.
func TestParsePantherSamples(t *testing.T) {
	rows, bad, err := parseAll(t, pantherLogs(t), Options{Key: "k"})
	if err != nil || len(bad) > 0 || len(rows) != 8 {
		t.Fatalf("rows %d, bad %v, err %v; want 8 rows", len(rows), bad, err)
	}
	seq, api := rows[0], rows[2]
	for _, c := range []struct{ col, got, want string }{
		{"event_time", seq.EventTime.Format(time.RFC3339Nano), "2025-02-25T20:40:06.721Z"},
		{"version_id", seq.VersionID, "8c258d654378414b9bc26f61a93eb816@2025-02-25T20:40:06.721000Z"},
		{"type", str(seq.Type), "AttackSequence:IAM/CompromisedCredentials"},
		{"severity_label", str(seq.SeverityLabel), "CRITICAL"},
		{"resource_type", str(seq.ResourceType), "AttackSequence"},
		{"account_id", api.AccountID, "123456789012"},
		{"region", api.Region, "us-east-1"},
		{"id", api.ID, "eeb88ab56556eb7771b266670dddee5a"},
		{"severity_label", str(api.SeverityLabel), "HIGH"},
		{"action_type", str(api.ActionType), "AWS_API_CALL"},
		{"api", str(api.API), "PutRolePolicy"},
		{"domains", str(api.Domains), `["cloudformation.amazonaws.com"]`},
		{"remote_ips", str(api.RemoteIPs), "<NULL>"},
		{"title", str(api.Title), "Principal AssumedRole:IAMRole attempted to add a policy to themselves that is highly permissive."},
		{"first_seen", api.FirstSeen.Format(time.RFC3339), "2020-02-14T17:59:17Z"},
		{"detector_id", str(api.DetectorID), "111111bbbbbbbbbb5555555551111111"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.col, c.got, c.want)
		}
	}
	if api.Count == nil || *api.Count != 1 || api.Archived == nil || *api.Archived || api.Severity == nil || *api.Severity != 8 {
		t.Errorf("count %v archived %v severity %v", api.Count, api.Archived, api.Severity)
	}
	if !json.Valid([]byte(api.Finding)) || !strings.Contains(api.Finding, `"api":"PutRolePolicy"`) {
		t.Errorf("finding column: %s", api.Finding)
	}
	if rows[7].SourceLine != 8 || rows[7].SourceKey != "k" {
		t.Errorf("lineage of the last row: %+v", rows[7].Lineage)
	}
	var labels []string
	for _, r := range rows {
		labels = append(labels, str(r.SeverityLabel))
	}
	if got := strings.Join(labels, ","); got != "CRITICAL,CRITICAL,HIGH,HIGH,LOW,LOW,MEDIUM,MEDIUM" {
		t.Errorf("severity labels %s", got)
	}
}

// The resource a finding is about and the remote addresses of any action type are columns.
func TestParseResourceAndAction(t *testing.T) {
	for _, c := range []struct {
		name, resource, action                 string
		instance, key, principal, buckets, ips string
	}{
		{name: "instance, inbound connection", resource: `"resourceType":"Instance","instanceDetails":{"instanceId":"i-0abc"}`,
			action:   `"actionType":"NETWORK_CONNECTION","networkConnectionAction":{"connectionDirection":"INBOUND","remoteIpDetails":{"ipAddressV4":"198.51.100.7"}}`,
			instance: "i-0abc", key: "<NULL>", principal: "<NULL>", buckets: "<NULL>", ips: `["198.51.100.7"]`},
		{name: "access key, API call", resource: `"resourceType":"AccessKey","accessKeyDetails":{"accessKeyId":"AKIAEXAMPLE","principalId":"AIDAEXAMPLE","userName":"ci","userType":"IAMUser"}`,
			action:   `"actionType":"AWS_API_CALL","awsApiCallAction":{"api":"ListBuckets","remoteIpDetails":{"ipAddressV4":"203.0.113.9"}}`,
			instance: "<NULL>", key: "AKIAEXAMPLE", principal: "AIDAEXAMPLE", buckets: "<NULL>", ips: `["203.0.113.9"]`},
		{name: "buckets, port probes from two addresses", resource: `"resourceType":"S3Bucket","s3BucketDetails":[{"name":"logs"},{"name":"data"}]`,
			action:   `"actionType":"PORT_PROBE","portProbeAction":{"portProbeDetails":[{"remoteIpDetails":{"ipAddressV4":"203.0.113.9"}},{"remoteIpDetails":{"ipAddressV4":"198.51.100.7"}},{"remoteIpDetails":{"ipAddressV4":"203.0.113.9"}}]}`,
			instance: "<NULL>", key: "<NULL>", principal: "<NULL>", buckets: `["logs","data"]`, ips: `["198.51.100.7","203.0.113.9"]`},
	} {
		t.Run(c.name, func(t *testing.T) {
			in := `{"id":"f1","accountId":"111122223333","region":"eu-west-1","updatedAt":"2024-05-01T10:00:00.000Z","severity":5,"resource":{` +
				c.resource + `},"service":{"action":{` + c.action + `},"count":3,"archived":true}}`
			rows, bad, err := parseAll(t, in, Options{})
			if err != nil || len(bad) > 0 || len(rows) != 1 {
				t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
			}
			r := rows[0]
			if str(r.InstanceID) != c.instance || str(r.AccessKeyID) != c.key || str(r.PrincipalID) != c.principal || str(r.S3Buckets) != c.buckets || str(r.RemoteIPs) != c.ips {
				t.Errorf("instance %s key %s principal %s buckets %s ips %s", str(r.InstanceID), str(r.AccessKeyID), str(r.PrincipalID), str(r.S3Buckets), str(r.RemoteIPs))
			}
			if *r.Count != 3 || !*r.Archived || str(r.SeverityLabel) != "MEDIUM" {
				t.Errorf("count %d archived %v label %s", *r.Count, *r.Archived, str(r.SeverityLabel))
			}
		})
	}
}

const (
	v1 = `{"id":"f1","accountId":"111122223333","region":"eu-west-1","updatedAt":"2024-05-01T10:00:00.000Z","service":{"count":1}}`
	v2 = `{"id":"f1","accountId":"111122223333","region":"eu-west-1","updatedAt":"2024-05-01T11:00:00Z","service":{"count":2}}`
)

func TestParseBadRecords(t *testing.T) {
	for _, c := range []struct {
		name, in  string
		o         Options
		rows      int
		bad       []badRec
		objectErr string
	}{
		{name: "not JSON mid-file", in: v1 + "\nhello\n" + v2, rows: 2, bad: []badRec{{2, "not a JSON object"}}},
		{name: "no id", in: v1 + "\n" + `{"updatedAt":"2024-05-01T10:00:00Z"}`, rows: 1, bad: []badRec{{2, "not a GuardDuty finding: no id"}}},
		{name: "no updatedAt", in: `{"id":"x","accountId":"111122223333","region":"eu-west-1"}` + "\n" + v1, rows: 1, bad: []badRec{{1, "no updatedAt"}}},
		{name: "bad updatedAt", in: `{"id":"x","updatedAt":"yesterday"}`, bad: []badRec{{1, `updatedAt "yesterday" is not a time`}}},
		{name: "no account", in: `{"id":"x","updatedAt":"2024-05-01T10:00:00Z"}`, bad: []badRec{{1, "no accountId and region in the finding, and the object key has none"}}},
		{name: "account from the key", in: `{"id":"x","updatedAt":"2024-05-01T10:00:00Z"}`, o: Options{FallbackAccount: "111122223333", FallbackRegion: "eu-west-1"}, rows: 1},
		{name: "wrong type", in: `{"id":"x","updatedAt":"2024-05-01T10:00:00Z","severity":"high"}` + "\n" + v1, rows: 1, bad: []badRec{{1, "not a GuardDuty finding: json: cannot unmarshal string into Go struct field record.severity of type float64"}}},
		{name: "too long", in: v1 + "\n" + `{"id":"` + strings.Repeat("a", 300) + `"}` + "\n" + v2, o: Options{MaxRecordBytes: 200}, rows: 2, bad: []badRec{{2, "record is 309 bytes, over the 200-byte limit"}}},
		{name: "cut off", in: v1 + "\n" + `{"id":"f2","updatedAt":"2024`, rows: 1, bad: []badRec{{2, "JSON object cut off at the end of the file"}}},
		{name: "nested too deep", in: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}\n" + v1, rows: 1, bad: []badRec{{1, "JSON nested deeper than 512 levels"}}},
		{name: "not findings at all", in: "version account-id interface-id\n", objectErr: `not GuardDuty findings (JSON objects, one per line): starts with "version account-id interface-id"`},
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

// Two exports of one finding are two versions: their dedup keys differ by updatedAt, and the same
// updatedAt written with or without milliseconds is the same version.
func TestVersionID(t *testing.T) {
	same := strings.Replace(v2, "11:00:00Z", "11:00:00.000Z", 1)
	rows, _, err := parseAll(t, v1+"\n"+v2+"\n"+same, Options{})
	if err != nil || len(rows) != 3 {
		t.Fatal(rows, err)
	}
	if rows[0].VersionID == rows[1].VersionID || rows[1].VersionID != rows[2].VersionID || rows[1].VersionID != "f1@2024-05-01T11:00:00.000000Z" {
		t.Errorf("version ids %q %q %q", rows[0].VersionID, rows[1].VersionID, rows[2].VersionID)
	}
}

func TestFixtureKeys(t *testing.T) {
	var keys []string
	events := []any{
		map[string]any{"id": "a", "accountId": "111122223333", "region": "eu-west-1", "updatedAt": "2024-05-01T10:07:00Z"},
		map[string]any{"id": "a", "accountId": "111122223333", "region": "eu-west-1", "updatedAt": "2024-05-01T23:07:00Z"},
		map[string]any{"id": "b", "accountId": "111122223333", "region": "eu-west-1", "updatedAt": "2024-05-02T00:07:00Z"},
	}
	err := fixture(events, time.Time{}, func(k string, b []byte) error { keys = append(keys, k); return nil })
	want := []string{"AWSLogs/111122223333/GuardDuty/eu-west-1/2024/05/01/test.jsonl.gz", "AWSLogs/111122223333/GuardDuty/eu-west-1/2024/05/02/test.jsonl.gz"}
	if err != nil || strings.Join(keys, " ") != strings.Join(want, " ") {
		t.Fatalf("keys %v err %v, want %v", keys, err, want)
	}
	if err := fixture([]any{map[string]any{"id": "a"}}, time.Time{}, nil); err == nil || !strings.Contains(err.Error(), "needs id, accountId, region and updatedAt") {
		t.Errorf("event without account: %v", err)
	}
}

// The generator is deterministic and writes findings the parser reads, some in more than one version.
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
	if err != nil || n != len(all) || n < 8 {
		t.Fatalf("n %d rows %d err %v", n, len(all), err)
	}
	ids := map[string]bool{}
	for _, f := range all {
		ids[f.ID] = true
	}
	if len(ids) == len(all) {
		t.Error("no finding was written in two versions")
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
