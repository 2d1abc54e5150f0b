package gen

import (
	"fmt"
	"strconv"
	"strings"
)

// Defense evasion beyond CloudTrail and impact on S3 data: detection services silenced, the trail's
// bucket told to expire its logs, and a bucket re-encrypted with a key only the attacker holds.

const (
	ScenarioSecurityToolingDisabled = "security-tooling-disabled"
	ScenarioTrailBucketLifecycle    = "trail-bucket-lifecycle"
	ScenarioS3RansomwareSSEC        = "s3-ransomware-sse-c"
	uaEvasionGo                     = "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64"
	uaRansomBoto                    = "Boto3/1.35.36 md/Botocore#1.35.36 ua/2.0 os/linux#6.8.0-45-generic md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.36"
)

// The calls these scenarios make that the background never does.
var evasionAPIs = []*api{
	{source: "guardduty", name: "CreateFilter"},
	{source: "guardduty", name: "UpdateDetector"},
	{source: "securityhub", name: "BatchDisableStandards"},
	{source: "access-analyzer", name: "DeleteAnalyzer"},
	{source: "organizations", name: "LeaveOrganization", global: true},
	{source: "s3", name: "PutBucketLifecycle"},
	{source: "s3", name: "CopyObject", data: true},
}

func init() {
	for _, a := range evasionAPIs {
		a.source += ".amazonaws.com"
		apis[a.name] = a
	}
}

// evasionAddresses are three attacker addresses in 192.0.2.0/24 that neither the other scenarios nor
// the TI decoys use, so adding these scenarios changes nothing the others plant.
func (pl *planner) evasionAddresses() []string {
	if pl.evasionIPs != nil {
		return pl.evasionIPs
	}
	used := map[string]bool{}
	for ip := range pl.reservedIPs {
		used[strings.TrimPrefix(ip, "192.0.2.")] = true
	}
	for _, ip := range append(append([]string(nil), pl.attack...), pl.decoys...) {
		used[strings.TrimPrefix(ip, "192.0.2.")] = true
	}
	var free []string
	for _, h := range hostRange(10, 250) {
		if !used[h] {
			free = append(free, h)
		}
	}
	r := pl.rng("evasion-addresses")
	out := pickDistinct(&r, free, 3)
	for i := range out {
		out[i] = "192.0.2." + out[i]
		pl.reservedIPs[out[i]] = true
	}
	pl.evasionIPs = out
	return out
}

// evasionVictims picks, per account, three people no other scenario uses (latest-created first,
// long-term key users where a key is the story): the detection silencer, the trail-bucket tamperer
// and the ransomware key.
func (pl *planner) evasionVictims(acct *account) (tooling, trail, ransom *principal) {
	defer func() {
		pl.reservedPrincipals[tooling], pl.reservedPrincipals[trail], pl.reservedPrincipals[ransom] = true, true, true
	}()
	taken := map[*principal]bool{}
	first := firstOf(acct.people, isKeyUser, nil)
	taken[first] = true
	taken[firstOf(acct.people, isKeyUser, first)] = true
	taken[firstOf(acct.people, isSSOCLI, nil)] = true
	pick := func(ok func(*principal) bool) *principal {
		for i := len(acct.people) - 1; i >= 0; i-- {
			if p := acct.people[i]; !taken[p] && ok(p) {
				taken[p] = true
				return p
			}
		}
		for i := len(acct.people) - 1; i >= 0; i-- { // small worlds: share rather than fail
			if p := acct.people[i]; ok(p) || i == 0 {
				return p
			}
		}
		return acct.people[0]
	}
	// someone allowed to change bucket configuration: an IAM user or an SSO administrator
	admin := func(p *principal) bool {
		return p.kind == kIAMUser || strings.Contains(p.userName, "_AdministratorAccess_") || strings.Contains(p.userName, "_PowerUserAccess_")
	}
	tooling = pick(isKeyUser)
	ransom = pick(isKeyUser)
	trail = pick(admin)
	return tooling, trail, ransom
}

