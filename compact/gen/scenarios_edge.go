package gen

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/alb"
	"github.com/lakehunt/lakehunt/compact/guardduty"
	"github.com/lakehunt/lakehunt/compact/hids"
	"github.com/lakehunt/lakehunt/compact/securityhub"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/compact/waf"
)

// Scenarios that cross the edge and host sources (WAF, ALB, GuardDuty, Security Hub, hids) with
// CloudTrail and VPC flows. The first three are one story: a scanner that WAF blocked for SQL injection
// gets in through the load balancer, the web server it reached raises a rootkit alert and calls a C2,
// and GuardDuty reports the C2 while the server's role is used from it.

const (
	ScenarioWebExploit     = "waf-blocked-scanner-exploits-web-app"
	ScenarioHostCompromise = "web-host-rootkit-and-c2-egress"
	ScenarioGuardDutyC2    = "guardduty-c2-finding-with-role-activity"
	ScenarioExposedVuln    = "exposed-vulnerable-bastion"
	ScenarioExternalRead   = "access-analyzer-external-bucket-read"

	uaSQLMap       = "sqlmap/1.8.4#stable (https://sqlmap.org)"
	uaExploit      = "python-requests/2.31.0"
	uaOutsideRead  = "Boto3/1.34.120 md/Botocore#1.34.120 ua/2.0 os/linux#6.8.0-1009-aws md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.120"
	cveRegreSSHion = "CVE-2024-6387"
)

// edgeScenarios plans the family. It runs last: the 192.0.2.x addresses earlier scenarios use are
// reserved first.
func (pl *planner) edgeScenarios() []Scenario {
	for _, sc := range pl.gt.Scenarios {
		for _, v := range sc.Entities {
			if strings.HasPrefix(v, "192.0.2.") {
				pl.reservedIPs[v] = true
			}
		}
	}
	return append(pl.webCompromise(), pl.exposedVulnerable(), pl.externalBucketRead())
}

func (pl *planner) record(sc *Scenario, table, id string, t int64) {
	if sc.Records == nil {
		sc.Records = map[string][]string{}
	}
	if ids := sc.Records[table]; len(ids) == 0 || ids[len(ids)-1] != id { // a finding's versions share its id
		sc.Records[table] = append(ids, id)
	}
	span(sc, t)
}

func ms(t int64) time.Time { return time.Unix(0, t*int64(time.Millisecond)).UTC() }

// wafRule is the managed rule that blocked a request; nil: the request was allowed.
type wafRule struct{ group, rule, label string }

var wafSQLi = &wafRule{"AWS-AWSManagedRulesSQLiRuleSet", "SQLi_QUERYARGUMENTS", "awswaf:managed:aws:sql-database:SQLi_QueryArguments"}

// waf plants one WAF log record of the web ACL in front of lb (tms: milliseconds).
func (pl *planner) waf(sc *Scenario, r *rng, lb loadBalancer, acct string, tms int64, ip, method, uri, args, ua string, block *wafRule) {
	id := fmt.Sprintf("1-%08x-%s", tms/1000, r.hex(24))
	rec := map[string]any{
		"timestamp": tms, "formatVersion": 1, "webaclId": lb.webACL,
		"terminatingRuleId": "Default_Action", "terminatingRuleType": "REGULAR", "action": "ALLOW",
		"terminatingRuleMatchDetails": []any{}, "httpSourceName": "ALB", "httpSourceId": acct + "-" + lb.name,
		"ruleGroupList": []any{}, "rateBasedRuleList": []any{}, "nonTerminatingMatchingRules": []any{},
		"requestHeadersInserted": nil, "responseCodeSent": nil, "labels": []any{}, "ja3Fingerprint": r.hex(32),
		"httpRequest": map[string]any{"clientIp": ip, "country": "NL", "uri": uri, "args": args, "httpVersion": "HTTP/1.1",
			"httpMethod": method, "requestId": id,
			"headers": []any{map[string]any{"name": "Host", "value": lb.host}, map[string]any{"name": "User-Agent", "value": ua}}},
	}
	if block != nil {
		rec["terminatingRuleId"], rec["terminatingRuleType"], rec["action"] = block.group, "MANAGED_RULE_GROUP", "BLOCK"
		rec["ruleGroupList"] = []any{map[string]any{"ruleGroupId": "AWS#" + strings.TrimPrefix(block.group, "AWS-"),
			"terminatingRule": map[string]any{"ruleId": block.rule, "action": "BLOCK"}}}
		rec["labels"] = []any{map[string]any{"name": block.label}}
	}
	pl.edge.waf = append(pl.edge.waf, rec)
	pl.record(sc, waf.Table, id, tms/1000)
}

