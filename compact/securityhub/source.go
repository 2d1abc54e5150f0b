package securityhub

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

// classify reads REGION/YYYY/MM/DD/HH/FILE after AWSLogs/ACCOUNT/SecurityHub/. AWS has no S3 layout of
// its own for Security Hub: this is the Firehose prefix lakehunt suggests
// (AWSLogs/ACCOUNT/SecurityHub/REGION/ with Firehose's yyyy/MM/dd/HH/ after it), read without any
// configuration; any other prefix is mapped with raw[].prefixes or --source-prefix.
func classify(info *rawkey.Info, _ string, rest []string) {
	if len(rest) != 6 {
		info.Reason = "expected REGION/YYYY/MM/DD/HH/FILE after SecurityHub/"
		return
	}
	day, ok := rawkey.ParseDay(rest[1], rest[2], rest[3])
	if !ok || !rawkey.IsHour(rest[4]) {
		info.Reason = "bad date folders " + strings.Join(rest[1:5], "/")
		return
	}
	info.Region, info.Day, info.FileTime, info.Kind = rest[0], day, rawkey.FileTime(rest[5]), rawkey.Events
}

// objectKey is where the suggested Firehose prefix puts an object delivered at t.
func objectKey(acct, region string, t time.Time, name string) string {
	t = t.UTC()
	return fmt.Sprintf("AWSLogs/%s/SecurityHub/%s/%s/%s-%s.gz", acct, region, t.Format("2006/01/02/15"), name, t.Format("2006-01-02-15-04-05"))
}

// event wraps findings as the EventBridge rule delivers them.
func event(acct, region string, t time.Time, id string, findings ...any) map[string]any {
	return map[string]any{"version": "0", "id": id, "detail-type": "Security Hub Findings - Imported", "source": "aws.securityhub",
		"account": acct, "time": t.UTC().Format(time.RFC3339), "region": region, "resources": []any{}, "detail": map[string]any{"findings": findings}}
}

