package gen

import (
	"fmt"
	"slices"
	"strconv"
)

// The world is everything that stays the same for the whole range: accounts, people and their habits,
// VPCs, fleets of instances and their traffic patterns. It is built once from the seed, then only read.

type regionInfo struct {
	name, azPrefix string
	tz             int   // rough local offset, for the daily traffic curve
	ec2            block // public addresses of instances and NAT gateways in this region
}

// Region order is fixed: --regions N takes the first N (us-east-1 first: IAM and sign-in events land there).
var regionPool = []regionInfo{
	{"us-east-1", "use1", -5, cidr(3, 80, 0, 0, 12)},
	{"eu-west-1", "euw1", 0, cidr(34, 240, 0, 0, 13)},
	{"us-west-2", "usw2", -8, cidr(35, 160, 0, 0, 13)},
	{"ap-southeast-2", "apse2", 10, cidr(13, 54, 0, 0, 15)},
	{"eu-central-1", "euc1", 1, cidr(3, 120, 0, 0, 14)},
	{"ap-northeast-1", "apne1", 9, cidr(13, 112, 0, 0, 14)},
	{"us-east-2", "use2", -5, cidr(3, 128, 0, 0, 12)},
	{"ca-central-1", "cac1", -5, cidr(15, 222, 0, 0, 15)},
	{"eu-west-2", "euw2", 0, cidr(18, 130, 0, 0, 16)},
	{"ap-south-1", "aps1", 5, cidr(13, 232, 0, 0, 14)},
	{"sa-east-1", "sae1", -3, cidr(18, 228, 0, 0, 16)},
	{"eu-north-1", "eun1", 1, cidr(13, 48, 0, 0, 15)},
	{"ap-southeast-1", "apse1", 8, cidr(13, 212, 0, 0, 15)},
	{"us-west-1", "usw1", -8, cidr(54, 176, 0, 0, 15)},
	{"ap-northeast-2", "apne2", 9, cidr(3, 34, 0, 0, 15)},
	{"eu-west-3", "euw3", 1, cidr(15, 236, 0, 0, 15)},
}

// Outside address space. 192.0.2.0/24 (TEST-NET-1) is reserved for attacker infrastructure and TI
// decoys: background traffic never uses it, so a TI match can only be a planted scenario.
var (
	officeBlocks  = []block{cidr(198, 51, 100, 0, 24), cidr(203, 0, 113, 0, 24)}
	homeBlocks    = []block{cidr(73, 0, 0, 0, 8), cidr(86, 0, 0, 0, 8), cidr(90, 0, 0, 0, 8), cidr(82, 0, 0, 0, 8), cidr(24, 0, 0, 0, 8)}
	ciBlocks      = []block{cidr(20, 57, 0, 0, 16), cidr(4, 148, 0, 0, 16)}
	clientBlocks  = []block{cidr(73, 0, 0, 0, 8), cidr(172, 56, 0, 0, 14), cidr(81, 0, 0, 0, 8), cidr(101, 0, 0, 0, 8), cidr(177, 0, 0, 0, 8)}
	scannerBlocks = []block{cidr(45, 0, 0, 0, 8), cidr(185, 0, 0, 0, 8), cidr(193, 0, 0, 0, 8), cidr(162, 142, 125, 0, 24), cidr(167, 94, 138, 0, 24), cidr(89, 0, 0, 0, 8)}
	hostingBlocks = []block{cidr(104, 16, 0, 0, 13), cidr(151, 101, 0, 0, 16), cidr(13, 32, 0, 0, 15), cidr(34, 64, 0, 0, 10), cidr(20, 33, 0, 0, 16), cidr(172, 64, 0, 0, 13), cidr(185, 199, 108, 0, 22)}
	attackBlock   = cidr(192, 0, 2, 0, 24)
)

type pKind int

const (
	kIAMUser       pKind = iota // IAM user with a long-term key (AKIA): CLI, SDK, CI
	kIAMConsole                 // IAM user in the console: ConsoleLogin, then session keys (ASIA)
	kSSO                        // IAM Identity Center role session (ASIA)
	kRole                       // workload role session (Lambda)
	kInstance                   // EC2 instance profile session; session name is the instance id
	kService                    // an AWS service acting itself (userIdentity.type AWSService)
	kServiceLinked              // a service-linked role session (invokedBy set)
	kRoot
	kExternal // a principal of another account, in this account's data events (userIdentity type AWSAccount)
)

