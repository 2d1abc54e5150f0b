package guardduty

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/logtime"
	"github.com/lakehunt/lakehunt/compact/rawkey"
	"github.com/lakehunt/lakehunt/compact/source"
)

// classify reads REGION/YYYY/MM/DD/FILE after AWSLogs/ACCOUNT/GuardDuty/.
func classify(info *rawkey.Info, _ string, rest []string) {
	if len(rest) != 5 {
		info.Reason = "expected REGION/YYYY/MM/DD/FILE after GuardDuty/"
		return
	}
	day, ok := rawkey.ParseDay(rest[1], rest[2], rest[3])
	if !ok {
		info.Reason = "bad date folders " + strings.Join(rest[1:4], "/")
		return
	}
	if !strings.HasSuffix(rest[4], ".jsonl.gz") && !strings.HasSuffix(rest[4], ".jsonl") {
		info.Reason = "GuardDuty export files end in .jsonl.gz"
		return
	}
	info.Region, info.Day, info.FileTime, info.Kind = rest[0], day, rawkey.FileTime(rest[4]), rawkey.Events
}

// objectKey is where GuardDuty exports a file of findings updated on t's day.
func objectKey(acct, region string, t time.Time, name string) string {
	return fmt.Sprintf("AWSLogs/%s/GuardDuty/%s/%s/%s.jsonl.gz", acct, region, t.UTC().Format("2006/01/02"), name)
}

// fixture writes a hunt test's findings (a list of finding objects, each with id, accountId, region and
// updatedAt) as export files, one per account, region and day.
func fixture(events any, _ time.Time, put source.Put) error {
	findings, ok := events.([]any)
	if !ok {
		return fmt.Errorf("guardduty events are a list of GuardDuty findings")
	}
	files := map[string][]byte{}
	for i, f := range findings {
		m, ok := f.(map[string]any)
		if !ok {
			return fmt.Errorf("guardduty event %d is not an object", i+1)
		}
		acct, _ := m["accountId"].(string)
		region, _ := m["region"].(string)
		id, _ := m["id"].(string)
		updated, _ := m["updatedAt"].(string)
		t, err := logtime.Parse(updated)
		if acct == "" || region == "" || id == "" || err != nil {
			return fmt.Errorf("guardduty event %d needs id, accountId, region and updatedAt (RFC 3339)", i+1)
		}
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		k := objectKey(acct, region, t, "test")
		files[k] = append(append(files[k], b...), '\n')
	}
	return putSorted(files, put)
}

func putSorted(files map[string][]byte, put source.Put) error {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := put(k, source.Gzip(files[k])); err != nil {
			return err
		}
	}
	return nil
}

type genType struct {
	typ, title, resource, action string
	severity                     float64
}

// What a quiet account's detector reports, about its world: probes and brute force against instances
// with a public address (low), a bucket's access logging turned off (low), and now and then an access key
// called from a scanner's address (medium).
var genTypes = []genType{
	{"Recon:EC2/PortProbeUnprotectedPort", "Unprotected port on EC2 instance is being probed.", "Instance", "PORT_PROBE", 2},
	{"UnauthorizedAccess:EC2/SSHBruteForce", "SSH brute force attacks against an EC2 instance.", "Instance", "NETWORK_CONNECTION", 2},
	{"Stealth:S3/ServerAccessLoggingDisabled", "S3 server access logging was disabled for a bucket.", "S3Bucket", "AWS_API_CALL", 2},
	{"Recon:IAMUser/MaliciousIPCaller", "Reconnaissance API invoked from a known malicious IP address.", "AccessKey", "AWS_API_CALL", 5},
}

