package gen

import (
	"bytes"
	"compress/gzip"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact/alb"
	"github.com/lakehunt/lakehunt/compact/guardduty"
	"github.com/lakehunt/lakehunt/compact/hids"
	"github.com/lakehunt/lakehunt/compact/securityhub"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/compact/waf"
)

// edgeRows are the five sources' rows for the tiny world, written as lakehunt gen writes them (each
// source's Generate on the exported world, its Fixture for the planted records) and read by its parser.
type edgeRows struct {
	waf  []*waf.Request
	alb  []*alb.Request
	gd   []*guardduty.Finding
	sh   []*securityhub.Finding
	hids []*hids.Alert
}

var (
	edgeOnce sync.Once
	edgeOut  *edgeRows
)

func edgeOf(t *testing.T) (*output, *edgeRows) {
	t.Helper()
	o := tiny(t)
	edgeOnce.Do(func() {
		objs := map[string][]byte{}
		var mu sync.Mutex
		put := func(k string, b []byte) error {
			mu.Lock()
			defer mu.Unlock()
			if _, dup := objs[k]; dup {
				t.Errorf("%s written twice", k)
			}
			objs[k] = bytes.Clone(b)
			return nil
		}
		gc := source.GenConfig{Start: o.sum.Start, Days: int(o.sum.End.Sub(o.sum.Start).Hours() / 24), Accounts: o.sum.Accounts,
			Regions: o.sum.Regions, Seed: tinyConfig.Seed, World: o.sum.World}
		for _, s := range []struct {
			table string
			gen   func(source.GenConfig, source.Put) (int, error)
			fix   func(any, time.Time, source.Put) error
		}{{waf.Table, waf.Source.Generate, waf.Source.Fixture}, {alb.Table, alb.Source.Generate, alb.Source.Fixture},
			{guardduty.Table, guardduty.Source.Generate, guardduty.Source.Fixture}, {securityhub.Table, securityhub.Source.Generate, securityhub.Source.Fixture},
			{hids.Table, hids.Source.Generate, hids.Source.Fixture}} {
			if _, err := s.gen(gc, put); err != nil {
				t.Fatalf("%s: %v", s.table, err)
			}
			ev, ok := o.sum.Planted[s.table]
			if !ok {
				t.Fatalf("nothing planted in %s", s.table)
			}
			if err := s.fix(ev, o.sum.Start, put); err != nil {
				t.Fatalf("%s planted records: %v", s.table, err)
			}
		}
		e := &edgeRows{}
		for k, body := range objs {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			raw, _ := io.ReadAll(zr)
			// The keys of the sources compact/gen does not import: AWSLogs/ACCOUNT/SERVICE/REGION/...
			var info struct{ AccountID, Region, Source string }
			if p := strings.Split(k, "/"); len(p) > 4 && p[0] == "AWSLogs" {
				info.AccountID, info.Region = p[1], p[3]
				info.Source = map[string]string{"WAFLogs": waf.Table, "elasticloadbalancing": alb.Table, "GuardDuty": guardduty.Table, "SecurityHub": securityhub.Table}[p[2]]
			}
			bad := func(n int64, reason string, _ []byte) { t.Errorf("%s record %d: %s", k, n, reason) }
			switch {
			case strings.HasPrefix(k, hids.GenPrefix):
				_, err = hids.Parse(bytes.NewReader(raw), hids.Options{Key: k}, func(a *hids.Alert) error { e.hids = append(e.hids, a); return nil }, bad)
			case info.Source == waf.Table:
				_, err = waf.Parse(bytes.NewReader(raw), waf.Options{Key: k, FallbackAccount: info.AccountID, FallbackRegion: info.Region},
					func(r *waf.Request) error { e.waf = append(e.waf, r); return nil }, bad)
			case info.Source == alb.Table:
				_, err = alb.Parse(bytes.NewReader(raw), alb.Options{Key: k, FallbackAccount: info.AccountID, FallbackRegion: info.Region},
					func(r *alb.Request) error { e.alb = append(e.alb, r); return nil }, bad)
			case info.Source == guardduty.Table:
				_, err = guardduty.Parse(bytes.NewReader(raw), guardduty.Options{Key: k, FallbackAccount: info.AccountID, FallbackRegion: info.Region},
					func(f *guardduty.Finding) error { e.gd = append(e.gd, f); return nil }, bad)
			case info.Source == securityhub.Table:
				_, err = securityhub.Parse(bytes.NewReader(raw), securityhub.Options{Key: k, FallbackAccount: info.AccountID, FallbackRegion: info.Region},
					func(f *securityhub.Finding) error { e.sh = append(e.sh, f); return nil }, bad)
			default:
				t.Errorf("%s: not a key of the five sources (%+v)", k, info)
			}
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
		}
		edgeOut = e
	})
	if edgeOut == nil {
		t.Fatal("the sources' generation failed earlier")
	}
	return o, edgeOut
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func (o *output) instance(id string) source.GenInstance {
	for _, in := range o.sum.World.Instances {
		if in.ID == id {
			return in
		}
	}
	return source.GenInstance{}
}

// plantedIDs is every record id the ground truth names, by table.
func (o *output) plantedIDs() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, sc := range o.gt.Scenarios {
		for table, ids := range sc.Records {
			if out[table] == nil {
				out[table] = map[string]bool{}
			}
			for _, id := range ids {
				out[table][id] = true
			}
		}
	}
	return out
}

