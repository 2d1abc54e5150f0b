package gen

import (
	"fmt"
	"strconv"
	"strings"
)

// Scenarios of the execution / lateral-movement / discovery / Bedrock family: what an intruder does
// inside the account with a key or an instance it holds.

const (
	ScenarioRemoteExecution = "ssm-and-instance-connect-remote-execution"
	ScenarioGPULaunch       = "gpu-instance-launch"
	ScenarioInstanceRecon   = "discovery-from-instance"
	ScenarioBedrockAbuse    = "bedrock-llmjacking"

	uaRemoteOperator = "aws-cli/2.16.4 Python/3.11.8 Linux/6.5.0-41-generic exe/x86_64.ubuntu.22 prompt/off"
	uaMiner          = "Boto3/1.34.90 md/Botocore#1.34.90 ua/2.0 os/linux#6.1.0-18-amd64 md/arch#x86_64 lang/python#3.11.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.90"
	uaOnInstance     = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.72-96.166.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off"
	uaLLMProxy       = "Boto3/1.35.10 md/Botocore#1.35.10 ua/2.0 os/linux#5.15.0-113-generic md/arch#x86_64 lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.10"
	bedrockModel     = "anthropic.claude-3-sonnet-20240229-v1:0"
)

// The APIs these scenarios need besides the background catalogue. Names another family registered
// first keep their definition: the scenarios below set every request and response themselves.
func init() {
	for _, a := range []*api{
		{source: "ssm", name: "TerminateSession"},
		{source: "ec2-instance-connect", name: "SendSSHPublicKey"},
		{source: "ec2", name: "ModifyInstanceAttribute"},
		{source: "ec2", name: "RunInstances"},
		{source: "ec2", name: "DescribeInstanceAttribute", readOnly: true},
		{source: "ses", name: "GetAccountSendingEnabled", readOnly: true},
		{source: "ses", name: "GetSendQuota", readOnly: true},
		{source: "ses", name: "ListIdentities", readOnly: true},
		{source: "bedrock", name: "ListFoundationModels", readOnly: true},
		{source: "bedrock", name: "GetFoundationModelAvailability", readOnly: true},
		{source: "bedrock", name: "GetModelInvocationLoggingConfiguration", readOnly: true},
		{source: "bedrock", name: "PutUseCaseForModelAccess"},
		{source: "bedrock", name: "ListFoundationModelAgreementOffers", readOnly: true},
		{source: "bedrock", name: "CreateFoundationModelAgreement"},
		{source: "bedrock", name: "PutFoundationModelEntitlement"},
		{source: "bedrock", name: "InvokeModel", readOnly: true},
	} {
		if _, ok := apis[a.name]; !ok {
			a.source += ".amazonaws.com"
			apis[a.name] = a
		}
	}
}

// instanceScenarios plans the family's four scenarios. It runs after the others: victims already
// used by a planted scenario are skipped, and events stay before a planted StopLogging.
func (pl *planner) instanceScenarios() []Scenario {
	fx := &famExec{pl: pl, used: map[string]bool{}, hosts: map[string]bool{}}
	for _, sc := range pl.gt.Scenarios {
		fx.used[sc.Entities["principal_arn"]] = true
	}
	for _, ip := range append(append([]string{}, pl.attack...), pl.decoys...) {
		fx.hosts[ip] = true
	}
	return []Scenario{fx.remoteExecution(), fx.gpuLaunch(), fx.instanceRecon(), fx.bedrockAbuse()}
}

type famExec struct {
	pl    *planner
	used  map[string]bool // principal ARNs a scenario already acts as
	hosts map[string]bool // 192.0.2.x addresses already taken
}

// victim is the first person of acct with a long-term key that no scenario uses yet and that passes ok;
// failing that any unused key user, then the first key user (tiny worlds have few people).
func (fx *famExec) victim(acct *account, ok func(*principal) bool) *principal {
	for _, pass := range []func(*principal) bool{
		func(p *principal) bool { return isKeyUser(p) && !fx.used[p.arn] && ok(p) },
		func(p *principal) bool { return isKeyUser(p) && !fx.used[p.arn] },
		isKeyUser,
	} {
		if p := firstOf(acct.people, pass, nil); p != nil {
			fx.used[p.arn] = true
			return p
		}
	}
	panic("gen: account " + acct.id + " has no IAM user with an access key") // buildPeople makes two per account
}