type principal struct {
	id          uint64
	kind        pKind
	acct        *account
	userName    string // IAM user name, or the role name for sessions
	arn         string
	principalID string
	roleARN     string // session issuer
	roleID      string
	sessionName string
	akia        string
	ua          string
	ips         []string
	invokedBy   string
	console     bool // browser sessions: sessionCredentialFromConsole
	errRate     float64
	tz, startH  int
	hours       int // working hours per day; 24 = always on
	weekend     float64
	rate        float64 // events per active hour (relative)
	sessionSecs int64   // how long a session key lives
	inst        *instance
	extAccount  string // kExternal: the caller's account
	lambdaIPs   []string
	habits      []habit
	mfa         bool
}

// habit is one (API, region) a principal uses, with its share of the principal's calls.
type habit struct {
	a      *api
	region int
	w      float64
	ua     string // overrides the principal's agent (e.g. the SSM agent on an instance)
	vpce   bool   // called through the VPC's gateway endpoint (private source address)
}

type account struct {
	idx       int
	id        string
	trailName string
	bucket    string // the log bucket (appears in digests)
	regions   []*acctRegion
	people    []*principal // humans, in creation order
	workers   []*principal // all non-human principals
	root      *principal
	ci        *principal
	buckets   []string
	secrets   []string
	params    []string
	tables    []string
	stacks    []string
	repos     []string
	queues    []string
	functions []string
	userNames []string
	roleNames []string
	// ctStop: CloudTrail delivery for this account ends at this unix time (a planted StopLogging); 0 = never.
	ctStop int64
}

type acctRegion struct {
	acct      *account
	ridx      int
	info      regionInfo
	vpcs      []*vpc
	instances []*instance
	lambdas   []*principal
	kmsKey    string
	detector  string
	ct        *ctStream
}

type tier int

const (
	tWeb tier = iota
	tApp
	tDB
	tBatch
	tBastion
)

var tierNames = []string{"web", "app", "db", "batch", "bastion"}

type subnet struct {
	id     string
	az     string // us-east-1a
	azID   string // use1-az1
	third  int    // 10.X.third.0/24
	public bool
}

type instance struct {
	id, eni  string
	ip       uint32
	ipStr    string
	sub      *subnet
	vpc      *vpc
	tier     tier
	role     string
	p        *principal
	publicIP uint32 // 0 unless in a public subnet
	egress   string // source address AWS sees for its API calls (public IP or the NAT gateway's)
	weight   float64
}

type person struct {
	idx        int
	login      string
	kind       pKind
	cli        bool // SSO users who mostly use the CLI
	persona    []string
	tz, startH int
	ips        []string
	ua         string
	rate       float64
	accounts   []int
	homeRegion int
}

type world struct {
	seed     uint64
	start    int64 // unix seconds of day 0, 00:00 UTC
	days     int
	scale    scaleDef
	regions  []regionInfo
	accounts []*account
	people   []*person
	corp     string
	offices  []uint32 // one NAT address per office, shared by everyone working there
	// clients use the applications behind the load balancers (VPC flows, WAF and ALB logs); scanners
	// probe every public address and are rejected by the network or blocked by WAF, never let in.
	clients, scanners []uint32
	streams           []*ctStream
	vpcs              []*vpc
}

func (w *world) end() int64 { return w.start + int64(w.days)*86400 }

var offices = []struct {
	tz    int
	block block
}{{-5, officeBlocks[0]}, {0, officeBlocks[1]}, {1, officeBlocks[1]}, {-8, officeBlocks[0]}}

func buildWorld(c *resolved) (*world, error) {
	w := &world{seed: c.seed, start: c.start.Unix(), days: c.days, scale: c.scale, regions: regionPool[:c.regions]}
	r := newRNG(c.seed, hashStr("world"))
	w.corp = r.pick(words) + r.pick(words)
	for _, off := range offices {
		w.offices = append(w.offices, off.block.host(&r))
	}
	w.buildPopulation()

	seen := map[string]bool{}
	for a := 0; a < c.accounts; a++ {
		id := ""
		for id == "" || seen[id] {
			id = strconv.Itoa(r.between(1, 9)) + fmt.Sprintf("%011d", r.intn(100000000000))
		}
		seen[id] = true
		acct := &account{idx: a, id: id, trailName: "management-events", bucket: "aws-cloudtrail-logs-" + id + "-" + r.hex(8)}
		w.accounts = append(w.accounts, acct)
		w.buildResources(acct)
	}
	w.buildPeople(c.accounts * c.scale.humans)
	for _, acct := range w.accounts {
		for ri, info := range w.regions {
			ar := &acctRegion{acct: acct, ridx: ri, info: info}
			rr := newRNG(c.seed, hashStr("region"), uint64(acct.idx), uint64(ri))
			ar.kmsKey = rr.uuid()
			ar.detector = rr.hex(32)
			acct.regions = append(acct.regions, ar)
			for v := 0; v < 2; v++ {
				w.buildVPC(ar, v)
			}
			w.buildLambdas(ar)
		}
		w.buildHumans(acct)
		w.buildWorkers(acct)
	}
	w.buildStreams()
	return w, nil
}