// TestEdgeScenarioRecords: every record the ground truth names is in its table, and every planted row
// is named by the ground truth.
func TestEdgeScenarioRecords(t *testing.T) {
	o, e := edgeOf(t)
	want := o.plantedIDs()
	got := map[string]map[string]bool{waf.Table: {}, alb.Table: {}, guardduty.Table: {}, securityhub.Table: {}, hids.Table: {}}
	for _, r := range e.waf {
		got[waf.Table][str(r.RequestID)] = true
	}
	for _, r := range e.alb {
		got[alb.Table][str(r.TraceID)] = true
	}
	for _, f := range e.gd {
		got[guardduty.Table][f.ID] = true
	}
	for _, f := range e.sh {
		got[securityhub.Table][f.ID] = true
	}
	for _, a := range e.hids {
		got[hids.Table][str(a.AlertID)] = true
	}
	for table, ids := range want {
		if len(ids) == 0 {
			t.Errorf("%s: no planted records", table)
		}
		for id := range ids {
			if !got[table][id] {
				t.Errorf("%s: planted record %s is not in the output", table, id)
			}
		}
	}
	if len(want) != 5 {
		t.Errorf("planted records in %d tables, want the five", len(want))
	}
}

// TestWebCompromiseStory follows the planted story across the tables as the hunts do.
func TestWebCompromiseStory(t *testing.T) {
	o, e := edgeOf(t)
	web := scenario(t, o.gt, ScenarioWebExploit)
	in := o.instance(web.Entities["instance_id"])
	scanner := web.Entities["source_ip"]
	if in.ID == "" || in.Tier != "web" || !strings.HasPrefix(scanner, "192.0.2.") {
		t.Fatalf("victim %+v, scanner %s", in, scanner)
	}
	var firstIn time.Time
	for _, r := range e.alb {
		if str(r.ClientIP) == scanner && *r.ELBStatusCode/100 == 2 {
			if str(r.TargetIP) != in.PrivateIP {
				t.Errorf("ALB %s answered %s from %s, want the victim %s", str(r.TraceID), scanner, str(r.TargetIP), in.PrivateIP)
			}
			if firstIn.IsZero() || r.EventTime.Before(firstIn) {
				firstIn = r.EventTime
			}
		}
	}
	blocked := 0
	for _, r := range e.waf {
		if str(r.ClientIP) == scanner && str(r.Action) == "BLOCK" {
			blocked++
			if !strings.Contains(str(r.Labels), "sql-database") || !r.EventTime.Before(firstIn) {
				t.Errorf("WAF %s: block at %s with labels %s, let in at %s", str(r.RequestID), r.EventTime, str(r.Labels), firstIn)
			}
		}
	}
	accepted := 0
	for _, f := range o.flows {
		if f.f["srcaddr"] == scanner && f.f["action"] == "ACCEPT" && f.f["instance-id"] == in.ID {
			accepted++
		}
	}
	if blocked < 10 || firstIn.IsZero() || accepted == 0 {
		t.Errorf("scanner %s: %d blocked requests, first 2xx at %s, %d accepted flows on %s", scanner, blocked, firstIn, accepted, in.ID)
	}

	host := scenario(t, o.gt, ScenarioHostCompromise)
	c2 := host.Entities["c2_ip"]
	if gd := scenario(t, o.gt, ScenarioGuardDutyC2); gd.Entities["remote_ip"] != c2 {
		t.Errorf("GuardDuty's remote address %s is not the C2 %s", gd.Entities["remote_ip"], c2)
	}
	var alerted time.Time
	top := int32(0)
	for _, a := range e.hids {
		if !slices.Contains(host.Records[hids.Table], str(a.AlertID)) {
			continue
		}
		if str(a.AgentIP) != in.PrivateIP || str(a.InstanceID) != in.ID || str(a.AgentName) != in.Hostname || a.EventTime.Before(firstIn) {
			t.Errorf("alert %s: agent %s %s %s at %s, want the victim %+v after %s", str(a.AlertID), str(a.AgentName), str(a.AgentIP), str(a.InstanceID), a.EventTime, in, firstIn)
		}
		top = max(top, *a.RuleLevel)
		if alerted.IsZero() || a.EventTime.Before(alerted) {
			alerted = a.EventTime
		}
	}
	egress := 0
	for _, f := range o.flows {
		if f.f["srcaddr"] == in.PrivateIP && f.f["dstaddr"] == c2 && f.f["action"] == "ACCEPT" {
			egress++
			if start, _ := strconv.ParseInt(f.f["start"], 10, 64); start < alerted.Unix() {
				t.Errorf("flow to the C2 at %d, before the host alert at %s", start, alerted)
			}
		}
	}
	if top < 10 || egress < 10 {
		t.Errorf("host alerts up to level %d, %d flows to %s", top, egress, c2)
	}
	listed := map[string]bool{}
	for _, feed := range o.gt.TIFeeds {
		for _, ip := range feed.Planted {
			listed[ip] = true
		}
	}
	if !listed[scanner] || !listed[c2] {
		t.Errorf("TI feeds do not list the scanner %s or the C2 %s", scanner, c2)
	}

	gd := scenario(t, o.gt, ScenarioGuardDutyC2)
	var finding *guardduty.Finding
	for _, f := range e.gd {
		if f.ID == gd.Entities["guardduty_finding_id"] {
			finding = f
		}
	}
	if finding == nil || *finding.Severity < 7 || str(finding.InstanceID) != in.ID || !strings.Contains(str(finding.RemoteIPs), c2) {
		t.Fatalf("GuardDuty finding %+v: want HIGH about %s with remote %s", finding, in.ID, c2)
	}
	calls := o.eventsOf(gd)
	for _, r := range calls {
		if r.UserIdentity.ARN != gd.Entities["principal_arn"] || r.t.Sub(*finding.FirstSeen).Abs() > 3*time.Hour {
			t.Errorf("event %s %s by %s at %s, want the role of %s around %s", r.EventID, r.EventName, r.UserIdentity.ARN, r.t, in.ID, finding.FirstSeen)
		}
	}
	if len(calls) < 5 {
		t.Errorf("%d CloudTrail calls by the victim's role", len(calls))
	}
}

