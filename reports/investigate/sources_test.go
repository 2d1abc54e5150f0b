package investigate

import (
	"bytes"
	"context"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	// compact registers the tables of its sources (waf, alb, guardduty, ...), as in the lakehunt binary;
	// the package under test only names them.
	_ "github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/compact/alb"
	"github.com/lakehunt/lakehunt/compact/guardduty"
	"github.com/lakehunt/lakehunt/compact/hids"
	"github.com/lakehunt/lakehunt/compact/securityhub"
	"github.com/lakehunt/lakehunt/compact/waf"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

func wafKey(r waf.Request) (time.Time, string, string) { return r.EventTime, r.AccountID, r.Region }
func albKey(r alb.Request) (time.Time, string, string) { return r.EventTime, r.AccountID, r.Region }
func guardDutyKey(f guardduty.Finding) (time.Time, string, string) {
	return f.EventTime, f.AccountID, f.Region
}
func hubKey(f securityhub.Finding) (time.Time, string, string) {
	return f.EventTime, f.AccountID, f.Region
}
func hidsKey(a hids.Alert) (time.Time, string, string) { return a.EventTime, a.AccountID, a.Region }

func lineage(key string) lake.Lineage {
	seq++
	return lake.Lineage{SourceKey: key, SourceLine: int64(seq)}
}

// The entities of the new tables' lake: an attacker's address, the web server it attacks (its instance
// and private address), the server role's key, an IAM user, a C2 domain and a bucket.
const (
	attacker  = "203.0.113.7"
	bystander = "198.51.100.8"
	webIP     = "10.0.1.5"
	webInst   = "i-0aaaaaaaaaaaaaaa1"
	roleKey   = "ASIAWEBROLEKEY000001"
	aliceKey  = "AKIAALICEKEY00000001"
	// hostileURI would break out of the SQL, the markup and the reading direction if it were not data.
	hostileURI = "/search'OR'1'='1<script>window.__pwned=1</script>\u202etxt.exe"
)

func wafRequest(when, ip, method, uri, action, rule string) waf.Request {
	return waf.Request{EventTime: at(when), AccountID: acct, Region: "us-east-1", WebACLName: new("shop"), Action: new(action),
		TerminatingRuleID: new(rule), ClientIP: new(ip), Country: new("ZZ"), HTTPMethod: new(method), URI: new(uri),
		Host: new("shop.example.com"), UserAgent: new("curl/8.5.0"), Lineage: lineage("AWSLogs/" + acct + "/WAFLogs/waf.log.gz")}
}

func albRequest(when, client, target, method, url string, status int32) alb.Request {
	return alb.Request{EventTime: at(when), AccountID: acct, Region: "us-east-1", Type: "https", ELB: "app/shop/0123456789abcdef",
		ClientIP: new(client), TargetIP: new(target), RequestMethod: new(method), RequestURL: new(url), ELBStatusCode: new(status),
		UserAgent: new("curl/8.5.0"), Lineage: lineage("AWSLogs/" + acct + "/elasticloadbalancing/alb.log.gz")}
}

func gdFinding(when, account, typ, label string, set func(*guardduty.Finding)) guardduty.Finding {
	f := guardduty.Finding{EventTime: at(when), UpdatedAt: at(when), AccountID: account, Region: "us-east-1", ID: typ + "@" + account,
		VersionID: typ + "@" + when, Type: new(typ), SeverityLabel: new(label), Finding: "{}",
		Lineage: lineage("AWSLogs/" + account + "/GuardDuty/us-east-1/findings.jsonl.gz")}
	set(&f)
	return f
}

func hubFinding(when, product, title, resourceIDs, finding string) securityhub.Finding {
	return securityhub.Finding{EventTime: at(when), UpdatedAt: at(when), AccountID: acct, Region: "us-east-1", ID: title, VersionID: title + "@" + when,
		ProductName: new(product), Title: new(title), ResourceIDs: new(resourceIDs), Finding: finding,
		Lineage: lineage("securityhub/firehose.gz")}
}

func hidsAlert(when, agent, agentIP, instance, src, rule, desc string) hids.Alert {
	return hids.Alert{EventTime: at(when), AccountID: acct, Region: "us-east-1", Format: "wazuh", AgentName: new(agent), AgentIP: new(agentIP),
		InstanceID: new(instance), SrcIP: new(src), RuleID: new(rule), RuleLevel: new(int32(5)), RuleDescription: new(desc),
		Lineage: lineage("hids/alerts.json.gz")}
}

// newTablesLake holds a day of history (2026-03-04 or 05) and a window day (2026-03-10) in each of the five
// tables compact's newer sources fill, and nothing in the lake's own tables.
func newTablesLake(t *testing.T) *lake.Lake {
	lk := newLake(t)
	commit(t, lk, tableWAF, []waf.Request{
		wafRequest("2026-03-05T09:00:00Z", attacker, "GET", "/index.html", "ALLOW", "Default_Action"),
		wafRequest("2026-03-10T01:00:00Z", attacker, "GET", "/login", "ALLOW", "Default_Action"),
		wafRequest("2026-03-10T01:01:00Z", attacker, "GET", hostileURI, "BLOCK", "AWS-AWSManagedRulesSQLiRuleSet"),
		wafRequest("2026-03-10T01:02:00Z", bystander, "GET", "/", "ALLOW", "Default_Action"),
	}, wafKey)
	commit(t, lk, tableALB, []alb.Request{
		albRequest("2026-03-05T09:00:00Z", attacker, webIP, "GET", "https://shop.example.com:443/index.html", 200),
		albRequest("2026-03-10T01:00:00Z", attacker, webIP, "GET", "https://shop.example.com:443/login?next=%2F", 200),
		albRequest("2026-03-10T01:02:00Z", bystander, "10.0.1.6", "GET", "https://shop.example.com:443/", 200),
	}, albKey)
	commit(t, lk, tableGuardDuty, []guardduty.Finding{
		gdFinding("2026-03-04T09:00:00Z", acct, "Recon:EC2/PortProbeUnprotectedPort", "LOW", func(f *guardduty.Finding) {
			f.InstanceID, f.RemoteIPs = new(webInst), new(`["`+bystander+`"]`)
		}),
		gdFinding("2026-03-10T02:00:00Z", acct, "UnauthorizedAccess:EC2/SSHBruteForce", "LOW", func(f *guardduty.Finding) {
			f.InstanceID, f.RemoteIPs = new(webInst), new(`["`+attacker+`"]`)
		}),
		gdFinding("2026-03-10T03:00:00Z", acct, "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS", "HIGH", func(f *guardduty.Finding) {
			f.AccessKeyID, f.PrincipalID, f.UserType, f.UserName = new(roleKey), new("AROAWEBROLE:"+webInst), new("AssumedRole"), new("web-role")
			f.RemoteIPs = new(`["` + bystander + `"]`)
		}),
		gdFinding("2026-03-10T04:00:00Z", acct, "Exfiltration:S3/AnomalousBehavior", "HIGH", func(f *guardduty.Finding) {
			f.AccessKeyID, f.UserType, f.UserName = new(aliceKey), new("IAMUser"), new("alice")
			f.Domains, f.S3Buckets = new(`["c2.Evil.example."]`), new(`["secret-bucket"]`)
		}),
		// another account's alice, a bucket whose name holds secret-bucket, a domain that ends like evil.example
		gdFinding("2026-03-10T05:00:00Z", "444455556666", "Discovery:S3/AnomalousBehavior", "MEDIUM", func(f *guardduty.Finding) {
			f.AccessKeyID, f.UserType, f.UserName = new("AKIAOTHERALICE000001"), new("IAMUser"), new("alice")
			f.Domains, f.S3Buckets = new(`["notevil.example"]`), new(`["secret-bucket-2"]`)
		}),
	}, guardDutyKey)
	commit(t, lk, tableSecurityHub, []securityhub.Finding{
		hubFinding("2026-03-04T09:00:00Z", "Inspector", "CVE-2023-38408 - openssh", `["arn:aws:ec2:us-east-1:`+acct+`:instance/`+webInst+`"]`, `{}`),
		hubFinding("2026-03-10T02:30:00Z", "Inspector", "CVE-2024-6387 - openssh",
			`["arn:aws:ec2:us-east-1:`+acct+`:instance/`+webInst+`"]`, `{"Resources":[{"Details":{"AwsEc2Instance":{"IpV4Addresses":["`+webIP+`"]}}}]}`),
		hubFinding("2026-03-10T04:30:00Z", "Security Hub", "S3 general purpose buckets should block public access",
			`["arn:aws:s3:::secret-bucket"]`, `{}`),
		hubFinding("2026-03-10T04:31:00Z", "Security Hub", "S3 general purpose buckets should have versioning",
			`["arn:aws:s3:::secret-bucket-2"]`, `{}`),
		hubFinding("2026-03-10T04:32:00Z", "GuardDuty", "Anomalous S3 reads by alice",
			`["AWS::IAM::AccessKey:`+aliceKey+`"]`, `{"Network":{"SourceIpV4":"`+attacker+`"}}`),
		hubFinding("2026-03-10T04:33:00Z", "IAM Access Analyzer", "alice can be assumed from outside the organization",
			`["arn:aws:iam::`+acct+`:user/alice"]`, `{}`),
	}, hubKey)
	commit(t, lk, tableHIDS, []hids.Alert{
		hidsAlert("2026-03-05T09:00:00Z", "web-1", webIP, webInst, "", "5402", "Successful sudo to ROOT executed"),
		hidsAlert("2026-03-10T01:30:00Z", "web-1", webIP, webInst, attacker, "5710", "sshd: Attempt to login using a non-existent user"),
		hidsAlert("2026-03-10T01:31:00Z", "web-2", "10.0.1.6", "i-0bbbbbbbbbbbbbbb2", bystander, "5710", "sshd: Attempt to login using a non-existent user"),
	}, hidsKey)
	return lk
}

// Each kind finds the rows of the new tables that mention it, and nothing else; the tables a kind is
// never in are not on its page, nor are the lake's own tables, which this lake does not hold.
func TestNewTablesMatchEveryKind(t *testing.T) {
	lk := newTablesLake(t)
	cases := []struct {
		entity string
		rows   map[string]int64 // rows in the window per table on the page
	}{
		{"ip:" + attacker, map[string]int64{"waf": 2, "alb": 1, "guardduty": 1, "securityhub": 1, "hids": 1}},
		{"ip:" + webIP, map[string]int64{"waf": 0, "alb": 1, "guardduty": 0, "securityhub": 1, "hids": 1}},
		{"ip:" + bystander, map[string]int64{"waf": 1, "alb": 1, "guardduty": 1, "securityhub": 0, "hids": 1}},
		{"instance:" + webInst, map[string]int64{"guardduty": 2, "securityhub": 1, "hids": 1}},
		{"instance:" + webInst[:10], map[string]int64{"guardduty": 0, "securityhub": 0, "hids": 0}}, // an old-style id its id starts with
		{"access-key:" + roleKey, map[string]int64{"guardduty": 1, "securityhub": 0}},
		{"access-key:" + aliceKey, map[string]int64{"guardduty": 1, "securityhub": 1}},
		{"principal:arn:aws:iam::" + acct + ":user/alice", map[string]int64{"guardduty": 1, "securityhub": 1}},
		{"principal:arn:aws:iam::" + acct + ":role/web-role", map[string]int64{"guardduty": 1, "securityhub": 0}},
		{"principal:arn:aws:iam::" + acct + ":role/alice", map[string]int64{"guardduty": 0, "securityhub": 0}},
		{"domain:evil.example", map[string]int64{"guardduty": 1, "securityhub": 0}},
		{"bucket:secret-bucket", map[string]int64{"guardduty": 1, "securityhub": 1}},
	}
	var entities []string
	for _, tc := range cases {
		entities = append(entities, tc.entity)
	}
	pages := pagesOf(t, lk, entities...)
	for i, tc := range cases {
		for _, tb := range pages[i].Tables {
			if tb.NoFiles {
				t.Errorf("%s: %s has no files, but the lake holds it in the span", tc.entity, tb.Name)
			}
		}
		if got := rowsByTable(pages[i]); !maps.Equal(got, tc.rows) {
			t.Errorf("%s: rows per table %v, want %v", tc.entity, got, tc.rows)
		}
	}

	// What the pages say each table shows: what the entity did, what was new for it, the raw rows.
	tables := map[string]entity.Table{}
	for _, p := range pages {
		for _, tb := range p.Tables {
			tables[p.Entity.String()+" "+tb.Name] = tb
		}
	}
	for _, tc := range []struct {
		entity, table, activity string
		dim                     string
		newValues               []string
		evidence                int
	}{
		{"ip:" + attacker, "waf", "BLOCK GET " + hostileURI + " (AWS-AWSManagedRulesSQLiRuleSet)", "paths", []string{"/login", hostileURI}, 2},
		{"ip:" + attacker, "alb", "GET /login 200", "paths", []string{"/login"}, 1},
		{"ip:" + attacker, "guardduty", "UnauthorizedAccess:EC2/SSHBruteForce (LOW)", "", nil, 1},
		{"ip:" + attacker, "securityhub", "GuardDuty: Anomalous S3 reads by alice", "", nil, 1},
		{"ip:" + attacker, "hids", "rule 5710 level 5: sshd: Attempt to login using a non-existent user", "", nil, 1},
		{"instance:" + webInst, "guardduty", "UnauthorizedAccess:EC2/SSHBruteForce (LOW)", "remote addresses", []string{attacker}, 2},
		{"instance:" + webInst, "guardduty", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS (HIGH)", "finding types",
			[]string{"UnauthorizedAccess:EC2/SSHBruteForce", "UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS"}, 2},
		{"instance:" + webInst, "securityhub", "Inspector: CVE-2024-6387 - openssh", "titles", []string{"CVE-2024-6387 - openssh"}, 1},
		{"instance:" + webInst, "hids", "rule 5710 level 5: sshd: Attempt to login using a non-existent user", "source addresses", []string{attacker}, 1},
	} {
		tb := tables[tc.entity+" "+tc.table]
		if !slices.ContainsFunc(tb.Top, func(a entity.Activity) bool { return a.Label == tc.activity }) {
			t.Errorf("%s %s: activities %v, want %q among them", tc.entity, tc.table, tb.Top, tc.activity)
		}
		if tc.dim != "" {
			if got := newIn(tb, tc.dim); !slices.Equal(got, tc.newValues) {
				t.Errorf("%s %s: new %s %v, want %v", tc.entity, tc.table, tc.dim, got, tc.newValues)
			}
		}
		if len(tb.Evidence) != tc.evidence || tb.Evidence[0].SourceKey == "" || len(tb.Evidence[0].Cells) != len(tb.EvidenceCols) {
			t.Errorf("%s %s: evidence %+v for columns %v, want %d rows with their object", tc.entity, tc.table, tb.Evidence, tb.EvidenceCols, tc.evidence)
		}
	}

	// The WAF path an attacker sent is text on the page: escaped markup, the direction override shown as an escape.
	var buf bytes.Buffer
	if err := entity.Render(&buf, pages[0]); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<script>") || strings.ContainsRune(html, '\u202e') {
		t.Error("the page holds the WAF path's markup or direction override raw")
	}
	if !strings.Contains(html, "/search&#39;OR&#39;1&#39;=&#39;1&lt;script&gt;window.__pwned=1&lt;/script&gt;") {
		t.Error("the page does not show the hostile WAF path as text")
	}
}