// fixture writes a hunt test's findings (a list of ASFF findings, each with Id, AwsAccountId, Region and
// UpdatedAt) as EventBridge events concatenated in Firehose objects, one per account, region and hour.
func fixture(events any, _ time.Time, put source.Put) error {
	findings, ok := events.([]any)
	if !ok {
		return fmt.Errorf("securityhub events are a list of ASFF findings")
	}
	files := map[string][]byte{}
	for i, f := range findings {
		m, ok := f.(map[string]any)
		if !ok {
			return fmt.Errorf("securityhub event %d is not an object", i+1)
		}
		acct, _ := m["AwsAccountId"].(string)
		region, _ := m["Region"].(string)
		id, _ := m["Id"].(string)
		updated, _ := m["UpdatedAt"].(string)
		t, err := logtime.Parse(updated)
		if acct == "" || region == "" || id == "" || err != nil {
			return fmt.Errorf("securityhub event %d needs Id, AwsAccountId, Region and UpdatedAt (RFC 3339)", i+1)
		}
		b, err := json.Marshal(event(acct, region, t, fmt.Sprintf("test-%d", i+1), m))
		if err != nil {
			return err
		}
		k := objectKey(acct, region, t.Truncate(time.Hour), "test")
		files[k] = append(files[k], b...) // Firehose: no separator
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

var genControls = []struct{ control, title, resourceType string }{
	{"S3.8", "S3 general purpose buckets should block public access", "AwsS3Bucket"},
	{"EC2.19", "Security groups should not allow unrestricted access to ports with high risk", "AwsEc2SecurityGroup"},
	{"IAM.4", "IAM root user access key should not exist", "AwsAccount"},
	{"CloudTrail.1", "CloudTrail should be enabled and configured with at least one multi-Region trail", "AwsAccount"},
}

var genPackages = []struct{ name, version string }{{"openssl", "3.0.8"}, {"curl", "8.3.0"}, {"glibc", "2.34"}, {"python3", "3.9.16"}, {"kernel", "6.1.61"}}

// generate writes background findings about the world: Security Hub control results re-evaluated daily
// (a new version of the same finding each day, mostly PASSED), a few Inspector package vulnerabilities a
// day on its instances (at most MEDIUM on instances with a public address: those get patched first), and
// per account an IAM Access Analyzer finding for a bucket shared with a vendor's account.
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay / 100
	if perDay <= 0 {
		perDay = 3
	}
	w := c.TheWorld()
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x73682d67656e)) // "sh-gen"
	n := 0
	for ai, acct := range c.Accounts {
		var bucket string
		for _, b := range w.Buckets {
			if b.Account == acct {
				bucket = b.Name
			}
		}
		for ri, region := range c.Regions {
			var instances []source.GenInstance
			for _, in := range w.Instances {
				if in.Account == acct && in.Region == region {
					instances = append(instances, in)
				}
			}
			files := map[string][]byte{}
			hub := fmt.Sprintf("arn:aws:securityhub:%s:%s:", region, acct)
			for d := 0; d < c.Days; d++ {
				day := c.Start.AddDate(0, 0, d)
				t := day.Add(time.Duration(1+r.IntN(20)) * time.Hour).Add(time.Duration(r.IntN(3600)) * time.Second)
				var batch []any
				for _, ctl := range genControls {
					status, label := "PASSED", "INFORMATIONAL"
					if r.IntN(4) == 0 {
						status, label = "FAILED", "MEDIUM"
					}
					res := "arn:aws:" + strings.ToLower(ctl.resourceType) + ":::" + acct
					if ctl.resourceType == "AwsS3Bucket" && bucket != "" {
						res = "arn:aws:s3:::" + bucket
					}
					batch = append(batch, map[string]any{
						"SchemaVersion": "2018-10-08", "Id": hub + "security-control/" + ctl.control + "/finding/" + fmt.Sprintf("%08x", hashString(acct+region+ctl.control)),
						"ProductArn": "arn:aws:securityhub:" + region + "::product/aws/securityhub", "ProductName": "Security Hub", "CompanyName": "AWS",
						"GeneratorId": "security-control/" + ctl.control, "AwsAccountId": acct, "Region": region,
						"Types":     []any{"Software and Configuration Checks/Industry and Regulatory Standards"},
						"CreatedAt": c.Start.Format(time.RFC3339), "UpdatedAt": t.Format("2006-01-02T15:04:05.000Z"),
						"Severity": map[string]any{"Label": label}, "Title": ctl.title, "Description": ctl.title,
						"Compliance": map[string]any{"Status": status, "SecurityControlId": ctl.control},
						"Workflow":   map[string]any{"Status": "NEW"}, "RecordState": "ACTIVE",
						"Resources": []any{map[string]any{"Type": ctl.resourceType, "Id": res, "Region": region, "Partition": "aws"}},
					})
				}
				for i := 0; i < perDay && len(instances) > 0; i++ {
					in := instances[r.IntN(len(instances))]
					score := 4 + r.Float64()*6
					if in.PublicIP != "" {
						score = 4 + r.Float64()*2.9
					}
					pkg := genPackages[r.IntN(len(genPackages))]
					batch = append(batch, Inspector(in, fmt.Sprintf("CVE-20%02d-%d", 20+r.IntN(6), 1000+r.IntN(40000)), pkg.name, pkg.version, score,
						fmt.Sprintf("%032x", r.Uint64()), t, t))
				}
				if d == 0 && ri == 0 && bucket != "" {
					vendor := fmt.Sprintf("0%011d", 40000000000+ai)
					batch = append(batch, AccessAnalyzer(acct, region, bucket, vendor, "s3:GetObject", fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Uint64()&0xffffffffffff), t))
				}
				k := objectKey(acct, region, t.Truncate(time.Hour), "securityhub-findings-1_"+t.Format("20060102T1504Z")+"_") // dated, so gen can date the file
				for i, f := range batch {
					b, err := json.Marshal(event(acct, region, t, fmt.Sprintf("%08x-%04x", r.Uint32(), i), f))
					if err != nil {
						return n, err
					}
					files[k] = append(files[k], b...)
					n++
				}
			}
			if err := putSorted(files, put); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// Inspector is an Amazon Inspector package vulnerability finding on an instance, as Security Hub exports it.
func Inspector(in source.GenInstance, cve, pkg, version string, score float64, id string, created, updated time.Time) map[string]any {
	ips := []any{in.PrivateIP}
	if in.PublicIP != "" {
		ips = append(ips, in.PublicIP)
	}
	return map[string]any{
		"SchemaVersion": "2018-10-08", "Id": fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%s", in.Region, in.Account, id),
		"ProductArn": "arn:aws:securityhub:" + in.Region + "::product/aws/inspector", "ProductName": "Inspector", "CompanyName": "Amazon",
		"GeneratorId": "AWSInspector", "AwsAccountId": in.Account, "Region": in.Region,
		"Types":     []any{"Software and Configuration Checks/Vulnerabilities/CVE"},
		"CreatedAt": created.UTC().Format(time.RFC3339), "UpdatedAt": updated.UTC().Format("2006-01-02T15:04:05.000Z"),
		"FirstObservedAt": created.UTC().Format(time.RFC3339), "LastObservedAt": updated.UTC().Format(time.RFC3339),
		"Severity": map[string]any{"Label": severityLabel(int32(score * 10)), "Normalized": int(score * 10)},
		"Title":    cve + " - " + pkg, "Description": cve + " in " + pkg + " " + version, "Workflow": map[string]any{"Status": "NEW"}, "RecordState": "ACTIVE",
		"Resources": []any{map[string]any{"Type": "AwsEc2Instance", "Id": fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", in.Region, in.Account, in.ID),
			"Region": in.Region, "Partition": "aws", "Details": map[string]any{"AwsEc2Instance": map[string]any{"IpV4Addresses": ips,
				"IamInstanceProfileArn": "arn:aws:iam::" + in.Account + ":instance-profile/" + in.Role}}}},
		"Vulnerabilities": []any{map[string]any{"Id": cve, "Cvss": []any{map[string]any{"BaseScore": score, "Version": "3.1"}},
			"VulnerablePackages": []any{map[string]any{"Name": pkg, "Version": version}}}},
	}
}

// AccessAnalyzer is an IAM Access Analyzer finding that bucket grants actions to another account, as
// Security Hub exports it.
func AccessAnalyzer(acct, region, bucket, outside, actions, id string, t time.Time) map[string]any {
	res := "arn:aws:s3:::" + bucket
	principal := "arn:aws:iam::" + outside + ":root"
	return map[string]any{
		"SchemaVersion": "2018-10-08", "Id": fmt.Sprintf("arn:aws:access-analyzer:%s:%s:analyzer/ConsoleAnalyzer-%s/arn:aws:s3:::%s", region, acct, id[:8], bucket),
		"ProductArn": "arn:aws:securityhub:" + region + "::product/aws/access-analyzer", "ProductName": "IAM Access Analyzer", "CompanyName": "AWS",
		"GeneratorId": "aws/access-analyzer", "AwsAccountId": acct, "Region": region,
		"Types":     []any{"Software and Configuration Checks/AWS Security Best Practices/External Access Granted"},
		"CreatedAt": t.UTC().Format(time.RFC3339), "UpdatedAt": t.UTC().Format("2006-01-02T15:04:05.000Z"),
		"Severity":    map[string]any{"Label": "LOW", "Normalized": 1},
		"Title":       "AwsS3Bucket/" + res + "/ allows cross-account access",
		"Description": "AwsS3Bucket/" + res + "/ allows cross-account access from AWS " + principal,
		"Workflow":    map[string]any{"Status": "NEW"}, "RecordState": "ACTIVE",
		"ProductFields": map[string]any{"ResourceOwnerAccount": acct, "FindingId": id},
		"Resources": []any{map[string]any{"Type": "AwsS3Bucket", "Id": res, "Region": region, "Partition": "aws",
			"Details": map[string]any{"Other": map[string]any{"External Principal Type": "AWS", "Condition": "none",
				"Action Granted": actions, "External Principal": principal}}}},
	}
}

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