// buildPopulation draws the internet users of the applications and the scanners, from their own seed so
// that the rest of the world does not depend on them. A scanner address is in no block any other
// generated traffic uses.
func (w *world) buildPopulation() {
	r := newRNG(w.seed, hashStr("population"))
	for range 400 {
		w.clients = append(w.clients, clientBlocks[r.intn(len(clientBlocks))].host(&r))
	}
	others := append(append(append(append(append([]block{}, clientBlocks...), homeBlocks...), hostingBlocks...), officeBlocks...), ciBlocks...)
	for len(w.scanners) < 120 {
		ip := scannerBlocks[r.intn(len(scannerBlocks))].host(&r)
		if !slices.ContainsFunc(others, func(b block) bool { return b.contains(ip) }) {
			w.scanners = append(w.scanners, ip)
		}
	}
}

func (w *world) buildResources(acct *account) {
	r := newRNG(w.seed, hashStr("resources"), uint64(acct.idx))
	envs := []string{"prod", "staging", "dev"}
	apps := []string{"billing", "orders", "auth", "search", "reports", "payments", "inventory", "notifications"}
	kinds := []string{"db-password", "api-key", "oauth-client-secret", "signing-key"}
	for _, e := range envs {
		for _, a := range apps {
			for _, k := range kinds {
				acct.secrets = append(acct.secrets, e+"/"+a+"/"+k)
			}
			acct.params = append(acct.params, "/"+e+"/"+a+"/db_host", "/"+e+"/"+a+"/feature_flags")
			acct.tables = append(acct.tables, e+"-"+a)
			acct.stacks = append(acct.stacks, e+"-"+a+"-stack")
			acct.queues = append(acct.queues, e+"-"+a+"-jobs")
		}
	}
	acct.repos = apps
	for _, b := range []string{"prod-assets", "prod-uploads", "data-lake", "backups", "app-logs", "terraform-state", "build-artifacts"} {
		acct.buckets = append(acct.buckets, w.corp+"-"+b+"-"+acct.id)
	}
	for i := 0; i < 6; i++ {
		acct.functions = append(acct.functions, r.pick(apps)+"-"+r.pick(words)+"-handler")
	}
}

func (w *world) buildPeople(n int) {
	r := newRNG(w.seed, hashStr("people"))
	used := map[string]bool{}
	personas := [][]string{poolDeveloper, poolDeveloper, poolDeveloper, poolOps, poolOps, poolData, poolSecurity}
	nAcct := len(w.accounts)
	for i := 0; i < n; i++ {
		p := &person{idx: i}
		for p.login == "" || used[p.login] {
			p.login = r.pick(firstNames) + "." + r.pick(lastNames)
			if used[p.login] {
				p.login += strconv.Itoa(r.between(2, 99))
			}
		}
		used[p.login] = true
		// The first people of each account are fixed kinds so every account has the principals the
		// planted scenarios need: two IAM users with access keys and one SSO CLI user.
		switch {
		case i < 2*nAcct:
			p.kind = kIAMUser
		case i < 3*nAcct:
			p.kind, p.cli = kSSO, true
		default:
			switch x := r.intn(100); {
			case x < 20:
				p.kind = kIAMUser
			case x < 30:
				p.kind = kIAMConsole
			case x < 65:
				p.kind = kSSO
			default:
				p.kind, p.cli = kSSO, true
			}
		}
		p.persona = personas[r.intn(len(personas))]
		oi := r.intn(len(offices))
		p.tz = offices[oi].tz
		p.startH = r.between(7, 10)
		p.ips = []string{ipString(w.offices[oi]), ipString(homeBlocks[r.intn(len(homeBlocks))].host(&r))}
		switch {
		case p.kind == kIAMConsole || (p.kind == kSSO && !p.cli):
			p.ua = browserUA(&r)
		case r.chance(0.25):
			p.ua = boto3UA(&r)
		default:
			p.ua = cliUA(&r)
		}
		p.rate = float64(r.between(4, 30))
		primary := i % nAcct
		p.accounts = []int{primary}
		if p.kind == kSSO { // IAM users live in one account; SSO users may reach several
			for a := 0; a < nAcct; a++ {
				if a != primary && r.chance(0.25) {
					p.accounts = append(p.accounts, a)
				}
			}
		}
		if r.chance(0.5) {
			p.homeRegion = r.intn(len(w.regions))
		}
		w.people = append(w.people, p)
	}
}

