package gen

import (
	"fmt"
	"slices"
	"strings"
)

// Exposure scenarios: data shared with an outside account, a bucket policy backdoor, SSH opened to
// the internet, and a Lambda function taken over. Each names its own hunt in ExpectedHunts.
const (
	ScenarioSnapshotShare  = "snapshot-shared-outside"
	ScenarioBucketBackdoor = "s3-bucket-backdoor"
	ScenarioSSHOpened      = "ssh-opened-to-internet"
	ScenarioLambdaBackdoor = "lambda-function-backdoor"
	uaExposureCLI          = "aws-cli/2.13.5 Python/3.11.4 Linux/6.2.0-39-generic exe/x86_64.ubuntu.22 prompt/off"
)

// outsiderAddr is an attacker address from 192.0.2.0/24 that no other scenario and no TI feed uses.
func (pl *planner) outsiderAddr(r *rng) string {
	for {
		ip := fmt.Sprintf("192.0.2.%d", r.between(10, 250))
		if !slices.Contains(pl.attack, ip) && !slices.Contains(pl.decoys, ip) && !pl.reservedIPs[ip] {
			pl.reservedIPs[ip] = true
			return ip
		}
	}
}

// outsideAccount is a 12-digit account no generated account can have (those never start with 0).
func outsideAccount(r *rng) string { return "0" + r.from("0123456789", 11) }

// latestFor keeps planted calls of account 0 before its planted StopLogging (about three hours before
// the end), with an hour to spare.
func (pl *planner) latestFor(acct *account) int64 {
	if acct.idx == 0 {
		return pl.end - 5*3600
	}
	return pl.end - 3600
}

// A second long-term key of account 0 is used from outside to share an EBS snapshot and an RDS
// snapshot with the attacker's account and to make an AMI public.
func (pl *planner) snapshotShare() Scenario {
	w := pl.w
	r := pl.rng(ScenarioSnapshotShare)
	acct := w.accounts[0]
	victim := firstOf(acct.people, isKeyUser, firstOf(acct.people, isKeyUser, nil))
	pl.reservedPrincipals[victim] = true
	ip, outside := pl.outsiderAddr(&r), outsideAccount(&r)
	snap, ami := "snap-0"+r.hex(16), "ami-0"+r.hex(16)
	dbSnap := "prod-" + r.pick([]string{"orders", "billing", "payments"}) + "-" + r.hex(6)
	sc := Scenario{Name: ScenarioSnapshotShare,
		Description: "Access key of " + victim.userName + " used from " + ip + " to share EBS snapshot " + snap + " and RDS snapshot " + dbSnap +
			" with account " + outside + " (outside the organization) and to make AMI " + ami + " public.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": victim.arn, "source_ip": ip, "outside_account": outside,
			"snapshot_id": snap, "db_snapshot": dbSnap, "image_id": ami},
		ExpectedHunts: []string{"resource-shared-outside-org", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 10, 30, pl.latestFor(acct)-3600)
	step := func() int64 { t += int64(r.between(20, 120)); return t }
	for _, name := range []string{"GetCallerIdentity", "DescribeSnapshots", "DescribeImages", "DescribeDBSnapshots"} {
		pl.ct(&sc, &r, victim, name, 0, step(), ip, uaExposureCLI, false)
	}
	ev := pl.ct(&sc, &r, victim, "ModifySnapshotAttribute", 0, step(), ip, uaExposureCLI, false)
	ev.fixed = true
	ev.params = `{"snapshotId":"` + snap + `","attributeType":"CREATE_VOLUME_PERMISSION","createVolumePermission":{"add":{"items":[{"userId":"` + outside + `"}]}}}`
	ev.resp = `{"requestId":"` + r.uuid() + `","_return":true}`
	ev = pl.ct(&sc, &r, victim, "ModifyDBSnapshotAttribute", 0, step(), ip, uaExposureCLI, false)
	ev.fixed = true
	ev.params = `{"dBSnapshotIdentifier":"` + dbSnap + `","attributeName":"restore","valuesToAdd":["` + outside + `"]}`
	ev.resp = `{"dBSnapshotIdentifier":"` + dbSnap + `","dBSnapshotAttributes":[{"attributeName":"restore","attributeValues":["` + outside + `"]}]}`
	ev = pl.ct(&sc, &r, victim, "ModifyImageAttribute", 0, step(), ip, uaExposureCLI, false)
	ev.fixed = true
	ev.params = `{"imageId":"` + ami + `","attributeType":"launchPermission","launchPermission":{"add":{"items":[{"group":"all"}]}}}`
	ev.resp = `{"requestId":"` + r.uuid() + `","_return":true}`
	return sc
}