// attackIP is an unused address of 192.0.2.0/24, the range reserved for planted activity.
func (fx *famExec) attackIP(r *rng) string {
	for {
		ip := "192.0.2." + strconv.Itoa(r.between(10, 250))
		if !fx.hosts[ip] {
			fx.hosts[ip] = true
			return ip
		}
	}
}

// latest is the last time a scenario of acct may start: hoursBeforeEnd before the end, and three hours
// before a planted StopLogging of the account (nothing after it is delivered).
func (fx *famExec) latest(acct *account, hoursBeforeEnd int64) int64 {
	l := fx.pl.end - hoursBeforeEnd*3600
	if acct.ctStop > 0 {
		l = min(l, acct.ctStop-3*3600)
	}
	return l
}

func hasHabit(p *principal, names ...string) bool {
	for _, h := range p.habits {
		for _, n := range names {
			if h.a.name == n {
				return true
			}
		}
	}
	return false
}

// fixed plants one call with its request (and, when it succeeds, its response) as given.
func (fx *famExec) fixed(sc *Scenario, r *rng, p *principal, name string, region int, t int64, ip, ua string, deny bool, params, resp string) *ctEvent {
	ev := fx.pl.ct(sc, r, p, name, region, t, ip, ua, deny)
	ev.fixed, ev.params, ev.resp = true, params, resp
	return ev
}

func jsonList(xs []string) string {
	quoted := make([]string, len(xs))
	for i, x := range xs {
		quoted[i] = string(appendStr(nil, x))
	}
	return "[" + strings.Join(quoted, ",") + "]"
}

func instancesSet(ids ...string) string {
	items := make([]string, len(ids))
	for i, id := range ids {
		items[i] = obj("instanceId", id)
	}
	return `{"items":[` + strings.Join(items, ",") + `]}`
}

