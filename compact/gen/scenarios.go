package gen

import (
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// GroundTruth is what Generate planted, written as "ground-truth.json" next to the logs.
type GroundTruth struct {
	Seed      int64      `json:"seed"`
	Scale     string     `json:"scale"`
	Start     time.Time  `json:"start"`
	End       time.Time  `json:"end"` // exclusive
	Accounts  []string   `json:"accounts"`
	Regions   []string   `json:"regions"`
	TIFeeds   []TIFeed   `json:"ti_feeds"`
	Scenarios []Scenario `json:"scenarios"`
}

// TIFeed is one threat-intel file written under ti/.
type TIFeed struct {
	Key        string    `json:"key"`
	Format     string    `json:"format"` // ip-list | feodo-csv | domain-list
	Published  time.Time `json:"published"`
	Indicators []string  `json:"indicators"` // everything the feed lists
	Planted    []string  `json:"planted"`    // the indicators that occur in the logs (the rest are decoys)
}

// Scenario is one planted attack: its entities, time span and exactly the records that belong to it.
type Scenario struct {
	Name        string            `json:"name"`
	Description string            `json:"description"`
	Entities    map[string]string `json:"entities"`
	Start       time.Time         `json:"start"` // first record
	End         time.Time         `json:"end"`   // last record
	EventIDs    []string          `json:"event_ids,omitempty"`
	Flows       []FlowKey         `json:"flows,omitempty"`
	DNSQueries  []DNSQuery        `json:"dns_queries,omitempty"`
	// Records names the planted records of the other sources, by table: WAF request_id, ALB trace_id,
	// GuardDuty and Security Hub finding id (every version of it), hids alert_id.
	Records       map[string][]string `json:"records,omitempty"`
	ExpectedHunts []string            `json:"expected_hunts"`
}

// FlowKey identifies one planted flow-log record.
type FlowKey struct {
	AccountID     string    `json:"account_id"`
	InterfaceID   string    `json:"interface_id"`
	InstanceID    string    `json:"instance_id,omitempty"`
	SrcAddr       string    `json:"srcaddr"`
	DstAddr       string    `json:"dstaddr"`
	SrcPort       int       `json:"srcport"`
	DstPort       int       `json:"dstport"`
	Protocol      int       `json:"protocol"`
	Start         time.Time `json:"start"`
	Action        string    `json:"action"`
	FlowDirection string    `json:"flow_direction"`
}

// DNSQuery identifies one planted resolver query.
type DNSQuery struct {
	AccountID  string    `json:"account_id"`
	VPCID      string    `json:"vpc_id"`
	InstanceID string    `json:"instance_id"`
	Time       time.Time `json:"time"`
	QueryName  string    `json:"query_name"`
	QueryType  string    `json:"query_type"`
	Rcode      string    `json:"rcode"`
}

// Scenario names.
const (
	ScenarioStolenKey            = "stolen-access-key"
	ScenarioInstanceCreds        = "instance-credentials-outside-ec2"
	ScenarioC2Beaconing          = "c2-beaconing"
	ScenarioDNSTunnelling        = "dns-tunnelling"
	ScenarioOffensiveTools       = "offensive-tool-user-agents"
	ScenarioRootLogin            = "root-console-login-without-mfa"
	ScenarioSecretsBurst         = "secrets-burst"
	groundTruthKey               = "ground-truth.json"
	uaTruffleHog                 = "TruffleHog"
	uaKali                       = "aws-cli/1.22.34 Python/3.9.11 Linux/5.15.0-kali3-amd64 botocore/1.24.34"
	uaPacu                       = "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#6.6.9-amd64 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69 Pacu/1.5.3"
	uaStolenKey                  = "Boto3/1.26.45 Python/3.10.12 Linux/5.15.0-91-generic Botocore/1.29.45"
	uaStolenInstanceCreds        = "aws-cli/2.15.19 Python/3.11.6 Linux/6.6.9-amd64 exe/x86_64.debian.12 prompt/off"
	uaRootBrowser                = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"
	beaconEvery            int64 = 300
)

type planner struct {
	w       *world
	gt      *GroundTruth
	attack  []string // 192.0.2.x addresses, one per role, distinct
	decoys  []string // 192.0.2.x addresses only the TI feeds list
	aStart  int64    // planted activity happens in [aStart, end)
	end     int64
	c2IP    string
	c2Dom   string
	tiIPs   []string
	tiDoms  []string
	feodoAt int64 // first_seen of the C2 in the Feodo feed
	// reservedIPs and reservedPrincipals are claimed by the scenario families planned first (evasion),
	// so that those planned later (IAM) pick addresses and principals of their own.
	reservedIPs        map[string]bool
	reservedPrincipals map[*principal]bool
	evasionIPs         []string
	edge               planted // records of the sources with their own generator
}

// plan places every scenario, records its ground truth and hands its records to the streams.
func plan(w *world, seed int64, scaleName string) (*GroundTruth, *planner, error) {
	pl := &planner{w: w, end: w.end(), reservedIPs: map[string]bool{}, reservedPrincipals: map[*principal]bool{}}
	pl.gt = &GroundTruth{Seed: seed, Scale: scaleName, Start: time.Unix(w.start, 0).UTC(), End: time.Unix(pl.end, 0).UTC()}
	for _, a := range w.accounts {
		pl.gt.Accounts = append(pl.gt.Accounts, a.id)
	}
	for _, r := range w.regions {
		pl.gt.Regions = append(pl.gt.Regions, r.name)
	}
	// The attack happens in the last days so that a 7-day window with earlier days as baseline sees it.
	lastDays := int64(min(3, w.days-1))
	pl.aStart = pl.end - lastDays*86400
	if w.days == 1 {
		pl.aStart = w.start
	}
	r := newRNG(w.seed, tagScenario)
	hosts := pickDistinct(&r, hostRange(10, 250), 6+14)
	for i, h := range hosts {
		ip := "192.0.2." + h
		if i < 6 {
			pl.attack = append(pl.attack, ip)
		} else {
			pl.decoys = append(pl.decoys, ip)
		}
	}
	for _, f := range []func() Scenario{pl.offensiveTools, pl.instanceCreds, pl.c2Beaconing, pl.dnsTunnelling,
		pl.rootLogin, pl.secretsBurst, pl.stolenKey, pl.snapshotShare, pl.bucketBackdoor, pl.sshOpened, pl.lambdaBackdoor,
		pl.securityToolingDisabled, pl.trailBucketLifecycle, pl.s3RansomwareSSEC} {
		sc := f()
		pl.gt.Scenarios = append(pl.gt.Scenarios, sc)
	}
	pl.gt.Scenarios = append(pl.gt.Scenarios, pl.iamScenarios()...)
	pl.gt.Scenarios = append(pl.gt.Scenarios, pl.instanceScenarios()...)
	pl.gt.Scenarios = append(pl.gt.Scenarios, pl.edgeScenarios()...)
	slices.SortFunc(pl.gt.Scenarios, func(a, b Scenario) int { return strings.Compare(a.Name, b.Name) })
	if err := pl.finish(); err != nil {
		return nil, nil, err
	}
	return pl.gt, pl, nil
}

func hostRange(lo, hi int) []string {
	var out []string
	for i := lo; i <= hi; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

// finish sorts the planted records and checks that each will be written: inside the range and not
// after a planted StopLogging of its account.
func (pl *planner) finish() error {
	for _, st := range pl.w.streams {
		slices.SortStableFunc(st.planted, func(a, b *ctEvent) int { return cmpInt(a.t, b.t) })
		for _, e := range st.planted {
			if e.t < pl.w.start || e.t >= pl.end {
				return fmt.Errorf("internal: planted %s at %s is outside the range", e.a.name, isoTime(e.t))
			}
			if stop := st.ar.acct.ctStop; stop > 0 && e.t > stop {
				return fmt.Errorf("internal: planted %s at %s is after StopLogging in account %s", e.a.name, isoTime(e.t), st.ar.acct.id)
			}
		}
	}
	for _, v := range pl.w.vpcs {
		slices.SortStableFunc(v.plantedFlows, func(a, b flowRec) int { return cmpInt(a.start, b.start) })
		slices.SortStableFunc(v.plantedDNS, func(a, b dnsQuery) int { return cmpInt(a.t, b.t) })
		for _, f := range v.plantedFlows {
			if f.start < pl.w.start || f.start >= pl.end || (v.flowDeletedAt > 0 && f.start >= v.flowDeletedAt) {
				return fmt.Errorf("internal: planted flow at %s in %s cannot be delivered", isoTime(f.start), v.id)
			}
		}
	}
	return nil
}

func (pl *planner) rng(name string) rng { return newRNG(pl.w.seed, tagScenario, hashStr(name)) }

// window returns a start time in [from, to) offsets from the attack window start, clamped to the range.
func (pl *planner) at(r *rng, fromH, toH float64, latest int64) int64 {
	lo := pl.aStart + int64(fromH*3600)
	hi := pl.aStart + int64(toH*3600)
	hi = min(hi, latest)
	lo = min(lo, hi)
	lo = max(lo, pl.w.start)
	return lo + int64(r.intn(int(hi-lo)+1))
}

func (pl *planner) ct(sc *Scenario, r *rng, p *principal, name string, region int, t int64, ip, ua string, deny bool) *ctEvent {
	a := lookupAPI(name)
	if a.global {
		region = 0
	}
	ev := &ctEvent{t: t, p: p, a: a, region: region, srcIP: ip, ua: ua, planted: true}
	ev.id, ev.requestID = r.uuid(), r.uuid()
	if deny {
		ev.errCode, ev.errMsg = a.denyCode(), denyMessage(a, p.arn)
	}
	st := p.acct.regions[region].ct
	st.planted = append(st.planted, ev)
	sc.EventIDs = append(sc.EventIDs, ev.id)
	span(sc, t)
	return ev
}

func span(sc *Scenario, t int64) {
	tt := time.Unix(t, 0).UTC()
	if sc.Start.IsZero() || tt.Before(sc.Start) {
		sc.Start = tt
	}
	if tt.After(sc.End) {
		sc.End = tt
	}
}

func firstOf(ps []*principal, ok func(*principal) bool, skip *principal) *principal {
	for _, p := range ps {
		if p != skip && ok(p) {
			return p
		}
	}
	return nil
}

func isKeyUser(p *principal) bool { return p.kind == kIAMUser }
func isSSOCLI(p *principal) bool  { return p.kind == kSSO && !p.console }

// A leaked long-term key is used from a new address with a new agent: recon across regions with
// many denials, then the trail is stopped and a flow log deleted (the usual order in IR reports).
func (pl *planner) stolenKey() Scenario {
	w := pl.w
	r := pl.rng(ScenarioStolenKey)
	acct := w.accounts[0]
	victim := firstOf(acct.people, isKeyUser, nil)
	ip := pl.attack[0]
	stop := pl.end - 3*3600 - int64(r.intn(1800))
	dev := acct.regions[0].vpcs[1]
	sc := Scenario{Name: ScenarioStolenKey,
		Description: "Long-term access key of " + victim.userName + " used from " + ip + " (never seen for this user) with a new user agent: " +
			"reconnaissance across regions with many AccessDenied errors, then DeleteFlowLogs and StopLogging. " +
			"CloudTrail delivery for the account ends at StopLogging and the deleted flow log delivers nothing after DeleteFlowLogs.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": victim.arn, "user_name": victim.userName,
			"access_key_id": victim.akia, "source_ip": ip, "user_agent": uaStolenKey,
			"trail_arn":   "arn:aws:cloudtrail:us-east-1:" + acct.id + ":trail/" + acct.trailName,
			"flow_log_id": dev.flowLogID, "vpc_id": dev.id},
		ExpectedHunts: []string{"cloudtrail-logging-evasion", "cloudtrail-failure-spike", "cloudtrail-new-behaviour", "ti-ip-cloudtrail"}}
	t := stop - 100*60
	step := func() int64 { t += int64(r.between(15, 75)); return t }
	pl.ct(&sc, &r, victim, "GetCallerIdentity", 0, step(), ip, uaStolenKey, false)
	global := []struct {
		name string
		deny bool
	}{{"ListUsers", false}, {"ListRoles", false}, {"GetAccountAuthorizationDetails", true}, {"ListPolicies", true},
		{"ListAttachedUserPolicies", false}, {"ListAccessKeys", false}, {"ListGroups", true}, {"ListInstanceProfiles", true},
		{"GetAccountSummary", true}, {"GetAccountPasswordPolicy", true}, {"DescribeOrganization", true}, {"ListAccounts", true}}
	for _, g := range global {
		pl.ct(&sc, &r, victim, g.name, 0, step(), ip, uaStolenKey, g.deny)
	}
	perRegion := []struct {
		name string
		deny bool
	}{{"DescribeInstances", false}, {"DescribeSecurityGroups", true}, {"DescribeVpcs", false}, {"DescribeSnapshots", true},
		{"ListFunctions20150331", true}, {"ListSecrets", true}, {"DescribeDBInstances", true}, {"ListDetectors", true},
		{"DescribeTrails", false}, {"ListKeys", true}, {"ListTables", true}, {"DescribeFlowLogs", false}}
	pl.ct(&sc, &r, victim, "DescribeRegions", 0, step(), ip, uaStolenKey, false)
	pl.ct(&sc, &r, victim, "ListBuckets", 0, step(), ip, uaStolenKey, false)
	for i := 0; i < 4; i++ {
		pl.ct(&sc, &r, victim, []string{"GetBucketPolicy", "GetBucketAcl"}[i%2], 0, step(), ip, uaStolenKey, true)
	}
	for reg := range w.regions {
		for _, x := range perRegion {
			pl.ct(&sc, &r, victim, x.name, reg, step(), ip, uaStolenKey, x.deny)
		}
	}
	pl.ct(&sc, &r, victim, "GetTrailStatus", 0, max(t+30, stop-240), ip, uaStolenKey, false)
	del := pl.ct(&sc, &r, victim, "DeleteFlowLogs", 0, stop-120, ip, uaStolenKey, false)
	del.fixed = true
	del.params = `{"DeleteFlowLogsRequest":{"FlowLogId":{"tag":1,"content":"` + dev.flowLogID + `"}}}`
	del.resp = `{"DeleteFlowLogsResponse":{"xmlns":"http://ec2.amazonaws.com/doc/2016-11-15/","requestId":"` + r.uuid() + `","unsuccessful":""}}`
	dev.flowDeletedAt = del.t
	pl.ct(&sc, &r, victim, "StopLogging", 0, stop, ip, uaStolenKey, false)
	acct.ctStop = stop
	pl.tiIPs = append(pl.tiIPs, ip)
	return sc
}

// TruffleHog verifies a leaked key, then the attacker enumerates from Kali and runs Pacu
// (the Crimson Collective pattern).
func (pl *planner) offensiveTools() Scenario {
	w := pl.w
	r := pl.rng(ScenarioOffensiveTools)
	acct := w.accounts[1%len(w.accounts)]
	skip := (*principal)(nil)
	if acct.idx == 0 {
		skip = firstOf(acct.people, isKeyUser, nil) // the stolen-key victim
	}
	victim := firstOf(acct.people, isKeyUser, skip)
	scanIP, opIP := pl.attack[1], pl.attack[2]
	sc := Scenario{Name: ScenarioOffensiveTools,
		Description: "Leaked key of " + victim.userName + " validated by TruffleHog (GetCallerIdentity), then enumerated with the AWS CLI from Kali Linux and with Pacu.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": victim.arn, "access_key_id": victim.akia,
			"source_ip": opIP, "scanner_ip": scanIP, "user_agent_trufflehog": uaTruffleHog, "user_agent_kali": uaKali, "user_agent_pacu": uaPacu},
		ExpectedHunts: []string{"suspicious-user-agents", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 6, 12, pl.end-12*3600)
	pl.ct(&sc, &r, victim, "GetCallerIdentity", 0, t, scanIP, uaTruffleHog, false)
	t += int64(r.between(40, 90)) * 60
	step := func() int64 { t += int64(r.between(5, 40)); return t }
	for _, name := range []string{"GetCallerIdentity", "ListBuckets", "ListUsers", "GetUser", "ListAttachedUserPolicies", "ListRoles", "DescribeRegions"} {
		pl.ct(&sc, &r, victim, name, 0, step(), opIP, uaKali, false)
	}
	pl.ct(&sc, &r, victim, "ListSecrets", 0, step(), opIP, uaKali, true)
	for reg := range w.regions {
		pl.ct(&sc, &r, victim, "DescribeInstances", reg, step(), opIP, uaKali, false)
	}
	t += int64(r.between(10, 30)) * 60
	pl.ct(&sc, &r, victim, "GetAccountAuthorizationDetails", 0, step(), opIP, uaPacu, true)
	for _, name := range []string{"ListAttachedUserPolicies", "ListGroups", "ListRoles", "ListPolicies"} {
		pl.ct(&sc, &r, victim, name, 0, step(), opIP, uaPacu, name == "ListPolicies")
	}
	for reg := range w.regions {
		for _, name := range []string{"DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets"} {
			pl.ct(&sc, &r, victim, name, reg, step(), opIP, uaPacu, false)
		}
		pl.ct(&sc, &r, victim, "ListFunctions20150331", reg, step(), opIP, uaPacu, true)
	}
	return sc
}

// Instance-profile credentials (taken through an IMDSv1 SSRF) used from a laptop outside AWS.
func (pl *planner) instanceCreds() Scenario {
	w := pl.w
	r := pl.rng(ScenarioInstanceCreds)
	acct := w.accounts[1%len(w.accounts)]
	v := acct.regions[0].vpcs[0]
	in := v.byTier[tWeb][0]
	ip := pl.attack[3]
	sc := Scenario{Name: ScenarioInstanceCreds,
		Description: "Role credentials of instance " + in.id + " (" + in.role + ") used from " + ip + ", an address outside AWS, with the AWS CLI: identity check, S3 listing and downloads, secret and role enumeration.",
		Entities: map[string]string{"account_id": acct.id, "region": v.ar.info.name, "instance_id": in.id, "role_arn": in.p.roleARN,
			"principal_arn": in.p.arn, "source_ip": ip, "user_agent": uaStolenInstanceCreds},
		ExpectedHunts: []string{"instance-credentials-outside-ec2", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 20, 40, pl.end-10*3600)
	// Stay inside one credential lifetime so every call carries the same session key.
	t = t/in.p.sessionSecs*in.p.sessionSecs + 600
	step := func() int64 { t += int64(r.between(10, 90)); return t }
	type call struct {
		name string
		deny bool
	}
	calls := []call{{"GetCallerIdentity", false}, {"ListBuckets", false}, {"ListObjects", false}, {"ListObjects", false}}
	for i := 0; i < 10; i++ {
		calls = append(calls, call{"GetObject", false})
	}
	calls = append(calls, call{"DescribeInstances", false}, call{"ListSecrets", true}, call{"GetSecretValue", false},
		call{"ListAttachedRolePolicies", true}, call{"ListRoles", true})
	for _, c := range calls {
		ev := pl.ct(&sc, &r, in.p, c.name, 0, step(), ip, uaStolenInstanceCreds, c.deny)
		ev.delivery = "1.0"
	}
	return sc
}

// One instance calls home every five minutes to an address a TI feed lists only after the fact.
func (pl *planner) c2Beaconing() Scenario {
	w := pl.w
	r := pl.rng(ScenarioC2Beaconing)
	acct := w.accounts[1%len(w.accounts)]
	ar := acct.regions[1%len(w.regions)]
	v := ar.vpcs[0]
	in := v.byTier[tApp][0]
	pl.c2IP = pl.attack[4]
	pl.c2Dom = r.pick(words) + "-" + r.pick(words) + "." + r.pick(attackTLDs)
	ipNum := parseIP(pl.c2IP)
	first := pl.at(&r, 1, 3, pl.end-8*3600)
	last := pl.end - 6*3600
	sc := Scenario{Name: ScenarioC2Beaconing,
		Description: fmt.Sprintf("Instance %s beacons every %d minutes over TCP/443 to %s (%s) with small accepted flows; the IP and domain appear in TI feeds published after the activity.",
			in.id, beaconEvery/60, pl.c2IP, pl.c2Dom),
		Entities: map[string]string{"account_id": acct.id, "region": ar.info.name, "vpc_id": v.id, "instance_id": in.id,
			"interface_id": in.eni, "c2_ip": pl.c2IP, "c2_domain": pl.c2Dom, "c2_port": "443"},
		ExpectedHunts: []string{"ti-ip-vpc-flow", "ti-domain-dns"}}
	for t := first; t < last; t += beaconEvery + int64(r.between(-3, 3)) {
		if (t-first)%(6*3600) < beaconEvery {
			pl.dns(&sc, v, in, t-2, pl.c2Dom+".", "A", "NOERROR", `[{"Rdata":"`+pl.c2IP+`","Type":"A","Class":"IN"}]`, &r)
		}
		eph := r.between(ephemeralLo, ephemeralHi)
		end := t + int64(r.between(1, 3))
		out, back := r.between(700, 1100), r.between(400, 1500)
		pl.flow(&sc, v, flowRec{start: t, end: end, eni: in, src: in.ip, dst: ipNum, sport: eph, dport: 443, proto: 6,
			packets: int64(r.between(5, 7)), bytes: int64(out), flags: 3, egress: true, path: 1})
		pl.flow(&sc, v, flowRec{start: t, end: end, eni: in, src: ipNum, dst: in.ip, sport: 443, dport: eph, proto: 6,
			packets: int64(r.between(4, 6)), bytes: int64(back), flags: 19})
	}
	pl.feodoAt = last + 2*3600
	pl.tiIPs = append(pl.tiIPs, pl.c2IP)
	pl.tiDoms = append(pl.tiDoms, pl.c2Dom)
	return sc
}

// Data leaves through DNS: long, high-entropy labels under one domain, mostly TXT.
func (pl *planner) dnsTunnelling() Scenario {
	w := pl.w
	r := pl.rng(ScenarioDNSTunnelling)
	acct := w.accounts[0]
	ar := acct.regions[len(w.regions)-1]
	v := ar.vpcs[0]
	in := v.byTier[tBatch][0]
	dom := r.pick(words) + r.pick(words) + "." + r.pick(attackTLDs)
	sc := Scenario{Name: ScenarioDNSTunnelling,
		Description:   "Instance " + in.id + " sends 600 queries in 90 minutes for long random subdomains of " + dom + ", 70% TXT (dnscat2-like).",
		Entities:      map[string]string{"account_id": acct.id, "region": ar.info.name, "vpc_id": v.id, "instance_id": in.id, "tunnel_domain": dom},
		ExpectedHunts: []string{"dns-tunnelling"}}
	t := pl.at(&r, 4, 30, pl.end-9*3600)
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	for i := 0; i < 600; i++ {
		t += int64(r.between(5, 13))
		raw := make([]byte, r.between(28, 37))
		for j := range raw {
			raw[j] = byte(r.u64())
		}
		label := strings.ToLower(enc.EncodeToString(raw))
		seq := strings.ToLower(enc.EncodeToString([]byte{byte(i >> 8), byte(i), byte(r.u64()), byte(r.u64())}))
		name := label + "." + seq + "." + dom + "."
		qtype, ans := "TXT", ""
		switch x := r.intn(100); {
		case x < 70:
			payload := make([]byte, r.between(30, 90))
			for j := range payload {
				payload[j] = byte(r.u64())
			}
			ans = `[{"Rdata":"\"` + base64.StdEncoding.EncodeToString(payload) + `\"","Type":"TXT","Class":"IN"}]`
		case x < 85:
			qtype = "CNAME"
			ans = `[{"Rdata":"` + strings.ToLower(enc.EncodeToString(raw[:12])) + "." + dom + `.","Type":"CNAME","Class":"IN"}]`
		default:
			qtype = "MX"
			ans = `[{"Rdata":"10 ` + strings.ToLower(enc.EncodeToString(raw[:10])) + "." + dom + `.","Type":"MX","Class":"IN"}]`
		}
		rcode := "NOERROR"
		if r.chance(0.05) {
			rcode, ans = "NXDOMAIN", "[]"
		}
		pl.dns(&sc, v, in, t, name, qtype, rcode, ans, &r)
	}
	return sc
}

// Root signs in to the console without MFA from a new address and creates an access key.
func (pl *planner) rootLogin() Scenario {
	w := pl.w
	r := pl.rng(ScenarioRootLogin)
	acct := w.accounts[len(w.accounts)-1]
	root := acct.root
	root.console = true
	ip := pl.attack[5]
	sc := Scenario{Name: ScenarioRootLogin,
		Description:   "The root user of account " + acct.id + " signs in to the console without MFA from " + ip + ", looks around IAM and creates an access key for root.",
		Entities:      map[string]string{"account_id": acct.id, "principal_arn": root.arn, "source_ip": ip, "user_agent": uaRootBrowser},
		ExpectedHunts: []string{"root-account-usage"}}
	t := pl.at(&r, 8, 44, pl.end-10*3600)
	pl.ct(&sc, &r, root, "ConsoleLogin", 0, t, ip, uaRootBrowser, false).mfaUsed = "No"
	for _, name := range []string{"GetAccountSummary", "ListUsers", "ListMFADevices", "ListAccessKeys"} {
		t += int64(r.between(20, 120))
		pl.ct(&sc, &r, root, name, 0, t, ip, uaRootBrowser, false)
	}
	t += int64(r.between(20, 120))
	ev := pl.ct(&sc, &r, root, "CreateAccessKey", 0, t, ip, uaRootBrowser, false)
	ev.fixed = true
	ev.resp = `{"accessKey":{"accessKeyId":"` + awsID("AKIA", seedOf(root.id, 7)) + `","status":"Active","createDate":"` +
		time.Unix(t, 0).UTC().Format("Jan 2, 2006, 3:04:05 PM") + `"}}`
	return sc
}

// One person reads dozens of secrets in a few minutes.
func (pl *planner) secretsBurst() Scenario {
	w := pl.w
	r := pl.rng(ScenarioSecretsBurst)
	acct := w.accounts[len(w.accounts)-1]
	p := firstOf(acct.people, isSSOCLI, nil)
	region := 0
	for _, h := range p.habits {
		if !h.a.global {
			region = h.region
			break
		}
	}
	ip := p.ips[0]
	secrets := pickDistinct(&r, acct.secrets, 60)
	sc := Scenario{Name: ScenarioSecretsBurst,
		Description: fmt.Sprintf("%s (%s) reads %d different secrets with GetSecretValue in about four minutes, from their usual address and agent.", p.sessionName, p.userName, len(secrets)),
		Entities: map[string]string{"account_id": acct.id, "region": w.regions[region].name, "principal_arn": p.arn,
			"session_issuer_arn": p.roleARN, "source_ip": ip, "secret_count": strconv.Itoa(len(secrets))},
		ExpectedHunts: []string{"secrets-burst", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 14, 40, pl.end-7*3600)
	pl.ct(&sc, &r, p, "ListSecrets", region, t, ip, p.ua, false)
	for i, s := range secrets {
		t += int64(r.between(2, 6))
		ev := pl.ct(&sc, &r, p, "GetSecretValue", region, t, ip, p.ua, i%20 == 7)
		ev.fixed = true
		ev.params = obj("secretId", s)
	}
	return sc
}

func (pl *planner) flow(sc *Scenario, v *vpc, f flowRec) {
	v.plantedFlows = append(v.plantedFlows, f)
	dir, action := "ingress", "ACCEPT"
	if f.egress {
		dir = "egress"
	}
	if f.reject {
		action = "REJECT"
	}
	sc.Flows = append(sc.Flows, FlowKey{AccountID: v.ar.acct.id, InterfaceID: f.eni.eni, InstanceID: f.eni.id,
		SrcAddr: ipString(f.src), DstAddr: ipString(f.dst), SrcPort: f.sport, DstPort: f.dport, Protocol: f.proto,
		Start: time.Unix(f.start, 0).UTC(), Action: action, FlowDirection: dir})
	span(sc, f.start)
}

func (pl *planner) dns(sc *Scenario, v *vpc, in *instance, t int64, name, qtype, rcode, answers string, r *rng) {
	v.plantedDNS = append(v.plantedDNS, dnsQuery{t: t, src: in, srcAddr: in.ip, srcPort: r.between(ephemeralLo, ephemeralHi),
		name: name, qtype: qtype, rcode: rcode, answers: answers, transport: "UDP"})
	sc.DNSQueries = append(sc.DNSQueries, DNSQuery{AccountID: v.ar.acct.id, VPCID: v.id, InstanceID: in.id,
		Time: time.Unix(t, 0).UTC(), QueryName: name, QueryType: qtype, Rcode: rcode})
	span(sc, t)
}

func parseIP(s string) uint32 {
	var ip uint32
	for _, part := range strings.Split(s, ".") {
		n, _ := strconv.Atoi(part)
		ip = ip<<8 | uint32(n)
	}
	return ip
}