// A page asks only the tables the lake holds: the lake's own tables are not on the pages of this lake,
// and a table it holds but not in the span says it had no data there.
func TestTablesTheLakeDoesNotHold(t *testing.T) {
	lk := newTablesLake(t)
	ip := group.Link{Kind: group.KindIP, Value: attacker}
	for _, tc := range []struct {
		name           string
		hist, from, to string
		want           map[string]bool // table on the page: whether it has no files
	}{
		{"in the span", "2026-03-01T00:00:00Z", "2026-03-10T00:00:00Z", "2026-03-11T00:00:00Z",
			map[string]bool{"waf": false, "alb": false, "guardduty": false, "securityhub": false, "hids": false}},
		{"after the data", "2026-04-01T00:00:00Z", "2026-04-10T00:00:00Z", "2026-04-11T00:00:00Z",
			map[string]bool{"waf": true, "alb": true, "guardduty": true, "securityhub": true, "hids": true}},
		{"only the history days", "2026-03-05T00:00:00Z", "2026-03-05T12:00:00Z", "2026-03-06T00:00:00Z",
			map[string]bool{"waf": false, "alb": false, "guardduty": true, "securityhub": true, "hids": false}},
	} {
		iv := open(t, lk, at(tc.hist), at(tc.from), at(tc.to))
		p, err := iv.Build(context.Background(), Request{Entity: ip})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := map[string]bool{}
		for _, tb := range p.Tables {
			got[tb.Name] = tb.NoFiles
		}
		if !maps.Equal(got, tc.want) {
			t.Errorf("%s: tables (no files) %v, want %v", tc.name, got, tc.want)
		}
	}
}