// TestExposedAndExternalScenarios: the Inspector CVE is on an instance the internet reaches on the
// affected port, and the bucket Access Analyzer reports is read by the outside account afterwards.
func TestExposedAndExternalScenarios(t *testing.T) {
	o, e := edgeOf(t)
	sc := scenario(t, o.gt, ScenarioExposedVuln)
	in := o.instance(sc.Entities["instance_id"])
	var cve *securityhub.Finding
	for _, f := range e.sh {
		if f.ID == sc.Entities["securityhub_finding_id"] {
			cve = f
		}
	}
	if in.PublicIP == "" || cve == nil || str(cve.ProductName) != "Inspector" || !strings.Contains(str(cve.CVEIDs), cveRegreSSHion) ||
		str(cve.SeverityLabel) != "HIGH" || !strings.Contains(str(cve.ResourceIDs), in.ID) {
		t.Fatalf("instance %+v, finding %+v", in, cve)
	}
	inbound := 0
	for _, f := range o.flows {
		if f.f["srcaddr"] == sc.Entities["source_ip"] && f.f["dstaddr"] == in.PrivateIP && f.f["dstport"] == "22" && f.f["action"] == "ACCEPT" {
			inbound++
		}
	}
	if inbound == 0 {
		t.Errorf("no accepted inbound SSH from %s to %s", sc.Entities["source_ip"], in.PrivateIP)
	}

	sc = scenario(t, o.gt, ScenarioExternalRead)
	var aa *securityhub.Finding
	for _, f := range e.sh {
		if f.ID == sc.Entities["securityhub_finding_id"] {
			aa = f
		}
	}
	if aa == nil || str(aa.ProductName) != "IAM Access Analyzer" || !strings.Contains(str(aa.ResourceIDs), "arn:aws:s3:::"+sc.Entities["bucket"]) {
		t.Fatalf("Access Analyzer finding %+v", aa)
	}
	reads := 0
	for _, r := range o.eventsOf(sc) {
		if r.EventName == "GetObject" && r.UserIdentity.Type == "AWSAccount" && r.UserIdentity.AccountID == sc.Entities["outside_account"] &&
			r.Recipient == sc.Entities["account_id"] && r.t.After(aa.UpdatedAt) && strings.Contains(string(r.RequestParameters), sc.Entities["bucket"]) {
			reads++
		}
	}
	if reads < 10 {
		t.Errorf("%d reads of %s by %s after the finding", reads, sc.Entities["bucket"], sc.Entities["outside_account"])
	}
}

