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

// generate writes background findings: Security Hub control results re-evaluated daily (a new version of
// the same finding each day, mostly PASSED) and a few Inspector package vulnerabilities on instances.
func generate(c source.GenConfig, put source.Put) (int, error) {
	perDay := c.PerDay / 100
	if perDay <= 0 {
		perDay = 3
	}
	r := rand.New(rand.NewPCG(uint64(c.Seed), 0x73682d67656e)) // "sh-gen"
	n := 0
	for _, acct := range c.Accounts {
		for _, region := range c.Regions {
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
					batch = append(batch, map[string]any{
						"SchemaVersion": "2018-10-08", "Id": hub + "security-control/" + ctl.control + "/finding/" + fmt.Sprintf("%08x", hashString(acct+region+ctl.control)),
						"ProductArn": "arn:aws:securityhub:" + region + "::product/aws/securityhub", "ProductName": "Security Hub", "CompanyName": "AWS",
						"GeneratorId": "security-control/" + ctl.control, "AwsAccountId": acct, "Region": region,
						"Types":     []any{"Software and Configuration Checks/Industry and Regulatory Standards"},
						"CreatedAt": c.Start.Format(time.RFC3339), "UpdatedAt": t.Format("2006-01-02T15:04:05.000Z"),
						"Severity": map[string]any{"Label": label}, "Title": ctl.title, "Description": ctl.title,
						"Compliance": map[string]any{"Status": status, "SecurityControlId": ctl.control},
						"Workflow":   map[string]any{"Status": "NEW"}, "RecordState": "ACTIVE",
						"Resources": []any{map[string]any{"Type": ctl.resourceType, "Id": "arn:aws:" + strings.ToLower(ctl.resourceType) + ":::" + acct, "Region": region, "Partition": "aws"}},
					})
				}
				for i := 0; i < perDay; i++ {
					inst := fmt.Sprintf("i-0%016x", r.Uint64()>>4)
					cve := fmt.Sprintf("CVE-20%02d-%d", 20+r.IntN(6), 1000+r.IntN(40000))
					score := 4 + r.Float64()*6
					batch = append(batch, map[string]any{
						"SchemaVersion": "2018-10-08", "Id": fmt.Sprintf("arn:aws:inspector2:%s:%s:finding/%032x", region, acct, r.Uint64()),
						"ProductArn": "arn:aws:securityhub:" + region + "::product/aws/inspector", "ProductName": "Inspector", "CompanyName": "Amazon",
						"GeneratorId": "AWSInspector", "AwsAccountId": acct, "Region": region,
						"Types":     []any{"Software and Configuration Checks/Vulnerabilities/CVE"},
						"CreatedAt": t.Format(time.RFC3339), "UpdatedAt": t.Format("2006-01-02T15:04:05.000Z"),
						"Severity": map[string]any{"Label": severityLabel(int32(score * 10)), "Normalized": int(score * 10)},
						"Title":    cve + " - openssl", "Description": cve, "Workflow": map[string]any{"Status": "NEW"}, "RecordState": "ACTIVE",
						"Resources": []any{map[string]any{"Type": "AwsEc2Instance", "Id": fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", region, acct, inst), "Region": region, "Partition": "aws"}},
						"Vulnerabilities": []any{map[string]any{"Id": cve, "Cvss": []any{map[string]any{"BaseScore": score, "Version": "3.1"}},
							"VulnerablePackages": []any{map[string]any{"Name": "openssl", "Version": "3.0.2"}}}},
					})
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

func hashString(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h = (h ^ uint32(s[i])) * 16777619
	}
	return h
}