// A run asks each table once for all its entities, each with its own expressions (an IP's peer is the
// other end of its own requests): every page must read as it does when built alone.
func TestPagesTogetherAsAlone(t *testing.T) {
	lk := newTablesLake(t)
	entities := []string{"ip:" + attacker, "ip:" + webIP, "ip:" + bystander, "instance:" + webInst,
		"access-key:" + aliceKey, "principal:arn:aws:iam::" + acct + ":user/alice", "domain:evil.example", "bucket:secret-bucket"}
	together := pagesOf(t, lk, entities...)
	for i, e := range entities {
		alone := pagesOf(t, lk, e)[0]
		if !reflect.DeepEqual(together[i].Tables, alone.Tables) {
			t.Errorf("%s: built with the others\n%+v\nbuilt alone\n%+v", e, together[i].Tables, alone.Tables)
		}
	}
	// The check has something to compare: the web server's ALB peer in the window (the attacker) was its
	// peer in the history too. With the attacker's expression, the history's peer would be the server itself.
	for _, tb := range together[1].Tables {
		if tb.Name == "alb" && (tb.HistoryRows != 1 || !slices.ContainsFunc(tb.New, func(n entity.NewValues) bool { return n.Dim == "peers" && n.Total() == 0 })) {
			t.Errorf("ip:%s alb: %d history rows, new values %+v; want 1 row and no new peer", webIP, tb.HistoryRows, tb.New)
		}
	}
}