// TestEdgeBackground: the background is about the world, and holds the negatives the hunts rely on:
// scanners WAF blocks never get in anywhere, nothing outside the planted stories is HIGH, and the
// background's access analyzer finding is never used.
func TestEdgeBackground(t *testing.T) {
	o, e := edgeOf(t)
	w := o.sum.World
	planted := o.plantedIDs()
	scanners, clients := map[string]bool{}, map[string]bool{}
	for _, ip := range w.Scanners {
		scanners[ip] = true
	}
	for _, ip := range w.Clients {
		clients[ip] = true
	}
	blocked := map[string]bool{}
	for _, r := range e.waf {
		ip := str(r.ClientIP)
		if planted[waf.Table][str(r.RequestID)] {
			continue
		}
		if !clients[ip] && !scanners[ip] {
			t.Fatalf("WAF request from %s, neither a client nor a scanner of the world", ip)
		}
		if str(r.Action) == "BLOCK" {
			blocked[ip] = true
			if !scanners[ip] {
				t.Errorf("WAF blocked client %s", ip)
			}
		}
	}
	if len(blocked) < 20 {
		t.Errorf("only %d scanners blocked", len(blocked))
	}
	for _, r := range e.alb {
		if ip := str(r.ClientIP); blocked[ip] && *r.ELBStatusCode/100 == 2 {
			t.Errorf("ALB let blocked scanner %s in (%s)", ip, str(r.TraceID))
		}
	}
	for _, f := range o.flows {
		if blocked[f.f["srcaddr"]] && f.f["action"] == "ACCEPT" {
			t.Errorf("flow from blocked scanner %s accepted on %s", f.f["srcaddr"], f.f["interface-id"])
		}
	}
	for _, r := range o.ct {
		if blocked[r.SourceIP] {
			t.Errorf("CloudTrail event %s from blocked scanner %s", r.EventID, r.SourceIP)
		}
		if r.UserIdentity.Type == "AWSAccount" && !slices.Contains(scenario(t, o.gt, ScenarioExternalRead).EventIDs, r.EventID) {
			t.Errorf("background cross-account event %s", r.EventID)
		}
	}
	agents := 0
	for _, a := range e.hids {
		in := o.instance(str(a.InstanceID))
		if in.PrivateIP != str(a.AgentIP) || in.Hostname != str(a.AgentName) {
			t.Fatalf("hids agent %s %s on %s: the instance is %+v", str(a.AgentName), str(a.AgentIP), str(a.InstanceID), in)
		}
		if !planted[hids.Table][str(a.AlertID)] && *a.RuleLevel > 7 {
			t.Errorf("background alert %s at level %d", str(a.AlertID), *a.RuleLevel)
		}
		agents++
	}
	for _, f := range e.gd {
		if !planted[guardduty.Table][f.ID] && *f.Severity >= 7 {
			t.Errorf("background GuardDuty finding %s %s at severity %g", f.ID, str(f.Type), *f.Severity)
		}
		if id := str(f.InstanceID); id != "" && o.instance(id).ID == "" {
			t.Errorf("GuardDuty finding %s about %s, not an instance of the world", f.ID, id)
		}
	}
	analyzer := 0
	for _, f := range e.sh {
		if planted[securityhub.Table][f.ID] {
			continue
		}
		if str(f.ProductName) == "IAM Access Analyzer" {
			analyzer++
		}
		for _, in := range w.Instances {
			if in.PublicIP != "" && strings.Contains(str(f.ResourceIDs), in.ID) && (str(f.SeverityLabel) == "HIGH" || str(f.SeverityLabel) == "CRITICAL") {
				t.Errorf("background %s finding on exposed %s", str(f.SeverityLabel), in.ID)
			}
		}
	}
	if agents == 0 || analyzer == 0 {
		t.Errorf("%d alerts, %d background Access Analyzer findings", agents, analyzer)
	}
}