// alb plants one access log entry of lb: target "" when WAF blocked the request (403, actions waf).
func (pl *planner) alb(sc *Scenario, r *rng, lb loadBalancer, tms int64, ip, method, path, ua, target string, status int) {
	t := ms(tms)
	trace := fmt.Sprintf("Root=1-%08x-%s", t.Unix(), r.hex(24))
	tgt, tstatus, actions, tproc := target, strconv.Itoa(status), "forward", fmt.Sprintf("%.3f", float64(r.between(5, 900))/1000)
	if target == "" {
		tgt, tstatus, actions, tproc = "-", "-", "waf", "-1"
	}
	line := fmt.Sprintf(`https %s %s %s:%d %s 0.000 %s 0.000 %d %s %d %d "%s https://%s:443%s HTTP/1.1" "%s" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 %s "%s" "%s" "-" 0 %s "%s" "-" "-" "%s" "%s" "-" "-" TID_%s`,
		t.Format("2006-01-02T15:04:05.000000Z"), lb.name, ip, r.between(ephemeralLo, ephemeralHi), tgt, tproc, status, tstatus,
		r.between(300, 2400), r.between(200, 9000), method, lb.host, path, ua, lb.targetGroup, trace, lb.host,
		t.Add(-time.Duration(r.between(1, 300))*time.Millisecond).Format("2006-01-02T15:04:05.000000Z"), actions, tgt, tstatus, r.hex(16))
	pl.edge.alb = append(pl.edge.alb, line)
	pl.record(sc, alb.Table, trace, t.Unix())
}

// conn plants a TCP connection seen on eni: the initiator's record and the reply, accepted.
func (pl *planner) conn(sc *Scenario, r *rng, v *vpc, eni *instance, t int64, from, to uint32, dport int, outB, inB int, egress bool) {
	sport := r.between(ephemeralLo, ephemeralHi)
	end := t + int64(r.between(1, 50))
	pl.flow(sc, v, flowRec{start: t, end: end, eni: eni, src: from, dst: to, sport: sport, dport: dport, proto: 6,
		packets: int64(max(1, outB/500)), bytes: int64(outB), flags: 3, egress: egress, path: 1})
	pl.flow(sc, v, flowRec{start: t, end: end, eni: eni, src: to, dst: from, sport: dport, dport: sport, proto: 6,
		packets: int64(max(1, inB/500)), bytes: int64(inB), flags: 19, egress: !egress, path: 1})
}

func (pl *planner) hidsAlert(sc *Scenario, r *rng, in *instance, t int64, ruleID string, level int, desc, decoder, location string,
	groups, mitre []string, log string, extra map[string]any) string {
	region := in.vpc.ar.info.name
	id := fmt.Sprintf("%d.%d", t, 900000000+r.intn(90000000))
	a := hids.Wazuh(in.vpc.ar.acct.id, region, hids.Manager(region), pl.w.agentOf(in), pl.exportInstance(in), time.Unix(t, 0),
		id, ruleID, level, desc, decoder, location, groups, mitre, log, r.between(1000, 60000), "", false, 1)
	for k, v := range extra {
		a[k] = v
	}
	pl.edge.hids = append(pl.edge.hids, a)
	pl.record(sc, hids.Table, id, t)
	return id
}

func (pl *planner) exportInstance(in *instance) source.GenInstance {
	gi := source.GenInstance{Account: in.vpc.ar.acct.id, Region: in.vpc.ar.info.name, ID: in.id, Hostname: in.hostname(),
		PrivateIP: in.ipStr, Tier: tierNames[in.tier], Role: in.role, AgentID: pl.w.agentOf(in)}
	if in.publicIP != 0 {
		gi.PublicIP = ipString(in.publicIP)
	}
	return gi
}

