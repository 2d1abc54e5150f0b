package asff

import (
	"net/netip"
	"regexp"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
)

var (
	accessKeyRe  = regexp.MustCompile(`^(AKIA|ASIA)[A-Z0-9]{16}$`)
	instanceIDRe = regexp.MustCompile(`^i-[0-9a-f]{8,17}$`)
	arnRe        = regexp.MustCompile(`^arn:` + arnPartitions + `:([a-z0-9-]+):([a-z0-9-]*):(\d{12})?:(.+)$`)
)

// resources are the hunt's mapped resources; without any, the entity's resource; without an entity,
// the account. Details.Other carries what ASFF has no typed field for, within its limits.
func (b *builder) resources(account, region string) []types.Resource {
	arnPart, part, _ := partitionOf(region)
	var out []types.Resource
	seen := map[string]bool{}
	add := func(r types.Resource) {
		k := aws.ToString(r.Type) + "\x00" + aws.ToString(r.Id)
		if seen[k] {
			return
		}
		seen[k] = true
		out = append(out, r)
	}
	for i, r := range b.f.Resources {
		if strings.TrimSpace(r.ID) == "" {
			b.warn("Resources", "dropped resource %d (type %q): it has no id; fix the hunt's resource mapping", i, r.Type)
			continue
		}
		res := types.Resource{
			Type:      aws.String(b.text("Resources.Type", orDefault(r.Type, "Other"), 256)),
			Id:        aws.String(r.ID),
			Partition: types.Partition(part),
			Region:    aws.String(region),
		}
		switch {
		case ValidRegion(r.Region):
			_, rp, _ := partitionOf(r.Region)
			res.Region, res.Partition = aws.String(r.Region), types.Partition(rp)
		case r.Region != "":
			b.warn("Resources.Region", "resource %d: %q is not a region name; used %s", i, r.Region, region)
		}
		if len(r.Detail) > 0 {
			res.Details = &types.ResourceDetails{Other: b.other(r.Detail)}
		}
		add(res)
	}
	if len(out) == 0 && strings.TrimSpace(b.f.Entity.Key) != "" {
		add(entityResource(b.f.Entity, account, region, arnPart, part))
	}
	if len(out) == 0 {
		add(types.Resource{Type: aws.String("AwsAccount"), Id: aws.String("AWS::::Account:" + account), Partition: types.Partition(part), Region: aws.String(region)})
	}
	for i := range out {
		// No documented limit; a user agent or DNS name as entity key must not make the finding huge.
		out[i].Id = aws.String(b.text("Resources.Id", aws.ToString(out[i].Id), maxResourceID))
	}
	if len(out) > maxResources {
		b.warn("Resources", "kept the first %d of %d resources (the ASFF maximum)", maxResources, len(out))
		out = out[:maxResources]
	}
	return out
}

// other fits a detail map into Details.Other: at most 50 pairs, keys of 128 and values of 1024 characters.
func (b *builder) other(detail map[string]string) map[string]string {
	keys := make([]string, 0, len(detail))
	for k := range detail {
		if strings.TrimSpace(k) != "" && strings.TrimSpace(detail[k]) != "" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	if len(keys) < len(detail) {
		b.warn("Resources.Details.Other", "dropped %d empty keys or values (ASFF requires non-empty text)", len(detail)-len(keys))
	}
	if len(keys) > maxOtherPairs {
		b.warn("Resources.Details.Other", "kept %d of %d details", maxOtherPairs, len(keys))
		keys = keys[:maxOtherPairs]
	}
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		out[b.text("Resources.Details.Other key", k, maxFieldKey)] = b.text("Resources.Details.Other["+k+"]", detail[k], maxOtherValue)
	}
	return out
}

// entityResource maps what a finding is about to an ASFF resource by the shape of its key. arnPart is
// the region's partition in ARNs, part its ASFF Resource.Partition.
func entityResource(e lake.Entity, account, region, arnPart, part string) types.Resource {
	key := strings.TrimSpace(e.Key)
	r := types.Resource{Type: aws.String("Other"), Id: aws.String(key), Partition: types.Partition(part), Region: aws.String(region)}
	other := map[string]string{}
	if e.Type != "" {
		v, _ := reports.Truncate(e.Type, maxOtherValue)
		other["EntityType"] = v
	}
	switch {
	case accessKeyRe.MatchString(key):
		r.Type = aws.String("AwsIamAccessKey")
	case instanceIDRe.MatchString(key):
		r.Type = aws.String("AwsEc2Instance")
		r.Id = aws.String("arn:" + arnPart + ":ec2:" + region + ":" + account + ":instance/" + key)
	case arnRe.MatchString(key):
		m := arnRe.FindStringSubmatch(key)
		service, acct, res := m[2], m[4], m[5]
		switch {
		case service == "iam" && res == "root":
			r.Type = aws.String("AwsAccount")
			r.Id = aws.String("AWS::::Account:" + acct)
		case service == "iam" && strings.HasPrefix(res, "role/"):
			r.Type = aws.String("AwsIamRole")
		case service == "iam" && strings.HasPrefix(res, "user/"):
			r.Type = aws.String("AwsIamUser")
		case service == "sts" && strings.HasPrefix(res, "assumed-role/"):
			// Sessions collapse to their role; the session name stays as a detail.
			parts := strings.SplitN(strings.TrimPrefix(res, "assumed-role/"), "/", 2)
			r.Type = aws.String("AwsIamRole")
			r.Id = aws.String("arn:" + m[1] + ":iam::" + acct + ":role/" + parts[0])
			if len(parts) == 2 {
				v, _ := reports.Truncate(parts[1], maxOtherValue)
				other["SessionName"] = v
			}
		case service == "ec2" && strings.HasPrefix(res, "instance/"):
			r.Type = aws.String("AwsEc2Instance")
		case service == "s3" && !strings.Contains(res, "/"):
			r.Type = aws.String("AwsS3Bucket")
		}
	default:
		if _, err := netip.ParseAddr(key); err == nil {
			other["IpAddress"] = key
		}
	}
	if len(other) > 0 {
		r.Details = &types.ResourceDetails{Other: other}
	}
	return r
}