var ssoRoles = []string{"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "SecurityAudit", "DataEngineer"}

func (w *world) buildHumans(acct *account) {
	r := newRNG(w.seed, hashStr("humans"), uint64(acct.idx))
	ssoSuffix := map[string]string{}
	for _, role := range ssoRoles {
		ssoSuffix[role] = r.hex(16)
	}
	for _, pe := range w.people {
		in := false
		for _, a := range pe.accounts {
			in = in || a == acct.idx
		}
		if !in || (pe.kind != kSSO && pe.accounts[0] != acct.idx) {
			continue
		}
		pr := newRNG(w.seed, hashStr("human"), uint64(pe.idx), uint64(acct.idx))
		p := &principal{kind: pe.kind, acct: acct, ua: pe.ua, ips: pe.ips, tz: pe.tz, startH: pe.startH, hours: 9,
			weekend: 0.03, rate: pe.rate, errRate: float64(pr.between(3, 25)) / 1000, sessionSecs: 12 * 3600}
		p.id = seedOf(w.seed, hashStr(pe.login), uint64(acct.idx))
		switch pe.kind {
		case kIAMUser, kIAMConsole:
			p.userName = pe.login
			p.arn = "arn:aws:iam::" + acct.id + ":user/" + pe.login
			p.principalID = awsID("AIDA", p.id)
			p.akia = awsID("AKIA", p.id^1)
			p.console = pe.kind == kIAMConsole
			p.mfa = true
			acct.userNames = append(acct.userNames, pe.login)
		case kSSO:
			role := ssoRoles[pr.intn(len(ssoRoles))]
			if containsStr(pe.persona, "ListFindings") {
				role = "SecurityAudit"
			}
			p.userName = "AWSReservedSSO_" + role + "_" + ssoSuffix[role]
			p.sessionName = pe.login + "@" + w.corp + ".example"
			p.roleARN = "arn:aws:iam::" + acct.id + ":role/aws-reserved/sso.amazonaws.com/" + p.userName
			p.roleID = awsID("AROA", hashStr(acct.id+p.userName))
			p.arn = "arn:aws:sts::" + acct.id + ":assumed-role/" + p.userName + "/" + p.sessionName
			p.principalID = p.roleID + ":" + p.sessionName
			p.console = !pe.cli
		}
		home := pe.homeRegion
		second := -1
		if len(w.regions) > 1 && pr.chance(0.25) {
			second = pr.intn(len(w.regions))
		}
		n := pr.between(6, 16)
		names := pickDistinct(&pr, pe.persona, n)
		ws := zipf(len(names))
		for i, name := range names {
			a := lookupAPI(name)
			reg := home
			if second >= 0 && pr.chance(0.25) {
				reg = second
			}
			if a.global {
				reg = 0
			}
			p.habits = append(p.habits, habit{a: a, region: reg, w: ws[i]})
		}
		if p.kind == kIAMConsole {
			p.habits = append(p.habits, habit{a: lookupAPI("ConsoleLogin"), region: 0, w: 0.08})
		}
		normalise(p.habits)
		acct.people = append(acct.people, p)
	}
	// CI: a deploy user with a long-term key, busy in the working day, running from CI runners.
	pr := newRNG(w.seed, hashStr("ci"), uint64(acct.idx))
	ci := &principal{kind: kIAMUser, acct: acct, userName: "ci-deploy", tz: -5, startH: 8, hours: 11, weekend: 0.1, rate: 25,
		errRate: 0.004, ua: terraformUA(&pr)}
	ci.id = seedOf(w.seed, hashStr("ci-deploy"), uint64(acct.idx))
	ci.arn = "arn:aws:iam::" + acct.id + ":user/ci-deploy"
	ci.principalID = awsID("AIDA", ci.id)
	ci.akia = awsID("AKIA", ci.id^1)
	for i := 0; i < 4; i++ {
		ci.ips = append(ci.ips, ipString(ciBlocks[pr.intn(len(ciBlocks))].host(&pr)))
	}
	ws := zipf(len(poolCI))
	for i, name := range poolCI {
		a := lookupAPI(name)
		reg := 0
		if !a.global {
			reg = i % len(w.regions)
		}
		ci.habits = append(ci.habits, habit{a: a, region: reg, w: ws[i]})
	}
	normalise(ci.habits)
	acct.ci = ci
	acct.userNames = append(acct.userNames, "ci-deploy")
	acct.workers = append(acct.workers, ci)

	acct.root = &principal{kind: kRoot, acct: acct, arn: "arn:aws:iam::" + acct.id + ":root", principalID: acct.id,
		id: seedOf(w.seed, hashStr("root"), uint64(acct.idx)), sessionSecs: 3600}
}

func (w *world) buildVPC(ar *acctRegion, vidx int) {
	r := newRNG(w.seed, hashStr("vpc"), uint64(ar.acct.idx), uint64(ar.ridx), uint64(vidx))
	env := []string{"prod", "dev"}[vidx]
	v := &vpc{idx: len(w.vpcs), ar: ar, vidx: vidx, env: env, offices: w.offices, clients: w.clients, scanners: w.scanners}
	w.vpcs = append(w.vpcs, v)
	ar.vpcs = append(ar.vpcs, v)
	v.id = "vpc-0" + r.hex(16)
	v.octet = 1 + v.idx
	v.flowLogID = "fl-0" + r.hex(16)
	v.vpce = "vpce-0" + r.hex(16)
	v.resolverEndpoint = "rslvr-in-" + r.hex(17)
	v.resolverENI = "rni-" + r.hex(17)
	v.format = flowFormats[vidx%len(flowFormats)]
	v.natIP = ipString(ar.info.ec2.host(&r))
	for i, s := range []struct {
		az     string
		public bool
	}{{"a", true}, {"a", false}, {"b", false}} {
		azN := 1
		if s.az == "b" {
			azN = 2
		}
		v.subnets = append(v.subnets, &subnet{id: "subnet-0" + r.hex(16), az: ar.info.name + s.az,
			azID: ar.info.azPrefix + "-az" + strconv.Itoa(azN), third: 10*(i+1) + r.intn(5), public: s.public})
	}
	n := w.scale.instancesPerVPC
	var tiers []tier
	if vidx == 0 {
		// Every tier at least once (scenarios pick their victims by tier), then the usual mix.
		tiers = append(tiers, tBastion, tWeb, tApp, tDB, tBatch)
		for i := len(tiers); i < n; i++ {
			tiers = append(tiers, []tier{tWeb, tWeb, tWeb, tApp, tApp, tApp, tApp, tDB, tBatch, tBatch}[i%10])
		}
	} else {
		for i := 0; i < max(2, n/2); i++ {
			tiers = append(tiers, []tier{tApp, tBatch, tWeb, tApp}[i%4])
		}
	}
	hostUsed := map[uint32]bool{}
	for _, t := range tiers {
		in := &instance{id: "i-0" + r.hex(16), eni: "eni-0" + r.hex(16), vpc: v, tier: t, weight: float64(r.between(5, 15)) / 10}
		in.role = env + "-" + tierNames[t] + "-ec2-role"
		in.sub = v.subnets[1+r.intn(2)]
		if t == tBastion {
			in.sub = v.subnets[0]
			in.publicIP = ar.info.ec2.host(&r)
			in.egress = ipString(in.publicIP)
		} else {
			in.egress = v.natIP
		}
		for in.ip == 0 || hostUsed[in.ip] {
			in.ip = ip4(10, v.octet, in.sub.third, r.between(10, 250))
		}
		hostUsed[in.ip] = true
		in.ipStr = ipString(in.ip)
		v.instances = append(v.instances, in)
		ar.instances = append(ar.instances, in)
	}
	if vidx == 0 {
		for i := 0; i < 2; i++ {
			e := &instance{eni: "eni-0" + r.hex(16), vpc: v, sub: v.subnets[0], tier: -1}
			e.ip = ip4(10, v.octet, v.subnets[0].third, 200+i)
			e.ipStr = ipString(e.ip)
			v.albs = append(v.albs, e)
		}
	}
	v.buildTraffic(w)
}

func (w *world) buildLambdas(ar *acctRegion) {
	r := newRNG(w.seed, hashStr("lambdas"), uint64(ar.acct.idx), uint64(ar.ridx))
	acct := ar.acct
	var ips []string
	for i := 0; i < 8; i++ {
		ips = append(ips, ipString(ar.info.ec2.host(&r)))
	}
	n := min(w.scale.lambdas, len(acct.functions))
	choices := [][]string{{"GetItem", "PutItem", "Query"}, {"GetObject", "PutObject"}, {"Decrypt", "GetSecretValue"},
		{"GetParameter"}, {"GetQueueAttributes"}, {"PutItem", "GetObject", "Decrypt"}}
	for i := 0; i < n; i++ {
		fn := acct.functions[i]
		role := fn + "-role"
		p := &principal{kind: kRole, acct: acct, userName: role, sessionName: fn, hours: 24, weekend: 0.9,
			rate: float64(r.between(5, 20)), sessionSecs: 12 * 3600, lambdaIPs: ips, ua: lambdaUA(&r), errRate: 0.001}
		p.id = seedOf(w.seed, hashStr(role), uint64(acct.idx), uint64(ar.ridx))
		p.roleARN = "arn:aws:iam::" + acct.id + ":role/" + role
		p.roleID = awsID("AROA", hashStr(acct.id+role))
		p.arn = "arn:aws:sts::" + acct.id + ":assumed-role/" + role + "/" + fn
		p.principalID = p.roleID + ":" + fn
		for _, name := range choices[i%len(choices)] {
			p.habits = append(p.habits, habit{a: lookupAPI(name), region: ar.ridx, w: 1})
		}
		normalise(p.habits)
		ar.lambdas = append(ar.lambdas, p)
		acct.workers = append(acct.workers, p)
		acct.roleNames = append(acct.roleNames, role)
	}
}

// instanceHabits: what each tier's software calls, besides the SSM agent every instance runs.
var instanceHabits = map[tier][]struct {
	name string
	w    float64
	vpce bool
}{
	tWeb:     {{"GetObject", 5, true}, {"Decrypt", 2, false}, {"GetParameter", 1, false}, {"GetSecretValue", 0.3, false}},
	tApp:     {{"GetItem", 4, false}, {"PutItem", 2, false}, {"Query", 2, false}, {"PutObject", 2, true}, {"GenerateDataKey", 1, false}, {"GetSecretValue", 0.3, false}},
	tDB:      {{"PutObject", 2, true}, {"GenerateDataKey", 1, false}, {"DescribeTags", 0.5, false}},
	tBatch:   {{"GetObject", 4, true}, {"PutObject", 4, true}, {"GetAuthorizationToken", 1, false}, {"BatchGetImage", 1, false}, {"GetDownloadUrlForLayer", 1, false}, {"Decrypt", 1, false}},
	tBastion: {{"DescribeInstances", 0.5, false}},
}

func (w *world) buildWorkers(acct *account) {
	for _, ar := range acct.regions {
		r := newRNG(w.seed, hashStr("workers"), uint64(acct.idx), uint64(ar.ridx))
		sdk := []string{goSDKUA(&r), javaUA(&r), boto3ServerUA(&r)}
		ssm := ssmAgentUA(&r)
		for _, in := range ar.instances {
			p := &principal{kind: kInstance, acct: acct, userName: in.role, sessionName: in.id, inst: in, hours: 24,
				weekend: 0.95, rate: 4 * in.weight, sessionSecs: 6 * 3600, ua: sdk[int(in.tier)%len(sdk)], errRate: 0.0005}
			p.id = seedOf(w.seed, hashStr(in.id))
			p.roleARN = "arn:aws:iam::" + acct.id + ":role/" + in.role
			p.roleID = awsID("AROA", hashStr(acct.id+in.role))
			p.arn = "arn:aws:sts::" + acct.id + ":assumed-role/" + in.role + "/" + in.id
			p.principalID = p.roleID + ":" + in.id
			p.ips = []string{in.egress}
			for _, h := range instanceHabits[in.tier] {
				p.habits = append(p.habits, habit{a: lookupAPI(h.name), region: ar.ridx, w: h.w, vpce: h.vpce})
			}
			p.habits = append(p.habits, habit{a: lookupAPI("UpdateInstanceInformation"), region: ar.ridx, w: 3, ua: ssm})
			normalise(p.habits)
			in.p = p
			acct.workers = append(acct.workers, p)
			if !containsStr(acct.roleNames, in.role) {
				acct.roleNames = append(acct.roleNames, in.role)
			}
		}
		// AWS services: EC2 and Lambda fetching role credentials, AWS Config describing resources.
		ec2svc := &principal{kind: kService, acct: acct, invokedBy: "ec2.amazonaws.com", hours: 24, weekend: 1,
			rate: float64(len(ar.instances)) / 4, habits: []habit{{a: lookupAPI("AssumeRole"), region: ar.ridx, w: 1}}}
		lambdasvc := &principal{kind: kService, acct: acct, invokedBy: "lambda.amazonaws.com", hours: 24, weekend: 1,
			rate: float64(len(ar.lambdas)), habits: []habit{{a: lookupAPI("AssumeRole"), region: ar.ridx, w: 1}}}
		cfg := &principal{kind: kServiceLinked, acct: acct, invokedBy: "config.amazonaws.com", userName: "AWSServiceRoleForConfig",
			sessionName: "AWSConfig-Describe", hours: 24, weekend: 1, rate: 12, sessionSecs: 3600}
		cfg.id = seedOf(w.seed, hashStr("config"), uint64(acct.idx), uint64(ar.ridx))
		cfg.roleARN = "arn:aws:iam::" + acct.id + ":role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig"
		cfg.roleID = awsID("AROA", hashStr(acct.id+"config"))
		cfg.arn = "arn:aws:sts::" + acct.id + ":assumed-role/AWSServiceRoleForConfig/AWSConfig-Describe"
		cfg.principalID = cfg.roleID + ":AWSConfig-Describe"
		for _, name := range []string{"DescribeInstances", "DescribeSecurityGroups", "DescribeVpcs", "DescribeSubnets",
			"DescribeNetworkInterfaces", "DescribeVolumes", "GetBucketAcl", "GetBucketPolicy", "GetBucketVersioning",
			"GetBucketEncryption", "GetRole", "ListAttachedRolePolicies", "GetPolicy"} {
			a := lookupAPI(name)
			reg := ar.ridx
			if a.global {
				if ar.ridx != 0 {
					continue
				}
				reg = 0
			}
			cfg.habits = append(cfg.habits, habit{a: a, region: reg, w: 1})
		}
		normalise(cfg.habits)
		if len(ar.lambdas) == 0 {
			lambdasvc.rate = 0
		}
		acct.workers = append(acct.workers, ec2svc, lambdasvc, cfg)
	}
}

// activity is how busy p is at UTC hour h on a weekday (dt 0) or a weekend day (dt 1).
func (p *principal) activity(dt, h int) float64 {
	if p.hours >= 24 {
		if dt == 1 {
			return p.weekend
		}
		return 1
	}
	local := ((h+p.tz)%24 + 24) % 24
	in := local >= p.startH && local < p.startH+p.hours
	switch {
	case dt == 1:
		return p.weekend
	case in && local == p.startH+4:
		return 0.6 // lunch
	case in:
		return 1
	}
	return 0.02
}

func normalise(hs []habit) {
	t := 0.0
	for _, h := range hs {
		t += h.w
	}
	for i := range hs {
		hs[i].w /= t
	}
}

func pickDistinct(r *rng, pool []string, n int) []string {
	idx := make([]int, len(pool))
	for i := range idx {
		idx[i] = i
	}
	for i := len(idx) - 1; i > 0; i-- {
		j := r.intn(i + 1)
		idx[i], idx[j] = idx[j], idx[i]
	}
	n = min(n, len(pool))
	out := make([]string, n)
	for i := 0; i < n; i++ {
		out[i] = pool[idx[i]]
	}
	return out
}

func containsStr(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// User agents, with the version spread real fleets show.

func cliUA(r *rng) string {
	osPart := []string{
		fmt.Sprintf("Darwin/23.%d.0 exe/x86_64", r.between(0, 6)),
		fmt.Sprintf("Darwin/24.%d.0 exe/arm64", r.between(0, 4)),
		fmt.Sprintf("Linux/6.5.0-%d-generic exe/x86_64.ubuntu.22", r.between(14, 45)),
		"Windows/10 exe/AMD64",
	}[r.intn(4)]
	return fmt.Sprintf("aws-cli/2.%d.%d Python/3.11.%d %s prompt/off", r.between(13, 22), r.between(0, 40), r.between(4, 9), osPart)
}

func boto3UA(r *rng) string {
	v := r.between(20, 99)
	return fmt.Sprintf("Boto3/1.34.%d md/Botocore#1.34.%d ua/2.0 os/macos#23.%d.0 md/arch#arm64 lang/python#3.11.%d md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.%d",
		v, v, r.between(0, 6), r.between(4, 9), v)
}

func boto3ServerUA(r *rng) string {
	v := r.between(20, 99)
	return fmt.Sprintf("Boto3/1.34.%d md/Botocore#1.34.%d ua/2.0 os/linux#6.1.%d-%d.%d.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.%d md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.%d",
		v, v, r.between(50, 90), r.between(100, 140), r.between(100, 200), r.between(4, 9), v)
}

func browserUA(r *rng) string {
	switch r.intn(4) {
	case 0:
		return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36", r.between(120, 126))
	case 1:
		return fmt.Sprintf("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/%d.0.0.0 Safari/537.36 Edg/%d.0.0.0", r.between(120, 126), r.between(120, 126))
	case 2:
		return fmt.Sprintf("Mozilla/5.0 (X11; Linux x86_64; rv:%d.0) Gecko/20100101 Firefox/%d.0", r.between(115, 126), r.between(115, 126))
	}
	return fmt.Sprintf("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.%d Safari/605.1.15", r.between(0, 5))
}

func terraformUA(r *rng) string {
	return fmt.Sprintf("APN/1.0 HashiCorp/1.0 Terraform/1.7.%d (+https://www.terraform.io) terraform-provider-aws/5.%d.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.%d ua/2.0 os/linux lang/go#1.22.%d md/GOOS#linux md/GOARCH#amd64",
		r.between(0, 5), r.between(40, 60), r.between(0, 2), r.between(0, 5))
}

func goSDKUA(r *rng) string {
	return fmt.Sprintf("aws-sdk-go-v2/1.%d.%d ua/2.0 os/linux lang/go#1.22.%d md/GOOS#linux md/GOARCH#amd64", r.between(24, 30), r.between(0, 9), r.between(0, 8))
}

func javaUA(r *rng) string {
	return fmt.Sprintf("aws-sdk-java/2.25.%d Linux/6.1.%d-%d.amzn2023.x86_64 OpenJDK_64-Bit_Server_VM/17.0.%d+7-LTS Java/17.0.%d vendor/Amazon.com_Inc. md/internal io/sync http/Apache cfg/retry-mode/legacy",
		r.between(10, 70), r.between(50, 90), r.between(100, 140), r.between(8, 12), r.between(8, 12))
}

func ssmAgentUA(r *rng) string {
	return fmt.Sprintf("aws-sdk-go/1.44.%d (go1.21.%d; linux; amd64) amazon-ssm-agent/3.3.%d.0", r.between(200, 330), r.between(5, 12), r.between(100, 1500))
}

func lambdaUA(r *rng) string {
	v := r.between(20, 99)
	return fmt.Sprintf("Boto3/1.34.%d md/Botocore#1.34.%d ua/2.0 os/linux#5.10.%d-%d.%d.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.%d md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.%d",
		v, v, r.between(200, 230), r.between(200, 230), r.between(800, 900), r.between(1, 4), v)
}

// buildStreams creates one CloudTrail stream per account/region and indexes every habit into the
// stream of its region, with a sampler per day type and hour.
func (w *world) buildStreams() {
	for _, acct := range w.accounts {
		for _, ar := range acct.regions {
			ar.ct = &ctStream{idx: len(w.streams), ar: ar}
			w.streams = append(w.streams, ar.ct)
		}
		for _, p := range append(append([]*principal{}, acct.people...), acct.workers...) {
			for i := range p.habits {
				h := &p.habits[i]
				st := acct.regions[h.region].ct
				st.entries = append(st.entries, ctEntry{p: p, h: h})
			}
		}
		for _, ar := range acct.regions {
			st := ar.ct
			for dt := 0; dt < 2; dt++ {
				for hr := 0; hr < 24; hr++ {
					for _, e := range st.entries {
						st.samp[dt][hr].add(e.p.rate * e.h.w * e.p.activity(dt, hr))
					}
				}
			}
		}
	}
}
