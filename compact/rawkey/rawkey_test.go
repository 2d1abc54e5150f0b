package rawkey

import (
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestClassify(t *testing.T) {
	ft := func(y int, m time.Month, d, h, min, s int) time.Time {
		return time.Date(y, m, d, h, min, s, 0, time.UTC)
	}
	tests := []struct {
		name string
		key  string
		want Info
		// reason is a substring of Info.Reason (the rest of want must match exactly)
		reason string
		// anchored is Info.Key when it is not key from its first AWSLogs/ folder on
		anchored string
	}{
		{
			name: "cloudtrail events",
			key:  "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/07/111122223333_CloudTrail_us-east-1_20240307T1205Z_aBcD1234eFgH5678.json.gz",
			want: Info{Source: "cloudtrail", Kind: Events, AccountID: "111122223333", Region: "us-east-1", Day: day(2024, 3, 7), FileTime: ft(2024, 3, 7, 12, 5, 0)},
		},
		{
			name: "cloudtrail under a user prefix",
			key:  "security/trails/AWSLogs/111122223333/CloudTrail/eu-west-3/2023/12/31/111122223333_CloudTrail_eu-west-3_20231231T2355Z_x.json.gz",
			want: Info{Source: "cloudtrail", Kind: Events, AccountID: "111122223333", Region: "eu-west-3", Day: day(2023, 12, 31), FileTime: ft(2023, 12, 31, 23, 55, 0)},
		},
		{
			name: "organization trail",
			key:  "org-trail/AWSLogs/o-exampleorgid/444455556666/CloudTrail/ap-southeast-2/2024/01/02/444455556666_CloudTrail_ap-southeast-2_20240102T0000Z_Zz.json.gz",
			want: Info{Source: "cloudtrail", Kind: Events, OrgID: "o-exampleorgid", AccountID: "444455556666", Region: "ap-southeast-2", Day: day(2024, 1, 2), FileTime: ft(2024, 1, 2, 0, 0, 0)},
		},
		{
			name: "digest",
			key:  "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/03/07/111122223333_CloudTrail-Digest_us-east-1_mytrail_us-east-1_20240307T130512Z.json.gz",
			want: Info{Source: "cloudtrail", Kind: CloudTrailDigest, AccountID: "111122223333", Region: "us-east-1", Day: day(2024, 3, 7), FileTime: ft(2024, 3, 7, 13, 5, 12)},
		},
		{
			name: "org digest",
			key:  "AWSLogs/o-exampleorgid/444455556666/CloudTrail-Digest/us-west-2/2024/03/07/444455556666_CloudTrail-Digest_us-west-2_org_us-east-1_20240307T130512Z.json.gz",
			want: Info{Source: "cloudtrail", Kind: CloudTrailDigest, OrgID: "o-exampleorgid", AccountID: "444455556666", Region: "us-west-2", Day: day(2024, 3, 7), FileTime: ft(2024, 3, 7, 13, 5, 12)},
		},
		{
			name: "insight",
			key:  "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2024/03/07/111122223333_CloudTrail-Insight_us-east-1_20240307T1210Z_q.json.gz",
			want: Info{Source: "cloudtrail", Kind: CloudTrailInsight, AccountID: "111122223333", Region: "us-east-1", Day: day(2024, 3, 7), FileTime: ft(2024, 3, 7, 12, 10, 0)},
		},
		{
			name:   "cloudtrail non-json file",
			key:    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/07/notes.txt",
			want:   Info{Source: "cloudtrail", Kind: Unknown, AccountID: "111122223333", Region: "us-east-1", Day: day(2024, 3, 7)},
			reason: ".json.gz",
		},
		{
			name:   "cloudtrail missing day folder",
			key:    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/f.json.gz",
			want:   Info{Source: "cloudtrail", Kind: Unknown, AccountID: "111122223333", Region: "us-east-1"},
			reason: "YYYY/MM/DD",
		},
		{
			name:   "cloudtrail impossible date",
			key:    "AWSLogs/111122223333/CloudTrail/us-east-1/2024/02/30/f.json.gz",
			want:   Info{Source: "cloudtrail", Kind: Unknown, AccountID: "111122223333", Region: "us-east-1"},
			reason: "2024/02/30",
		},
		{
			name: "flow log daily",
			key:  "vpc/AWSLogs/123456789012/vpcflowlogs/us-east-1/2021/09/14/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20210914T0805Z_fe123456.log.gz",
			want: Info{Source: "vpc_flow", Kind: Events, AccountID: "123456789012", Region: "us-east-1", Day: day(2021, 9, 14), FileTime: ft(2021, 9, 14, 8, 5, 0)},
		},
		{
			name: "flow log hourly folder",
			key:  "AWSLogs/123456789012/vpcflowlogs/us-east-1/2021/09/14/08/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20210914T0805Z_fe123456.log.gz",
			want: Info{Source: "vpc_flow", Kind: Events, AccountID: "123456789012", Region: "us-east-1", Day: day(2021, 9, 14), FileTime: ft(2021, 9, 14, 8, 5, 0)},
		},
		{
			name:   "flow log bad hour folder",
			key:    "AWSLogs/123456789012/vpcflowlogs/us-east-1/2021/09/14/24/f.log.gz",
			want:   Info{Source: "vpc_flow", Kind: Unknown, AccountID: "123456789012", Region: "us-east-1"},
			reason: "hour",
		},
		{
			name: "flow log hive style",
			key:  "flows/AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2022/month=01/day=05/123456789012_vpcflowlogs_eu-central-1_fl-0a_20220105T2300Z_h.log.gz",
			want: Info{Source: "vpc_flow", Kind: Events, AccountID: "123456789012", Region: "eu-central-1", Day: day(2022, 1, 5), FileTime: ft(2022, 1, 5, 23, 0, 0)},
		},
		{
			name: "flow log hive style hourly",
			key:  "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2022/month=01/day=05/hour=23/123456789012_vpcflowlogs_eu-central-1_fl-0a_20220105T2300Z_h.log.gz",
			want: Info{Source: "vpc_flow", Kind: Events, AccountID: "123456789012", Region: "eu-central-1", Day: day(2022, 1, 5), FileTime: ft(2022, 1, 5, 23, 0, 0)},
		},
		{
			name:   "flow log parquet",
			key:    "AWSLogs/aws-account-id=123456789012/aws-service=vpcflowlogs/aws-region=eu-central-1/year=2022/month=01/day=05/hour=23/123456789012_vpcflowlogs_eu-central-1_fl-0a_20220105T2300Z_h.log.parquet",
			want:   Info{Source: "vpc_flow", Kind: Unknown, AccountID: "123456789012", Region: "eu-central-1", Day: day(2022, 1, 5), FileTime: ft(2022, 1, 5, 23, 0, 0)},
			reason: "Parquet",
		},
		{
			name: "hive keys out of order are not a delivery layout",
			key:  "AWSLogs/aws-account-id=123456789012/aws-region=eu-central-1/aws-service=vpcflowlogs/year=2022/month=01/day=05/f.log.gz",
			want: Info{},
		},
		{
			name: "resolver query log",
			key:  "dns/AWSLogs/123456789012/vpcdnsquerylogs/vpc-0a1b2c3d4e5f60718/2021/02/04/123456789012_vpcdnsquerylogs_vpc-0a1b2c3d4e5f60718_20210204T1750Z_3e1a9c.log.gz",
			want: Info{Source: "route53_resolver", Kind: Events, AccountID: "123456789012", VPCID: "vpc-0a1b2c3d4e5f60718", Day: day(2021, 2, 4), FileTime: ft(2021, 2, 4, 17, 50, 0)},
		},
		{
			name:   "resolver without vpc folder",
			key:    "AWSLogs/123456789012/vpcdnsquerylogs/2021/02/04/f.log.gz",
			want:   Info{Source: "route53_resolver", Kind: Unknown, AccountID: "123456789012"},
			reason: "vpc-",
		},
		{
			name: "other service",
			key:  "AWSLogs/123456789012/elasticloadbalancing/us-east-1/2024/01/01/x.log.gz",
			want: Info{},
		},
		{
			name: "account id not 12 digits",
			key:  "AWSLogs/12345/CloudTrail/us-east-1/2024/01/01/x.json.gz",
			want: Info{},
		},
		{
			name: "no AWSLogs folder",
			key:  "111122223333/CloudTrail/us-east-1/2024/01/01/x.json.gz",
			want: Info{},
		},
		{
			name:     "AWSLogs in the user prefix too",
			key:      "AWSLogs/archive/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/07/111122223333_CloudTrail_us-east-1_20240307T1205Z_a.json.gz",
			want:     Info{Source: "cloudtrail", Kind: Events, AccountID: "111122223333", Region: "us-east-1", Day: day(2024, 3, 7), FileTime: ft(2024, 3, 7, 12, 5, 0)},
			anchored: "AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/07/111122223333_CloudTrail_us-east-1_20240307T1205Z_a.json.gz",
		},
		{
			name:     "a local path whose directories hold AWSLogs",
			key:      "/srv/logs/raw/AWSLogs/o-exampleorgid/444455556666/CloudTrail/us-east-1/2024/01/02/444455556666_CloudTrail_us-east-1_20240102T0000Z_Zz.json.gz",
			want:     Info{Source: "cloudtrail", Kind: Events, OrgID: "o-exampleorgid", AccountID: "444455556666", Region: "us-east-1", Day: day(2024, 1, 2), FileTime: ft(2024, 1, 2, 0, 0, 0)},
			anchored: "AWSLogs/o-exampleorgid/444455556666/CloudTrail/us-east-1/2024/01/02/444455556666_CloudTrail_us-east-1_20240102T0000Z_Zz.json.gz",
		},
		{
			name: "empty",
			key:  "",
			want: Info{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Classify(tt.key)
			if tt.reason != "" {
				if !strings.Contains(got.Reason, tt.reason) {
					t.Errorf("Reason = %q, want it to mention %q", got.Reason, tt.reason)
				}
				got.Reason = ""
			}
			anchored := tt.anchored
			if anchored == "" && tt.want.Source != "" {
				anchored = tt.key[strings.Index(tt.key, "AWSLogs/"):]
			}
			if got.Key != anchored {
				t.Errorf("Key = %q, want %q", got.Key, anchored)
			}
			got.Key = ""
			if got != tt.want {
				t.Errorf("Classify(%q)\n got %+v\nwant %+v", tt.key, got, tt.want)
			}
		})
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{Unknown: "unknown", Events: "events", CloudTrailDigest: "cloudtrail-digest", CloudTrailInsight: "cloudtrail-insight", Kind(42): "unknown"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q, want %q", k, got, want)
		}
	}
}