// A scanner probes the shop with sqlmap and WAF blocks it; the next day it comes back with a payload
// WAF's rules do not match, the load balancer forwards it to a web server (200), and the server opens a
// reverse shell to it. The web server then raises a rootkit alert and beacons to a C2 that GuardDuty
// reports, while the server's role lists and reads buckets.
func (pl *planner) webCompromise() []Scenario {
	w := pl.w
	r := pl.rng(ScenarioWebExploit)
	acct := w.accounts[0]
	ar := acct.regions[len(w.regions)-1]
	v := ar.vpcs[0]
	in, node := v.byTier[tWeb][0], v.albs[0]
	lb := w.loadBalancer(v)
	scanner, c2 := pl.outsiderAddr(&r), pl.outsiderAddr(&r)
	pl.tiIPs = append(pl.tiIPs, scanner, c2)
	region := ar.info.name
	base := map[string]string{"account_id": acct.id, "region": region, "instance_id": in.id}
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	web := Scenario{Name: ScenarioWebExploit,
		Description: fmt.Sprintf("%s runs sqlmap against %s (load balancer %s): web ACL %s blocks every request (SQLi_QUERYARGUMENTS). "+
			"Hours later the same address posts a payload the rules do not match, the load balancer answers 200 from web server %s, "+
			"and the server opens a reverse shell to it (TCP/4444). A TI feed published after the range lists the address.",
			scanner, lb.host, lb.name, lb.aclName, in.id),
		Entities:      with("source_ip", scanner, "load_balancer", lb.name, "web_acl", lb.webACL, "interface_id", in.eni),
		ExpectedHunts: []string{"waf-blocked-then-let-in", "ti-ip-edge"}}
	// Everything fits before the account's CloudTrail ends (latestFor) however short the range: the
	// scanner comes back after 18 to 22 hours, or sooner.
	t := pl.at(&r, 1, 6, pl.latestFor(acct)-6*3600)
	gap := min(int64(r.between(18, 22))*3600, max(0, pl.latestFor(acct)-4*3600-t)*3/4)
	sqli := []string{"q=1%27%20OR%20%271%27%3D%271", "q=1%27%20AND%20SLEEP(5)--%20-", "q=1%27%20UNION%20ALL%20SELECT%20NULL%2CNULL--%20-",
		"id=1%20AND%201%3D1", "id=1%27%29%20AND%20EXTRACTVALUE(1%2CCONCAT(0x5c%2C0x71))--", "q=%27%3BWAITFOR%20DELAY%20%270%3A0%3A5%27--"}
	tms := t * 1000
	for i := 0; i < 14; i++ {
		tms += int64(r.between(800, 9000))
		uri := []string{"/search", "/api/v1/orders"}[i%2]
		args := sqli[i%len(sqli)]
		pl.waf(&web, &r, lb, acct.id, tms, scanner, "GET", uri, args, uaSQLMap, wafSQLi)
		pl.alb(&web, &r, lb, tms+int64(r.between(1, 40)), scanner, "GET", uri+"?"+args, uaSQLMap, "", 403)
	}
	t = tms/1000 + gap
	tms = t * 1000
	ip := parseIP(scanner)
	for _, args := range []string{"", "", "format=yaml"} {
		tms += int64(r.between(2000, 20000))
		path := "/api/v1/import"
		if args != "" {
			path += "?" + args
		}
		pl.waf(&web, &r, lb, acct.id, tms, scanner, "POST", "/api/v1/import", args, uaExploit, nil)
		pl.alb(&web, &r, lb, tms+int64(r.between(1, 40)), scanner, "POST", path, uaExploit, in.ipStr+":8080", 200)
		pl.conn(&web, &r, v, node, tms/1000, ip, node.ip, 443, r.between(900, 4000), r.between(500, 3000), false)
		pl.conn(&web, &r, v, in, tms/1000, node.ip, in.ip, 8080, r.between(900, 4000), r.between(300, 2000), false)
	}
	shell := tms/1000 + int64(r.between(40, 120))
	for i := int64(0); i < 4; i++ { // the shell's connection, one record pair per 10-minute aggregation window
		pl.conn(&web, &r, v, in, shell+i*600, in.ip, ip, 4444, r.between(3000, 20000), r.between(2000, 9000), true)
	}

	host := Scenario{Name: ScenarioHostCompromise,
		Description: fmt.Sprintf("After the web exploit, the Wazuh agent on %s (%s, %s) reports /usr/bin/ps modified, a trojaned ps and a possible kernel-level "+
			"rootkit (level 11); from then on the instance calls %s:443 every ten minutes, an address it never talked to before and that a TI feed lists.",
			in.id, in.hostname(), in.ipStr, c2),
		Entities:      with("agent_name", in.hostname(), "agent_ip", in.ipStr, "c2_ip", c2),
		ExpectedHunts: []string{"host-alert-egress"}}
	t = shell + int64(r.between(15, 40))*60
	pl.hidsAlert(&host, &r, in, t, "550", 7, "Integrity checksum changed.", "syscheck_integrity_changed", "syscheck",
		[]string{"ossec", "syscheck", "syscheck_entry_modified", "syscheck_file"}, []string{"T1565.001"}, "File '/usr/bin/ps' modified (pid %d)",
		map[string]any{"syscheck": map[string]any{"path": "/usr/bin/ps", "event": "modified", "mode": "realtime", "md5_before": r.hex(32), "md5_after": r.hex(32),
			"changed_attributes": []string{"size", "mtime", "md5", "sha1", "sha256"}}})
	t += int64(r.between(120, 900))
	pl.hidsAlert(&host, &r, in, t, "510", 7, "Host-based anomaly detection event (rootcheck).", "rootcheck", "rootcheck",
		[]string{"ossec", "rootcheck"}, nil, "Trojaned version of file '/usr/bin/ps' detected. Signature used: 'bash|proc\\.h|/dev/[^n]|/dev/ptyq' (Generic) (pid %d)", nil)
	t += int64(r.between(5, 60))
	pl.hidsAlert(&host, &r, in, t, "521", 11, "Possible kernel level rootkit", "rootcheck", "rootcheck",
		[]string{"ossec", "rootcheck", "rootkit"}, []string{"T1014"}, "Possible kernel level rootkit: process 4171 hidden from /proc and ps (pid %d)", nil)
	beacon := t + int64(r.between(5, 15))*60
	c2n := parseIP(c2)
	for i := int64(0); i < 48 && beacon+i*600+20 < pl.end; i++ {
		pl.conn(&host, &r, v, in, beacon+i*600+int64(r.between(-20, 20)), in.ip, c2n, 443, r.between(600, 1400), r.between(300, 1800), true)
	}

	gd := Scenario{Name: ScenarioGuardDutyC2,
		Description: fmt.Sprintf("GuardDuty reports Backdoor:EC2/C&CActivity.B (severity 8) for %s talking to %s; around it the instance's role %s "+
			"checks its identity, lists buckets, reads objects and is denied secrets, from the instance.", in.id, c2, in.role),
		ExpectedHunts: []string{"guardduty-in-context", "ti-ip-edge"}}
	created := beacon + int64(r.between(40, 90))*60
	detector := ar.detector
	findingID := r.hex(32)
	gd.Entities = with("guardduty_finding_id", findingID, "remote_ip", c2, "role_arn", in.p.roleARN, "principal_arn", in.p.arn)
	for i, seen := range []int64{created, min(created+int64(r.between(3, 5))*3600, pl.end-60)} {
		f := map[string]any{
			"schemaVersion": "2.0", "accountId": acct.id, "region": region, "partition": "aws", "id": findingID, "type": "Backdoor:EC2/C&CActivity.B",
			"arn":      "arn:aws:guardduty:" + region + ":" + acct.id + ":detector/" + detector + "/finding/" + findingID,
			"severity": 8, "title": "EC2 instance " + in.id + " is querying an IP address associated with a known command and control server.",
			"description": "EC2 instance " + in.id + " is communicating with IP address " + c2 + " on the threat list.",
			"createdAt":   time.Unix(created, 0).UTC().Format("2006-01-02T15:04:05.000Z"), "updatedAt": time.Unix(seen, 0).UTC().Format("2006-01-02T15:04:05.000Z"),
			"resource": map[string]any{"resourceType": "Instance", "instanceDetails": map[string]any{"instanceId": in.id, "instanceType": "m6i.large",
				"networkInterfaces":  []any{map[string]any{"networkInterfaceId": in.eni, "privateIpAddress": in.ipStr, "subnetId": in.sub.id, "vpcId": v.id}},
				"iamInstanceProfile": map[string]any{"arn": "arn:aws:iam::" + acct.id + ":instance-profile/" + in.role}}},
			"service": map[string]any{"serviceName": "guardduty", "detectorId": detector, "archived": false, "resourceRole": "ACTOR", "count": 1 + 13*i,
				"eventFirstSeen": time.Unix(beacon, 0).UTC().Format(time.RFC3339), "eventLastSeen": time.Unix(seen, 0).UTC().Format(time.RFC3339),
				"additionalInfo": map[string]any{"threatListName": "ProofPoint", "value": `{"threatListName":"ProofPoint"}`},
				"action": map[string]any{"actionType": "NETWORK_CONNECTION", "networkConnectionAction": map[string]any{"connectionDirection": "OUTBOUND",
					"protocol": "TCP", "blocked": false, "localPortDetails": map[string]any{"port": 41876, "portName": "Unknown"},
					"remotePortDetails": map[string]any{"port": 443, "portName": "HTTPS"},
					"remoteIpDetails": map[string]any{"ipAddressV4": c2, "organization": map[string]any{"asn": "64496", "asnOrg": "EXAMPLE-HOSTING"},
						"country": map[string]any{"countryName": "Netherlands"}}}}},
		}
		pl.edge.guardduty = append(pl.edge.guardduty, f)
		pl.record(&gd, guardduty.Table, findingID, seen)
	}
	// The role's credentials, used on the instance by the intruder: one session, from the instance's egress.
	ct := created - int64(r.between(10, 20))*60
	step := func() int64 { ct += int64(r.between(20, 120)); return ct }
	bucket := acct.buckets[1] // prod-uploads
	bhost := bucket + ".s3." + region + ".amazonaws.com"
	for _, c := range []struct {
		name string
		deny bool
	}{{"GetCallerIdentity", false}, {"ListBuckets", false}, {"ListObjects", false}, {"GetObject", false}, {"GetObject", false},
		{"GetObject", false}, {"DescribeInstances", false}, {"ListSecrets", true}, {"GetSecretValue", true}, {"ListRoles", true}} {
		ev := pl.ct(&gd, &r, in.p, c.name, ar.ridx, step(), in.egress, uaOnInstance, c.deny)
		switch c.name {
		case "ListObjects":
			ev.fixed, ev.params, ev.resources = true, `{"bucketName":"`+bucket+`","Host":"`+bhost+`","list-type":"2","prefix":""}`, s3Resources(acct.id, bucket, "")
		case "GetObject":
			key := "uploads/2025/" + r.hex(16) + ".csv"
			ev.fixed, ev.params, ev.resources = true, `{"bucketName":"`+bucket+`","Host":"`+bhost+`","key":"`+key+`","x-id":"GetObject"}`, s3Resources(acct.id, bucket, key)
		}
	}
	return []Scenario{web, host, gd}
}