// A stolen key reaches inside the instances: a shell script on three of them through Run Command,
// Session Manager shells on two, an SSH key pushed to the bastion, and user data swapped on a stopped
// application server so that the attacker's script runs as root at its next start.
func (fx *famExec) remoteExecution() Scenario {
	pl := fx.pl
	w := pl.w
	r := pl.rng(ScenarioRemoteExecution)
	acct := w.accounts[len(w.accounts)-1]
	victim := fx.victim(acct, func(p *principal) bool { return !hasHabit(p, "SendCommand", "StartSession") })
	ip := fx.attackIP(&r)
	v := acct.regions[0].vpcs[0]
	region := w.regions[0].name
	var shell []string
	for _, in := range v.instances[:min(3, len(v.instances))] {
		shell = append(shell, in.id)
	}
	sessions := []string{v.byTier[tWeb][0].id, v.byTier[tApp][0].id}
	bastion := v.byTier[tBastion][0].id
	swapped := v.byTier[tApp][len(v.byTier[tApp])-1].id
	// The instances stay out of the entities: background findings name them too (the detection script matches on any entity value).
	sc := Scenario{Name: ScenarioRemoteExecution,
		Description: "Access key of " + victim.userName + " used from " + ip + " to run a shell script on " + strings.Join(shell, ", ") +
			" (ssm SendCommand AWS-RunShellScript), open Session Manager shells on " + strings.Join(sessions, ", ") +
			", push an SSH key to " + bastion + " with EC2 Instance Connect, and stop " + swapped +
			", replace its user data and start it again.",
		Entities: map[string]string{"account_id": acct.id, "region": region, "principal_arn": victim.arn, "user_name": victim.userName,
			"access_key_id": victim.akia, "source_ip": ip},
		ExpectedHunts: []string{"instance-remote-execution"}}
	t := pl.at(&r, 6, 30, fx.latest(acct, 8))
	step := func(lo, hi int) int64 { t += int64(r.between(lo, hi)); return t }
	pl.ct(&sc, &r, victim, "GetCallerIdentity", 0, t, ip, uaRemoteOperator, false)
	fx.fixed(&sc, &r, victim, "DescribeInstances", 0, step(10, 40), ip, uaRemoteOperator, false, `{"instancesSet":{},"filterSet":{}}`, "")
	fx.fixed(&sc, &r, victim, "SendCommand", 0, step(30, 90), ip, uaRemoteOperator, false,
		`{"instanceIds":`+jsonList(shell)+`,"documentName":"AWS-RunShellScript","parameters":"HIDDEN_DUE_TO_SECURITY_REASONS","interactive":false}`,
		`{"command":{"commandId":"`+r.uuid()+`","documentName":"AWS-RunShellScript","instanceIds":`+jsonList(shell)+`,"status":"Pending","targetCount":`+
			strconv.Itoa(len(shell))+`}}`)
	for _, id := range sessions {
		sid := victim.userName + "-" + r.hex(17)
		fx.fixed(&sc, &r, victim, "StartSession", 0, step(60, 240), ip, uaRemoteOperator, false, obj("target", id),
			obj("sessionId", sid, "tokenValue", "Value hidden due to security reasons.",
				"streamUrl", "wss://ssmmessages."+region+".amazonaws.com/v1/data-channel/"+sid))
		fx.fixed(&sc, &r, victim, "TerminateSession", 0, step(120, 600), ip, uaRemoteOperator, false, obj("sessionId", sid), obj("sessionId", sid))
	}
	fx.fixed(&sc, &r, victim, "SendSSHPublicKey", 0, step(60, 180), ip, uaRemoteOperator, false,
		obj("instanceId", bastion, "instanceOSUser", "ec2-user", "sSHPublicKey", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"+r.from(mixedAlnum, 43)),
		`{"requestId":"`+r.uuid()+`","success":true}`)
	state := func(id string, code int, name string, prev int, prevName string) string {
		return `{"instancesSet":{"items":[{"instanceId":"` + id + `","currentState":{"code":` + strconv.Itoa(code) + `,"name":"` + name +
			`"},"previousState":{"code":` + strconv.Itoa(prev) + `,"name":"` + prevName + `"}}]}}`
	}
	fx.fixed(&sc, &r, victim, "StopInstances", 0, step(60, 180), ip, uaRemoteOperator, false,
		`{"instancesSet":`+instancesSet(swapped)+`,"force":true}`, state(swapped, 64, "stopping", 16, "running"))
	fx.fixed(&sc, &r, victim, "ModifyInstanceAttribute", 0, step(45, 90), ip, uaRemoteOperator, false,
		obj("instanceId", swapped, "userData", "<sensitiveDataRemoved>"), `{"requestId":"`+r.uuid()+`","_return":true}`)
	fx.fixed(&sc, &r, victim, "StartInstances", 0, step(5, 20), ip, uaRemoteOperator, false,
		`{"instancesSet":`+instancesSet(swapped)+`}`, state(swapped, 0, "pending", 80, "stopped"))
	return sc
}

// A stolen key tries to start GPU instances for mining: the vCPU quota refuses the biggest types in
// every region, then four g4dn.12xlarge start.
func (fx *famExec) gpuLaunch() Scenario {
	pl := fx.pl
	w := pl.w
	r := pl.rng(ScenarioGPULaunch)
	acct := w.accounts[0]
	victim := fx.victim(acct, func(*principal) bool { return true })
	ip := fx.attackIP(&r)
	sc := Scenario{Name: ScenarioGPULaunch,
		Description: "Access key of " + victim.userName + " used from " + ip + " to launch GPU instances: p3.16xlarge and g5.12xlarge refused " +
			"for the vCPU quota region after region, then four g4dn.12xlarge launched in " + w.regions[0].name + ".",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": victim.arn, "user_name": victim.userName,
			"access_key_id": victim.akia, "source_ip": ip, "instance_type": "g4dn.12xlarge"},
		ExpectedHunts: []string{"unusual-instance-launch"}}
	t := pl.at(&r, 6, 36, fx.latest(acct, 8))
	step := func() int64 { t += int64(r.between(8, 45)); return t }
	pl.ct(&sc, &r, victim, "GetCallerIdentity", 0, t, ip, uaMiner, false)
	fx.fixed(&sc, &r, victim, "DescribeRegions", 0, step(), ip, uaMiner, false, `{"regionSet":{}}`, "")
	ami := "ami-0" + r.hex(16)
	run := func(typ string, n int) string {
		return `{"instancesSet":{"items":[{"imageId":"` + ami + `","minCount":1,"maxCount":` + strconv.Itoa(n) + `}]},"instanceType":"` + typ +
			`","blockDeviceMapping":{},"monitoring":{"enabled":false},"disableApiTermination":false,"disableApiStop":false,"clientToken":"` + r.uuid() + `"}`
	}
	const quota = "You have requested more vCPU capacity than your current vCPU limit of 0 allows for the instance bucket that the specified " +
		"instance type belongs to. Please visit http://aws.amazon.com/contact-us/ec2-request to request an adjustment to this limit."
	for reg := range w.regions[:min(3, len(w.regions))] {
		for _, typ := range []string{"p3.16xlarge", "g5.12xlarge"} {
			ev := fx.fixed(&sc, &r, victim, "RunInstances", reg, step(), ip, uaMiner, false, run(typ, 8), "")
			ev.errCode, ev.errMsg = "Client.VcpuLimitExceeded", quota
		}
	}
	var items []string
	for i := 0; i < 4; i++ {
		items = append(items, `{"instanceId":"i-0`+r.hex(16)+`","imageId":"`+ami+`","instanceState":{"code":0,"name":"pending"},"instanceType":"g4dn.12xlarge"}`)
	}
	fx.fixed(&sc, &r, victim, "RunInstances", 0, step(), ip, uaMiner, false, run("g4dn.12xlarge", 4),
		`{"requestId":"`+r.uuid()+`","reservationId":"r-0`+r.hex(16)+`","ownerId":"`+acct.id+`","groupSet":{},"instancesSet":{"items":[`+
			strings.Join(items, ",")+`]}}`)
	return sc
}