// The window's rows keep the columns the pages read and leave out the large ones only matching reads.
func TestReadsOnlyWhatPagesRead(t *testing.T) {
	ip := group.Link{Kind: group.KindIP, Value: "10.0.0.5"}
	inst := group.Link{Kind: group.KindInstance, Value: "i-0123456789abcdef0"}
	for _, tc := range []struct {
		table      string
		ents       []group.Link
		want, omit []string
	}{
		{"cloudtrail", []group.Link{inst}, []string{"event_time", "source_key", "source_line", "user_agent", "event_source", "principal_arn"},
			[]string{"request_parameters", "response_elements", "resources", "user_identity"}},
		{"vpc_flow", []group.Link{inst}, []string{"flow_direction", "srcport", "protocol"}, []string{"pkt_srcaddr"}},
		{"vpc_flow", []group.Link{inst, ip}, []string{"flow_direction", "pkt_srcaddr"}, nil}, // an IP's direction reads pkt_srcaddr
	} {
		i := slices.IndexFunc(sources, func(s Source) bool { return s.Table == tc.table })
		cols, err := sources[i].reads(tc.ents)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range tc.want {
			if !slices.Contains(cols, `"`+c+`"`) {
				t.Errorf("%s %v: columns %v, want %s among them", tc.table, tc.ents, cols, c)
			}
		}
		for _, c := range tc.omit {
			if slices.Contains(cols, `"`+c+`"`) {
				t.Errorf("%s %v: columns %v hold %s", tc.table, tc.ents, cols, c)
			}
		}
	}
}