// generate writes background findings: per account and region a few new findings a day about the world's
// instances, buckets and keys (mostly low severity), about half of them exported again later with a
// higher count, as GuardDuty does.
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay / 100
	if perDay <= 0 {
		perDay = 4
	}
	w := c.TheWorld()
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x67642d67656e)) // "gd-gen"
	n := 0
	for _, acct := range c.Accounts {
		for _, region := range c.Regions {
			var exposed []source.GenInstance
			for _, in := range w.Instances {
				if in.Account == acct && in.Region == region && in.PublicIP != "" {
					exposed = append(exposed, in)
				}
			}
			var buckets []source.GenBucket
			for _, b := range w.Buckets {
				if b.Account == acct {
					buckets = append(buckets, b)
				}
			}
			var keys []source.GenAccessKey
			for _, k := range w.AccessKeys {
				if k.Account == acct {
					keys = append(keys, k)
				}
			}
			detector := fmt.Sprintf("%032x", r.Uint64())[:32]
			files := map[string][]byte{}
			for d := 0; d < c.Days; d++ {
				day := c.Start.AddDate(0, 0, d)
				for i := 0; i < perDay; i++ {
					gt := genTypes[r.IntN(2)] // mostly the noisy low ones
					switch x := r.IntN(10); {
					case x == 0 && len(keys) > 0:
						gt = genTypes[3]
					case x < 3 && len(buckets) > 0:
						gt = genTypes[2]
					case len(exposed) == 0:
						continue
					}
					id := fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64())
					created := day.Add(time.Duration(r.Int64N(int64(20*time.Hour/time.Second))) * time.Second)
					var f map[string]any
					ip := ""
					if len(w.Scanners) > 0 {
						ip = w.Scanners[r.IntN(len(w.Scanners))]
					}
					switch gt.resource {
					case "Instance":
						f = genFinding(acct, region, detector, id, gt, ip, exposed[r.IntN(len(exposed))], source.GenAccessKey{}, "")
					case "S3Bucket":
						f = genFinding(acct, region, detector, id, gt, "", source.GenInstance{}, keys[r.IntN(len(keys))], buckets[r.IntN(len(buckets))].Name)
					default:
						f = genFinding(acct, region, detector, id, gt, ip, source.GenInstance{}, keys[r.IntN(len(keys))], "")
					}
					versions := 1 + r.IntN(2)
					for v := 0; v < versions; v++ {
						updated := created.Add(time.Duration(v) * time.Duration(1+r.IntN(3)) * time.Hour)
						if updated.After(c.Start.AddDate(0, 0, c.Days)) {
							break
						}
						setTimes(f, created, updated, v+1)
						b, err := json.Marshal(f)
						if err != nil {
							return n, err
						}
						k := objectKey(acct, region, updated, "gen_"+updated.Truncate(24*time.Hour).Add(24*time.Hour-time.Minute).Format("20060102T1504Z")+"_export") // dated, so gen can date the file
						files[k] = append(append(files[k], b...), '\n')
						n++
					}
				}
			}
			if err := putSorted(files, put); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func genFinding(acct, region, detector, id string, gt genType, ip string, in source.GenInstance, key source.GenAccessKey, bucket string) map[string]any {
	remote := map[string]any{"ipAddressV4": ip, "organization": map[string]any{"asn": "64500", "asnOrg": "EXAMPLE-NET"}}
	action := map[string]any{"actionType": gt.action}
	resource := map[string]any{"resourceType": gt.resource}
	if in.ID != "" {
		nic := map[string]any{"privateIpAddress": in.PrivateIP}
		if in.PublicIP != "" {
			nic["publicIp"] = in.PublicIP
		}
		resource["instanceDetails"] = map[string]any{"instanceId": in.ID, "instanceType": "t3.medium", "networkInterfaces": []any{nic},
			"iamInstanceProfile": map[string]any{"arn": "arn:aws:iam::" + acct + ":instance-profile/" + in.Role}}
	}
	if key.ID != "" {
		resource["accessKeyDetails"] = map[string]any{"accessKeyId": key.ID, "principalId": key.PrincipalID, "userName": key.UserName, "userType": "IAMUser"}
	}
	if bucket != "" {
		resource["s3BucketDetails"] = []any{map[string]any{"name": bucket, "arn": "arn:aws:s3:::" + bucket, "type": "Destination"}}
	}
	switch gt.action {
	case "PORT_PROBE":
		action["portProbeAction"] = map[string]any{"blocked": false, "portProbeDetails": []any{map[string]any{
			"localPortDetails": map[string]any{"port": 22, "portName": "SSH"}, "remoteIpDetails": remote}}}
	case "NETWORK_CONNECTION":
		action["networkConnectionAction"] = map[string]any{"connectionDirection": "INBOUND", "protocol": "TCP", "blocked": false,
			"localPortDetails": map[string]any{"port": 22, "portName": "SSH"}, "remoteIpDetails": remote}
	case "AWS_API_CALL":
		if bucket != "" {
			action["awsApiCallAction"] = map[string]any{"api": "PutBucketLogging", "serviceName": "s3.amazonaws.com", "callerType": "Domain", "domainDetails": map[string]any{"domain": "cloudformation.amazonaws.com"}}
		} else {
			action["awsApiCallAction"] = map[string]any{"api": "ListBuckets", "serviceName": "s3.amazonaws.com", "callerType": "Remote IP", "remoteIpDetails": remote}
		}
	}
	return map[string]any{
		"schemaVersion": "2.0", "accountId": acct, "region": region, "partition": "aws", "id": id, "type": gt.typ,
		"arn":      fmt.Sprintf("arn:aws:guardduty:%s:%s:detector/%s/finding/%s", region, acct, detector, id),
		"severity": gt.severity, "title": gt.title, "description": gt.title, "resource": resource,
		"service": map[string]any{"serviceName": "guardduty", "detectorId": detector, "action": action, "archived": false, "resourceRole": "TARGET"},
	}
}

func setTimes(f map[string]any, created, updated time.Time, count int) {
	const layout = "2006-01-02T15:04:05.000Z"
	f["createdAt"], f["updatedAt"] = created.Format(layout), updated.Format(layout)
	svc := f["service"].(map[string]any)
	svc["eventFirstSeen"], svc["eventLastSeen"], svc["count"] = created.Format(time.RFC3339), updated.Format(time.RFC3339), count
}