// A leaked key turns off what would report the intrusion: an archive-everything GuardDuty filter,
// the detector itself, a Security Hub standard and the IAM Access Analyzer, then tries to take the
// account out of the organization (denied).
func (pl *planner) securityToolingDisabled() Scenario {
	w := pl.w
	r := pl.rng(ScenarioSecurityToolingDisabled)
	acct := w.accounts[1%len(w.accounts)]
	p, _, _ := pl.evasionVictims(acct)
	ip := pl.evasionAddresses()[0]
	ar := acct.regions[0]
	sc := Scenario{Name: ScenarioSecurityToolingDisabled,
		Description: "Access key of " + p.userName + " used from " + ip + " to archive every GuardDuty finding with a filter, disable the detector, " +
			"disable a Security Hub standard and delete the Access Analyzer, then to leave the organization (denied).",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": p.arn, "source_ip": ip, "user_agent": uaEvasionGo,
			"detector_id": ar.detector},
		ExpectedHunts: []string{"security-tooling-disabled", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 26, 46, pl.end-9*3600)
	step := func() int64 { t += int64(r.between(8, 50)); return t }
	pl.ct(&sc, &r, p, "GetCallerIdentity", 0, step(), ip, uaEvasionGo, false)
	pl.ct(&sc, &r, p, "ListDetectors", 0, step(), ip, uaEvasionGo, false)
	region := ar.info.name
	calls := []struct {
		name, params string
		deny         bool
	}{
		{"CreateFilter", `{"detectorId":"` + ar.detector + `","name":"` + r.pick(words) + `-tuning","action":"ARCHIVE","rank":1,` +
			`"findingCriteria":{"criterion":{"severity":{"gte":0}}}}`, false},
		{"UpdateDetector", `{"detectorId":"` + ar.detector + `","enable":false}`, false},
		{"BatchDisableStandards", `{"StandardsSubscriptionArns":["arn:aws:securityhub:` + region + `:` + acct.id +
			`:subscription/aws-foundational-security-best-practices/v/1.0.0"]}`, false},
		{"DeleteAnalyzer", `{"analyzerName":"ConsoleAnalyzer-` + r.uuid() + `"}`, false},
		{"LeaveOrganization", "", true},
	}
	for _, c := range calls {
		ev := pl.ct(&sc, &r, p, c.name, 0, step(), ip, uaEvasionGo, c.deny)
		ev.fixed = true
		ev.params = c.params
	}
	return sc
}

// A person tells the CloudTrail bucket to expire every log object after one day (the trail keeps running).
func (pl *planner) trailBucketLifecycle() Scenario {
	w := pl.w
	r := pl.rng(ScenarioTrailBucketLifecycle)
	acct := w.accounts[len(w.accounts)-1]
	_, p, _ := pl.evasionVictims(acct)
	ip := pl.evasionAddresses()[1]
	ua := cliUA(&r)
	sc := Scenario{Name: ScenarioTrailBucketLifecycle,
		Description: p.arn + " looks at the trail, then puts a lifecycle rule on its bucket " + acct.bucket + " that expires every object after 1 day.",
		Entities: map[string]string{"account_id": acct.id, "principal_arn": p.arn, "bucket": acct.bucket, "source_ip": ip,
			"trail_arn": "arn:aws:cloudtrail:us-east-1:" + acct.id + ":trail/" + acct.trailName},
		ExpectedHunts: []string{"trail-bucket-tampering", "cloudtrail-new-behaviour"}}
	t := pl.at(&r, 30, 50, pl.end-8*3600)
	step := func() int64 { t += int64(r.between(20, 90)); return t }
	pl.ct(&sc, &r, p, "DescribeTrails", 0, step(), ip, ua, false)
	pl.ct(&sc, &r, p, "GetTrailStatus", 0, step(), ip, ua, false)
	ev := pl.ct(&sc, &r, p, "GetBucketPolicy", 0, step(), ip, ua, false)
	ev.fixed = true
	ev.params = `{"bucketName":"` + acct.bucket + `","Host":"` + acct.bucket + `.s3.us-east-1.amazonaws.com","policy":""}`
	ev = pl.ct(&sc, &r, p, "PutBucketLifecycle", 0, step(), ip, ua, false)
	ev.fixed = true
	ev.params = `{"bucketName":"` + acct.bucket + `","Host":"` + acct.bucket + `.s3.us-east-1.amazonaws.com","lifecycle":"",` +
		`"LifecycleConfiguration":{"xmlns":"http://s3.amazonaws.com/doc/2006-03-01/","Rule":{"ID":"cost-saving","Status":"Enabled",` +
		`"Filter":{"Prefix":""},"Expiration":{"Days":1}}}}`
	ev.addl = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":262,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"` +
		r.from(mixedAlnum, 56) + `","bytesTransferredOut":0}`
	return sc
}