// A second long-term key of the last account lifts the data-lake bucket's Block Public Access and
// gives the attacker's account read access in its bucket policy.
func (pl *planner) bucketBackdoor() Scenario {
	w := pl.w
	r := pl.rng(ScenarioBucketBackdoor)
	acct := w.accounts[len(w.accounts)-1]
	victim := firstOf(acct.people, isKeyUser, firstOf(acct.people, isKeyUser, nil))
	pl.reservedPrincipals[victim] = true
	ip, outside := pl.outsiderAddr(&r), outsideAccount(&r)
	bucket := acct.buckets[slices.IndexFunc(acct.buckets, func(b string) bool { return strings.Contains(b, "-data-lake-") })]
	host := bucket + ".s3." + w.regions[0].name + ".amazonaws.com"
	sc := Scenario{Name: ScenarioBucketBackdoor,
		Description: "Access key of " + victim.userName + " used from " + ip + " to delete the Block Public Access settings of " + bucket +
			" and put a bucket policy that lets account " + outside + " list and read it.",
		Entities:      map[string]string{"account_id": acct.id, "principal_arn": victim.arn, "source_ip": ip, "outside_account": outside, "bucket": bucket},
		ExpectedHunts: []string{"s3-bucket-exposed", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 26, 50, pl.latestFor(acct)-3600)
	step := func() int64 { t += int64(r.between(20, 120)); return t }
	pl.ct(&sc, &r, victim, "ListBuckets", 0, step(), ip, uaExposureCLI, false)
	for _, name := range []string{"GetBucketPolicy", "GetBucketPublicAccessBlock"} {
		ev := pl.ct(&sc, &r, victim, name, 0, step(), ip, uaExposureCLI, false)
		ev.fixed = true
		ev.params = obj("bucketName", bucket, "Host", host)
	}
	ev := pl.ct(&sc, &r, victim, "DeleteBucketPublicAccessBlock", 0, step(), ip, uaExposureCLI, false)
	ev.fixed = true
	ev.params = `{"bucketName":"` + bucket + `","Host":"` + host + `","publicAccessBlock":[""]}`
	ev = pl.ct(&sc, &r, victim, "PutBucketPolicy", 0, step(), ip, uaExposureCLI, false)
	ev.fixed = true
	ev.params = `{"bucketName":"` + bucket + `","Host":"` + host + `","policy":[""],"bucketPolicy":{"Version":"2012-10-17","Statement":[` +
		`{"Sid":"ReplicationRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + outside + `:root"},` +
		`"Action":["s3:GetObject","s3:GetBucketLocation","s3:ListBucket"],"Resource":["arn:aws:s3:::` + bucket + `","arn:aws:s3:::` + bucket + `/*"]}]}}`
	return sc
}

// An operator's SSO session, used from an unfamiliar address, opens SSH to the whole internet on a
// security group of the prod VPC.
func (pl *planner) sshOpened() Scenario {
	w := pl.w
	r := pl.rng(ScenarioSSHOpened)
	acct := w.accounts[0]
	p := firstOf(acct.people, isSSOCLI, nil)
	pl.reservedPrincipals[p] = true
	ip := pl.outsiderAddr(&r)
	v := acct.regions[0].vpcs[0]
	sg, rule := "sg-0"+r.hex(16), "sgr-0"+r.hex(16)
	sc := Scenario{Name: ScenarioSSHOpened,
		Description: p.sessionName + " (" + p.userName + ") opens TCP/22 to 0.0.0.0/0 on " + sg + " in " + v.id + " from " + ip + ".",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": p.arn, "session_issuer_arn": p.roleARN, "source_ip": ip,
			"security_group_id": sg, "vpc_id": v.id},
		ExpectedHunts: []string{"security-group-opened-to-internet"}}
	t := pl.at(&r, 4, 40, pl.latestFor(acct)-3600)
	step := func() int64 { t += int64(r.between(20, 90)); return t }
	for _, name := range []string{"DescribeSecurityGroups", "DescribeInstances"} {
		pl.ct(&sc, &r, p, name, 0, step(), ip, p.ua, false)
	}
	ev := pl.ct(&sc, &r, p, "AuthorizeSecurityGroupIngress", 0, step(), ip, p.ua, false)
	ev.fixed = true
	ev.params = `{"groupId":"` + sg + `","ipPermissions":{"items":[{"ipProtocol":"tcp","fromPort":22,"toPort":22,"groups":{},` +
		`"ipRanges":{"items":[{"cidrIp":"0.0.0.0/0"}]},"ipv6Ranges":{},"prefixListIds":{}}]}}`
	ev.resp = `{"requestId":"` + r.uuid() + `","_return":true,"securityGroupRuleSet":{"items":[{"groupOwnerId":"` + acct.id +
		`","groupId":"` + sg + `","securityGroupRuleId":"` + rule + `","isEgress":false,"ipProtocol":"tcp","fromPort":22,"toPort":22,"cidrIpv4":"0.0.0.0/0"}]}}`
	return sc
}

