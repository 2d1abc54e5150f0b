package hids

import (
	"bytes"
	"compress/gzip"
	"io"
	"maps"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
)

type badRec struct {
	n      int64
	reason string
}

func parseAll(t *testing.T, in string, o Options) ([]*Alert, []badRec, error) {
	t.Helper()
	var rows []*Alert
	var bad []badRec
	_, err := Parse(strings.NewReader(in), o, func(a *Alert) error { rows = append(rows, a); return nil },
		func(n int64, reason string, _ []byte) { bad = append(bad, badRec{n, reason}) })
	return rows, bad, err
}

func str(p *string) string {
	if p == nil {
		return "<NULL>"
	}
	return *p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

type col struct{ name, got, want string }

func check(t *testing.T, cols []col) {
	t.Helper()
	for _, c := range cols {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

// The Wazuh documentation's alert of an agent with labels (an sshd brute force, with MITRE ids).
func TestParseWazuhDocAlert(t *testing.T) {
	rows, bad, err := parseAll(t, readFile(t, "../../testdata/wazuh/labels_alert.json"), Options{Key: "k"})
	if err != nil || len(bad) > 0 || len(rows) != 1 {
		t.Fatalf("rows %d, bad %v, err %v; want 1 row", len(rows), bad, err)
	}
	r := rows[0]
	check(t, []col{
		{"event_time", r.EventTime.Format(time.RFC3339Nano), "2024-07-12T12:59:43.612Z"},
		{"format", r.Format, "wazuh"},
		{"account_id", r.AccountID, ""},
		{"alert_id", str(r.AlertID), "1720789183.17423"},
		{"alert_key", str(r.AlertKey), "wazuh-virtual-machine/1720789183.17423"},
		{"manager", str(r.Manager), "wazuh-virtual-machine"},
		{"agent_id", str(r.AgentID), "004"},
		{"agent_name", str(r.AgentName), "Ubuntu-24.04"},
		{"agent_ip", str(r.AgentIP), "192.168.33.128"},
		{"instance_id", str(r.InstanceID), "i-052a1838c"},
		{"agent_labels", str(r.AgentLabels), `{"aws":{"instance-id":"i-052a1838c","sec-group":"sg-1103"},"network":{"ip":"172.17.0.0","mac":"02:42:ac:11:00:02"}}`},
		{"rule_id", str(r.RuleID), "2502"},
		{"rule_description", str(r.RuleDescription), "syslog: User missed the password more than one time"},
		{"rule_groups", str(r.RuleGroups), `["syslog","access_control","authentication_failed"]`},
		{"mitre_ids", str(r.MitreIDs), `["T1110"]`},
		{"mitre_tactics", str(r.MitreTactics), `["Credential Access"]`},
		{"mitre_techniques", str(r.MitreTechniques), `["Brute Force"]`},
		{"location", str(r.Location), "/var/log/auth.log"},
		{"decoder", str(r.Decoder), "sshd"},
		{"decoder_parent", str(r.DecoderParent), "sshd"},
		{"src_ip", str(r.SrcIP), "192.168.33.1"},
		{"dst_ip", str(r.DstIP), "<NULL>"},
		{"src_user", str(r.SrcUser), "<NULL>"},
		{"dst_user", str(r.DstUser), "wazuh"},
		{"data", str(r.Data), `{"srcip":"192.168.33.1","dstuser":"wazuh"}`},
		{"syscheck", str(r.Syscheck), "<NULL>"},
		{"full_log", str(r.FullLog), "Jul 12 15:59:42 ubuntu sshd[16051]: PAM 2 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.168.33.1  user=wazuh"},
	})
	if r.RuleLevel == nil || *r.RuleLevel != 10 {
		t.Errorf("rule_level = %v, want 10", r.RuleLevel)
	}
	if r.SrcIPV4 == nil || *r.SrcIPV4 != 192<<24|168<<16|33<<8|1 {
		t.Errorf("src_ip_v4 = %v", r.SrcIPV4)
	}
	if r.SourceKey != "k" || r.SourceLine != 1 {
		t.Errorf("lineage %+v", r.Lineage)
	}
}

// The nine alerts.json lines of OSSEC's "alert log samples" page (jsonout_output).
func TestParseOSSECDocAlerts(t *testing.T) {
	rows, bad, err := parseAll(t, readFile(t, "../../testdata/ossec/ossec_doc_alerts.json"), Options{Key: "k"})
	if err != nil || len(bad) > 0 || len(rows) != 9 {
		t.Fatalf("rows %d, bad %v, err %v; want 9 rows", len(rows), bad, err)
	}
	r := rows[1]
	check(t, []col{
		{"event_time", r.EventTime.Format(time.RFC3339Nano), "2017-11-11T05:00:17Z"},
		{"format", r.Format, "ossec"},
		{"alert_id", str(r.AlertID), "1510376417.172"},
		{"alert_key", str(r.AlertKey), "/1510376417.172"},
		{"rule_id", str(r.RuleID), "53508"},
		{"rule_description", str(r.RuleDescription), "Server TLS certificate verification failed."},
		{"rule_groups", str(r.RuleGroups), `["syslog","smtpd"]`},
		{"decoder", str(r.Decoder), "smtpd"},
		{"location", str(r.Location), "(junction) 192.168.17.17->/var/log/maillog"},
		{"agent_name", str(r.AgentName), "junction"},
		{"agent_ip", str(r.AgentIP), "192.168.17.17"},
		{"manager", str(r.Manager), "<NULL>"},
		{"mitre_ids", str(r.MitreIDs), "<NULL>"},
	})
	if r.RuleLevel == nil || *r.RuleLevel != 5 {
		t.Errorf("rule_level = %v, want 5", r.RuleLevel)
	}
	sudo := rows[2]
	check(t, []col{
		{"sudo src_user", str(sudo.SrcUser), "root"},
		{"sudo dst_user", str(sudo.DstUser), "root"},
		{"sudo rule_groups", str(sudo.RuleGroups), `["syslog","sudo"]`},
		{"sudo data", str(sudo.Data), `{"dstuser":"root","hostname":"ubnt","program_name":"sudo","srcuser":"root","status":"/usr/bin/vtysh.pl -c show ip route summary json","url":"/"}`},
		{"manager's own log: agent_name", str(rows[0].AgentName), "<NULL>"},
	})
}

const (
	alertA = `{"timestamp":"2024-05-01T10:00:00.000+0000","rule":{"level":12,"id":"510","description":"rootcheck","groups":["ossec","rootcheck"]},"agent":{"id":"001","name":"web-1","ip":"10.0.0.5","labels":{"aws":{"account_id":"111122223333","region":"eu-west-1","instance_id":"i-0abc"}}},"manager":{"name":"m1"},"id":"1714557600.0","location":"rootcheck"}`
	alertB = `{"timestamp":"2024-05-01T10:00:01Z","rule":{"level":7,"id":"550","description":"Integrity checksum changed.","groups":["ossec","syscheck"]},"agent":{"id":"002","name":"web-2","ip":"10.0.0.6","labels":{"aws.account_id":"111122223333","aws.region":"eu-west-1"}},"manager":{"name":"m1"},"id":"1714557601.512","syscheck":{"path":"/usr/bin/ls","event":"modified"},"location":"syscheck"}`
)

func TestParseAccountAndSyscheck(t *testing.T) {
	rows, bad, err := parseAll(t, alertA+"\r\n\n"+alertB, Options{})
	if err != nil || len(bad) > 0 || len(rows) != 2 {
		t.Fatalf("rows %d bad %v err %v", len(rows), bad, err)
	}
	a, b := rows[0], rows[1]
	check(t, []col{
		{"nested labels: account", a.AccountID, "111122223333"},
		{"nested labels: region", a.Region, "eu-west-1"},
		{"nested labels: instance", str(a.InstanceID), "i-0abc"},
		{"flat labels: account", b.AccountID, "111122223333"},
		{"flat labels: region", b.Region, "eu-west-1"},
		{"syscheck_path", str(b.SyscheckPath), "/usr/bin/ls"},
		{"syscheck", str(b.Syscheck), `{"path":"/usr/bin/ls","event":"modified"}`},
		{"RFC 3339 time", b.EventTime.Format(time.RFC3339), "2024-05-01T10:00:01Z"},
	})
	if b.SourceLine != 3 {
		t.Errorf("the blank line counts: source_line %d, want 3", b.SourceLine)
	}
	rows, _, _ = parseAll(t, alertA, Options{FallbackAccount: "999999999999", FallbackRegion: "us-east-1"})
	if rows[0].AccountID != "111122223333" {
		t.Errorf("labels win over the key: %s", rows[0].AccountID)
	}
}

func TestParseBadRecords(t *testing.T) {
	for _, c := range []struct {
		name, in  string
		o         Options
		rows      int
		bad       []badRec
		objectErr string
	}{
		{name: "not JSON mid-file", in: alertA + "\nhello world\n" + alertB, rows: 2, bad: []badRec{{2, "line is not a JSON object"}}},
		{name: "no timestamp", in: alertA + "\n" + `{"rule":{"level":3,"id":"1"}}`, rows: 1, bad: []badRec{{2, "no timestamp (Wazuh: timestamp, e.g. 2024-07-12T15:59:43.612+0300; OSSEC: TimeStamp in milliseconds)"}}},
		{name: "no rule", in: `{"timestamp":"2024-05-01T10:00:00Z","id":"1.0"}` + "\n" + alertA, rows: 1, bad: []badRec{{1, "not a Wazuh or OSSEC alert: no rule object"}}},
		{name: "level not a number", in: `{"timestamp":"2024-05-01T10:00:00Z","rule":{"level":"high"}}`, bad: []badRec{{1, `rule.level "high" is not a number`}}},
		{name: "invalid JSON", in: `{"timestamp":1,}` + "\n" + alertA, rows: 1, bad: []badRec{{1, "not a Wazuh or OSSEC alert: invalid character '}' looking for beginning of object key string"}}},
		{name: "wrong type", in: `{"timestamp":"2024-05-01T10:00:00Z","rule":{"level":3},"location":7}`, bad: []badRec{{1, "not a Wazuh or OSSEC alert: json: cannot unmarshal number into Go struct field record.location of type string"}}},
		{name: "cut off", in: alertA + "\n" + alertB[:80], rows: 1, bad: []badRec{{2, "not a Wazuh or OSSEC alert: unexpected end of JSON input"}}},
		{name: "too long", in: alertA + "\n" + `{"x":"` + strings.Repeat("a", 3000) + `"}` + "\n" + alertB, o: Options{MaxRecordBytes: 2000}, rows: 2, bad: []badRec{{2, "line is 3008 bytes, over the 2000-byte limit"}}},
		{name: "nested too deep", in: `{"a":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + "}\n" + alertA, rows: 1, bad: []badRec{{1, "JSON nested deeper than 512 levels"}}},
		{name: "not alerts at all", in: "2 123456789012 eni-1 ...\n", objectErr: `not Wazuh or OSSEC alerts (alerts.json: a JSON object per line): starts with "2 123456789012 eni-1 ..."`},
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

func TestFixture(t *testing.T) {
	got := map[string]string{}
	events := []any{
		map[string]any{"timestamp": "2024-05-01T10:07:00Z", "rule": map[string]any{"id": "5715", "level": 3}},
		map[string]any{"timestamp": "2024-05-01T10:59:00.000+0000", "rule": map[string]any{"id": "510", "level": 12}},
	}
	err := fixture(events, time.Time{}, func(k string, b []byte) error { got[k] = string(b); return nil })
	want := "hids/2024/05/01/10/wazuh-alerts-1-2024-05-01-10-00-00-test.gz"
	if err != nil || len(got) != 1 || got[want] == "" {
		t.Fatalf("keys %v err %v, want [%s]", maps.Keys(got), err, want)
	}
	if err := fixture([]any{map[string]any{"rule": map[string]any{"id": "1"}}}, time.Time{}, nil); err == nil || !strings.Contains(err.Error(), "hids event 1: no timestamp") {
		t.Errorf("event without timestamp: %v", err)
	}
}

func TestGenerate(t *testing.T) {
	gen := func() (map[string]string, int) {
		var mu sync.Mutex
		out := map[string]string{}
		n, err := generate(source.GenConfig{Start: time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), Days: 2, Accounts: []string{"111122223333"},
			Regions: []string{"us-east-1"}, Seed: 3, PerDay: 50}, func(k string, body []byte) error {
			mu.Lock()
			defer mu.Unlock()
			out[k] = string(body)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out, n
	}
	a, n := gen()
	b, _ := gen()
	if n != 100 || len(a) == 0 || !maps.Equal(a, b) {
		t.Fatalf("n %d, %d objects; the same config must write the same objects", n, len(a))
	}
	rows := 0
	for k, body := range a {
		if !strings.HasPrefix(k, GenPrefix+"111122223333/us-east-1/2025/06/0") {
			t.Errorf("key %s", k)
		}
		zr, err := gzip.NewReader(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		_, err = Parse(zr, Options{Key: k}, func(a *Alert) error {
			rows++
			if a.AccountID != "111122223333" || a.Region != "us-east-1" || a.InstanceID == nil || a.AlertKey == nil || a.RuleLevel == nil {
				t.Errorf("generated alert %+v", a)
			}
			return nil
		}, func(n int64, reason string, _ []byte) { t.Errorf("%s line %d: %s", k, n, reason) })
		if err != nil {
			t.Fatal(err)
		}
	}
	if rows != n {
		t.Errorf("%d rows of %d generated alerts", rows, n)
	}
}

func gunzip(t testing.TB, b []byte) []byte {
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