// An Inspector finding in Security Hub reports CVE-2024-6387 (regreSSHion, OpenSSH) on a bastion whose
// SSH port the flow logs show accepting connections from an address on the internet.
func (pl *planner) exposedVulnerable() Scenario {
	w := pl.w
	r := pl.rng(ScenarioExposedVuln)
	acct := w.accounts[1%len(w.accounts)]
	ar := acct.regions[len(w.regions)-1]
	v := ar.vpcs[0]
	b := v.byTier[tBastion][0]
	ip := pl.outsiderAddr(&r)
	findingID := r.hex(32)
	sc := Scenario{Name: ScenarioExposedVuln,
		Description: fmt.Sprintf("Amazon Inspector reports %s (OpenSSH, CVSS 8.1) on bastion %s (%s), and %s then opens accepted SSH connections to it on TCP/22.",
			cveRegreSSHion, b.id, ipString(b.publicIP), ip),
		ExpectedHunts: []string{"exposed-and-vulnerable"}}
	created := pl.at(&r, 4, 12, pl.end-10*3600)
	gi := pl.exportInstance(b)
	for _, t := range []int64{created, min(created+86400, pl.end-60)} {
		f := securityhub.Inspector(gi, cveRegreSSHion, "openssh-server", "8.7p1-38.amzn2023", 8.1, findingID, time.Unix(created, 0), time.Unix(t, 0))
		f["Title"] = cveRegreSSHion + " - openssh-server"
		f["Remediation"] = map[string]any{"Recommendation": map[string]any{"Text": "Update openssh-server to 8.7p1-38.amzn2023.0.2 or later."}}
		pl.edge.securityhub = append(pl.edge.securityhub, f)
		pl.record(&sc, securityhub.Table, f["Id"].(string), t)
	}
	sc.Entities = map[string]string{"account_id": acct.id, "region": ar.info.name, "instance_id": b.id, "cve_id": cveRegreSSHion,
		"securityhub_finding_id": sc.Records[securityhub.Table][0], "source_ip": ip, "port": "22"}
	t := created + int64(r.between(2, 6))*3600
	for i := 0; i < 6; i++ {
		t += int64(r.between(60, 1500))
		pl.conn(&sc, &r, v, b, t, parseIP(ip), b.ip, 22, r.between(2000, 40000), r.between(2000, 30000), false)
	}
	return sc
}