// Someone with a shell on a database server enumerates the account with the instance's role: IAM,
// buckets, snapshots, trails and detectors, the user data of every instance it can name, and SES.
func (fx *famExec) instanceRecon() Scenario {
	pl := fx.pl
	w := pl.w
	r := pl.rng(ScenarioInstanceRecon)
	acct := w.accounts[len(w.accounts)-1]
	in := acct.regions[0].vpcs[0].byTier[tDB][0]
	p := in.p
	fx.used[p.arn] = true
	var targets []*instance
	for _, ar := range acct.regions {
		targets = append(targets, ar.instances...)
	}
	targets = targets[:min(12, len(targets))]
	sc := Scenario{Name: ScenarioInstanceRecon,
		Description: fmt.Sprintf("Role credentials of %s (%s) used on the instance itself with the AWS CLI: identity, bucket, IAM, snapshot, "+
			"trail and detector enumeration, the user data of %d instances (denied) and SES sending checks.", in.id, in.role, len(targets)),
		// No instance id or address: background findings name them too (the detection script matches on any entity value).
		Entities:      map[string]string{"account_id": acct.id, "region": w.regions[0].name, "role_arn": p.roleARN, "principal_arn": p.arn},
		ExpectedHunts: []string{"discovery-burst"}}
	t := pl.at(&r, 12, 40, fx.latest(acct, 8))
	// Stay inside one credential lifetime so every call carries the same session key.
	t = t/p.sessionSecs*p.sessionSecs + 900
	step := func() int64 { t += int64(r.between(4, 25)); return t }
	ip := in.egress
	for _, c := range []struct {
		name string
		deny bool
	}{{"GetCallerIdentity", false}, {"ListBuckets", false}, {"GetAccountSummary", false}, {"ListRoles", true}, {"ListUsers", true},
		{"GetAccountAuthorizationDetails", true}, {"DescribeSnapshots", false}, {"DescribeTrails", false}, {"ListDetectors", false}} {
		pl.ct(&sc, &r, p, c.name, 0, step(), ip, uaOnInstance, c.deny)
	}
	for _, target := range targets {
		fx.fixed(&sc, &r, p, "DescribeInstanceAttribute", target.vpc.ar.ridx, step(), ip, uaOnInstance, true,
			obj("instanceId", target.id, "attribute", "userData"), "")
	}
	for _, name := range []string{"GetAccountSendingEnabled", "GetSendQuota", "ListIdentities"} {
		fx.fixed(&sc, &r, p, name, 0, step(), ip, uaOnInstance, false, "{}", "")
	}
	return sc
}