// A database server's role (its instance compromised) replaces a Lambda function's code, attaches a
// layer from the attacker's account and lets anyone invoke the function.
func (pl *planner) lambdaBackdoor() Scenario {
	w := pl.w
	r := pl.rng(ScenarioLambdaBackdoor)
	acct := w.accounts[len(w.accounts)-1]
	ar := acct.regions[0]
	in := ar.vpcs[0].byTier[tDB][0]
	fn := acct.functions[r.intn(len(acct.functions))]
	outside := outsideAccount(&r)
	layer := "arn:aws:lambda:" + ar.info.name + ":" + outside + ":layer:" + r.pick(words) + "-extension:1"
	fnARN := "arn:aws:lambda:" + ar.info.name + ":" + acct.id + ":function:" + fn
	sc := Scenario{Name: ScenarioLambdaBackdoor,
		Description: "The role of instance " + in.id + " (" + in.role + "), used from the instance, overwrites the code of Lambda function " + fn +
			", attaches layer " + layer + " from an outside account and lets anyone invoke the function.",
		Entities: map[string]string{"account_id": acct.id, "region": ar.info.name, "instance_id": in.id, "principal_arn": in.p.roleARN,
			"function_arn": fnARN, "layer_arn": layer, "outside_account": outside},
		ExpectedHunts: []string{"lambda-code-tampered", "resource-shared-outside-org", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 30, 60, pl.latestFor(acct)-3600)
	t = t/in.p.sessionSecs*in.p.sessionSecs + 900 // one credential lifetime
	step := func() int64 { t += int64(r.between(10, 60)); return t }
	ip, ua := in.egress, in.p.ua
	pl.ct(&sc, &r, in.p, "ListFunctions20150331", 0, step(), ip, ua, false)
	ev := pl.ct(&sc, &r, in.p, "GetFunction20150331v2", 0, step(), ip, ua, false)
	ev.fixed = true
	ev.params = obj("functionName", fn)
	ev = pl.ct(&sc, &r, in.p, "UpdateFunctionCode20150331v2", 0, step(), ip, ua, false)
	ev.fixed = true
	ev.params = `{"functionName":"` + fn + `","publish":true,"dryRun":false}`
	ev.resp = `{"functionName":"` + fn + `","functionArn":"` + fnARN + `","codeSha256":"` + r.from(upperAlnum, 43) + `=","version":"7","state":"Pending"}`
	ev = pl.ct(&sc, &r, in.p, "UpdateFunctionConfiguration20150331v2", 0, step(), ip, ua, false)
	ev.fixed = true
	ev.params = `{"functionName":"` + fnARN + `","layers":["` + layer + `"]}`
	ev.resp = `{"functionName":"` + fn + `","functionArn":"` + fnARN + `","layers":[{"arn":"` + layer + `","codeSize":4183}]}`
	ev = pl.ct(&sc, &r, in.p, "AddPermission20150331v2", 0, step(), ip, ua, false)
	ev.fixed = true
	ev.params = `{"functionName":"` + fn + `","statementId":"` + r.hex(8) + `","action":"lambda:InvokeFunction","principal":"*"}`
	ev.resp = `{"statement":"{\"Sid\":\"x\",\"Effect\":\"Allow\",\"Principal\":\"*\",\"Action\":\"lambda:InvokeFunction\",\"Resource\":\"` + fnARN + `\"}"}`
	return sc
}