// IAM Access Analyzer reports that a backups bucket grants read access to an account outside the
// organization (a bucket policy left over from a vendor); a day later that account lists and downloads
// the bucket's objects.
func (pl *planner) externalBucketRead() Scenario {
	w := pl.w
	r := pl.rng(ScenarioExternalRead)
	acct := w.accounts[1%len(w.accounts)]
	ar := acct.regions[0]
	bucket := acct.buckets[3] // backups
	outside, ip := outsideAccount(&r), pl.outsiderAddr(&r)
	reader := &principal{kind: kExternal, acct: acct, extAccount: outside, principalID: awsID("AROA", hashStr(outside)) + ":backup-sync",
		id: seedOf(w.seed, hashStr(outside))}
	sc := Scenario{Name: ScenarioExternalRead,
		Description: fmt.Sprintf("IAM Access Analyzer (through Security Hub) reports that %s allows cross-account access from account %s; "+
			"later a role of that account lists the bucket and downloads 25 objects from %s.", bucket, outside, ip),
		ExpectedHunts: []string{"access-analyzer-external-used"}}
	t := pl.at(&r, 3, 10, pl.latestFor(acct)-4*3600)
	f := securityhub.AccessAnalyzer(acct.id, ar.info.name, bucket, outside, "s3:GetObject,s3:ListBucket", r.uuid(), time.Unix(t, 0))
	pl.edge.securityhub = append(pl.edge.securityhub, f)
	pl.record(&sc, securityhub.Table, f["Id"].(string), t)
	sc.Entities = map[string]string{"account_id": acct.id, "bucket": bucket, "outside_account": outside, "source_ip": ip,
		"principal_id": reader.principalID, "securityhub_finding_id": f["Id"].(string)}
	t += min(int64(r.between(20, 30))*3600, (pl.latestFor(acct)-600-t)*2/3)
	step := func() int64 { t += int64(r.between(2, 20)); return t }
	host := bucket + ".s3." + ar.info.name + ".amazonaws.com"
	ev := pl.ct(&sc, &r, reader, "ListObjects", ar.ridx, step(), ip, uaOutsideRead, false)
	ev.fixed, ev.params, ev.resources = true, `{"bucketName":"`+bucket+`","Host":"`+host+`","list-type":"2","prefix":"db/"}`, s3Resources(acct.id, bucket, "")
	for i := 0; i < 25; i++ {
		key := "db/" + []string{"orders", "customers", "payments"}[i%3] + "/" + time.Unix(t, 0).UTC().Format("2006-01-02") + "/part-" + fmt.Sprintf("%05d", i) + ".sql.gz"
		ev := pl.ct(&sc, &r, reader, "GetObject", ar.ridx, step(), ip, uaOutsideRead, false)
		ev.fixed, ev.params, ev.resources = true, `{"bucketName":"`+bucket+`","Host":"`+host+`","key":"`+key+`","x-id":"GetObject"}`, s3Resources(acct.id, bucket, key)
		ev.addl = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":` +
			strconv.Itoa(r.heavy(200000, 90000000)) + `}`
	}
	return sc
}