// A leaked key downloads one bucket's objects, rewrites each with SSE-C (the Codefinger pattern) and
// leaves a ransom note. The bucket's data events are recorded.
func (pl *planner) s3RansomwareSSEC() Scenario {
	w := pl.w
	r := pl.rng(ScenarioS3RansomwareSSEC)
	acct := w.accounts[0]
	_, _, p := pl.evasionVictims(acct)
	ip := pl.evasionAddresses()[2]
	bucket := acct.buckets[1] // prod-uploads
	const objects = 60
	const note = "README-RECOVER-YOUR-FILES.txt"
	sc := Scenario{Name: ScenarioS3RansomwareSSEC,
		Description: fmt.Sprintf("Access key of %s used from %s to download %d objects of %s, rewrite each with SSE-C (CopyObject onto itself "+
			"with a customer key) and upload %s.", p.userName, ip, objects, bucket, note),
		Entities: map[string]string{"account_id": acct.id, "principal_arn": p.arn, "bucket": bucket, "source_ip": ip,
			"user_agent": uaRansomBoto, "ransom_note": note},
		ExpectedHunts: []string{"s3-ransomware", "cloudtrail-new-behaviour"}}
	// Before the stolen-key scenario stops this account's trail.
	t := pl.at(&r, 8, 28, pl.end-10*3600)
	step := func() int64 { t += int64(r.between(1, 4)); return t }
	host := bucket + ".s3.us-east-1.amazonaws.com"
	ev := pl.ct(&sc, &r, p, "ListObjects", 0, step(), ip, uaRansomBoto, false)
	ev.fixed = true
	ev.params = `{"bucketName":"` + bucket + `","Host":"` + host + `","list-type":"2","prefix":""}`
	ev.resources = s3Resources(acct.id, bucket, "")
	keys := make([]string, objects)
	for i := range keys {
		keys[i] = "uploads/" + strconv.Itoa(2023+i%3) + "/" + r.hex(16) + []string{".pdf", ".csv", ".docx", ".json"}[i%4]
	}
	for _, k := range keys {
		ev := pl.ct(&sc, &r, p, "GetObject", 0, step(), ip, uaRansomBoto, false)
		ev.fixed = true
		ev.params = `{"bucketName":"` + bucket + `","Host":"` + host + `","key":"` + k + `","x-id":"GetObject"}`
		ev.resources = s3Resources(acct.id, bucket, k)
		ev.addl = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":` +
			strconv.Itoa(r.heavy(2000, 900000)) + `}`
	}
	for _, k := range keys {
		ev := pl.ct(&sc, &r, p, "CopyObject", 0, step(), ip, uaRansomBoto, false)
		ev.fixed = true
		ev.params = `{"bucketName":"` + bucket + `","Host":"` + host + `","key":"` + k + `","x-amz-copy-source":"` + bucket + "/" + k +
			`","x-amz-server-side-encryption-customer-algorithm":"AES256","x-id":"CopyObject"}`
		ev.resp = `{"x-amz-server-side-encryption-customer-algorithm":"AES256"}`
		ev.resources = s3Resources(acct.id, bucket, k)
		ev.addl = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":234}`
	}
	ev = pl.ct(&sc, &r, p, "PutObject", 0, step(), ip, uaRansomBoto, false)
	ev.fixed = true
	ev.params = `{"bucketName":"` + bucket + `","Host":"` + host + `","key":"` + note + `","x-id":"PutObject"}`
	ev.resources = s3Resources(acct.id, bucket, note)
	ev.addl = `{"SignatureVersion":"SigV4","CipherSuite":"TLS_AES_128_GCM_SHA256","bytesTransferredIn":412,"AuthenticationMethod":"AuthHeader","bytesTransferredOut":0}`
	return sc
}

// s3Resources is a data event's resources list: the object (when key is set) and its bucket.
func s3Resources(acctID, bucket, key string) string {
	b := "["
	if key != "" {
		b += `{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::` + bucket + "/" + key + `"},`
	}
	return b + `{"accountId":"` + acctID + `","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::` + bucket + `"}]`
}