// A key sold for LLM access: the buyer checks the models on offer and whether invocations are logged,
// accepts the Claude agreement for the account, invokes it for half an hour and tries another region.
func (fx *famExec) bedrockAbuse() Scenario {
	pl := fx.pl
	w := pl.w
	r := pl.rng(ScenarioBedrockAbuse)
	acct := w.accounts[len(w.accounts)-1]
	victim := fx.victim(acct, func(*principal) bool { return true })
	ip := fx.attackIP(&r)
	sc := Scenario{Name: ScenarioBedrockAbuse,
		Description: "Access key of " + victim.userName + " used from " + ip + " to enable " + bedrockModel +
			" for the account (use case, agreement, entitlement) and invoke it repeatedly, then try it in another region.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": victim.arn, "user_name": victim.userName,
			"access_key_id": victim.akia, "source_ip": ip, "model_id": bedrockModel},
		ExpectedHunts: []string{"bedrock-first-use"}}
	t := pl.at(&r, 4, 30, fx.latest(acct, 8))
	step := func(lo, hi int) int64 { t += int64(r.between(lo, hi)); return t }
	model := obj("modelId", bedrockModel)
	pl.ct(&sc, &r, victim, "GetCallerIdentity", 0, t, ip, uaLLMProxy, false)
	fx.fixed(&sc, &r, victim, "ListFoundationModels", 0, step(5, 20), ip, uaLLMProxy, false, "{}", "")
	fx.fixed(&sc, &r, victim, "GetModelInvocationLoggingConfiguration", 0, step(5, 20), ip, uaLLMProxy, false, "{}", "")
	fx.fixed(&sc, &r, victim, "GetFoundationModelAvailability", 0, step(5, 20), ip, uaLLMProxy, false, model, "")
	fx.fixed(&sc, &r, victim, "PutUseCaseForModelAccess", 0, step(5, 20), ip, uaLLMProxy, false, obj("formData", "HIDDEN_DUE_TO_SECURITY_REASONS"), "")
	fx.fixed(&sc, &r, victim, "ListFoundationModelAgreementOffers", 0, step(5, 20), ip, uaLLMProxy, false, model, "")
	fx.fixed(&sc, &r, victim, "CreateFoundationModelAgreement", 0, step(5, 20), ip, uaLLMProxy, false,
		obj("modelId", bedrockModel, "offerToken", "HIDDEN_DUE_TO_SECURITY_REASONS"), obj("modelId", bedrockModel))
	fx.fixed(&sc, &r, victim, "PutFoundationModelEntitlement", 0, step(5, 20), ip, uaLLMProxy, false, model, `{"status":"PENDING"}`)
	step(120, 300)
	for i := 0; i < 15; i++ {
		fx.fixed(&sc, &r, victim, "InvokeModel", 0, step(20, 150), ip, uaLLMProxy, false, model, "")
	}
	if len(w.regions) > 1 {
		for i := 0; i < 3; i++ {
			ev := fx.fixed(&sc, &r, victim, "InvokeModel", 1, step(3, 10), ip, uaLLMProxy, true, model, "")
			ev.errCode, ev.errMsg = "AccessDeniedException", "You don't have access to the model with the specified model ID."
		}
	}
	return sc
}
