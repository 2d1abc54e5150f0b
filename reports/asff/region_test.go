package asff

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/lake"
)

func TestRegions(t *testing.T) {
	valid := []struct {
		region, arn string
		asff        types.Partition // Resource.Partition: "" where Security Hub's enum has no value
	}{
		{"us-east-1", "aws", "aws"},
		{"ap-southeast-7", "aws", "aws"},
		{"mx-central-1", "aws", "aws"},
		{"il-central-1", "aws", "aws"},
		{"cn-north-1", "aws-cn", "aws-cn"},
		{"cn-northwest-1", "aws-cn", "aws-cn"},
		{"us-gov-west-1", "aws-us-gov", "aws-us-gov"},
		{"us-iso-east-1", "aws-iso", "aws-us-iso"},
		{"us-isob-east-1", "aws-iso-b", "aws-us-iso-b"},
		{"eu-isoe-west-1", "aws-iso-e", ""},
		{"us-isof-south-1", "aws-iso-f", ""},
		{"eusc-de-east-1", "aws-eusc", ""},
	}
	m := model(t)
	for _, tt := range valid {
		t.Run(tt.region, func(t *testing.T) {
			if !ValidRegion(tt.region) {
				t.Fatalf("%s refused", tt.region)
			}
			af, warns := buildOne(t, finding(func(f *lake.Finding) {
				f.Region = tt.region
				f.Entity = lake.Entity{Type: "instance", Key: "i-0123456789abcdef0"}
			}), Options{})
			if len(warns) > 0 {
				t.Errorf("warnings %v", warns)
			}
			wantARN := "arn:" + tt.arn + ":securityhub:" + tt.region + ":111122223333:product/111122223333/default"
			r := af.Resources[0]
			if aws.ToString(af.ProductArn) != wantARN || aws.ToString(af.Region) != tt.region {
				t.Errorf("ProductArn %s Region %s, want %s %s", aws.ToString(af.ProductArn), aws.ToString(af.Region), wantARN, tt.region)
			}
			if want := "arn:" + tt.arn + ":ec2:" + tt.region + ":111122223333:instance/i-0123456789abcdef0"; aws.ToString(r.Id) != want || r.Partition != tt.asff {
				t.Errorf("resource %s partition %q, want %s %q", aws.ToString(r.Id), r.Partition, want, tt.asff)
			}
			validate(t, m, []types.AwsSecurityFinding{af})
		})
	}
	for _, r := range []string{"apiso-westcentral-3r", "us-east", "US-EAST-1", "", "us-east-1; drop", "us-east-1 ", "us--1", "useast-1", "us-east-1a", "eusc-de-east-long-region-1"} {
		if ValidRegion(r) {
			t.Errorf("%q accepted as a region", r)
		}
	}
}

// A product ARN or entity ARN of any partition is recognised.
func TestPartitionARNs(t *testing.T) {
	arn := "arn:aws-iso-b:securityhub:us-isob-east-1:111122223333:product/111122223333/default"
	af, _ := buildOne(t, finding(func(f *lake.Finding) {
		f.Region = "us-isob-east-1"
		f.Entity = lake.Entity{Type: "principal", Key: "arn:aws-iso-b:iam::111122223333:role/Admin"}
	}), Options{Region: "us-isob-east-1", ProductARN: arn})
	if aws.ToString(af.ProductArn) != arn || aws.ToString(af.Resources[0].Type) != "AwsIamRole" {
		t.Errorf("ProductArn %s resource type %s", aws.ToString(af.ProductArn), aws.ToString(af.Resources[0].Type))
	}
}

// With an import region, a finding whose region is not a region name is filed there, with a warning
// naming the finding and the region, and the original value in ProductFields.
func TestOddRegionUsesImportRegion(t *testing.T) {
	af, warns := buildOne(t, finding(func(f *lake.Finding) { f.Region = "apiso-westcentral-3r" }), Options{Region: "eu-central-1"})
	if aws.ToString(af.Region) != "eu-central-1" || aws.ToString(af.Resources[0].Region) != "eu-central-1" {
		t.Errorf("Region %s, resource region %s, want the import region", aws.ToString(af.Region), aws.ToString(af.Resources[0].Region))
	}
	if got := af.ProductFields[keySourceRegion]; got != "apiso-westcentral-3r" {
		t.Errorf("%s = %q", keySourceRegion, got)
	}
	if len(warns) != 1 || warns[0].FindingID != "f-1" || warns[0].Field != "Region" ||
		!strings.Contains(warns[0].Message, `"apiso-westcentral-3r" is not an AWS region name; used the import region eu-central-1`) {
		t.Errorf("warnings %v", warns)
	}
	validate(t, model(t), []types.AwsSecurityFinding{af})
	// A usable region is left alone: no warning, no SourceRegion.
	af, warns = buildOne(t, finding(nil), Options{Region: "eu-central-1"})
	if aws.ToString(af.Region) != "eu-west-1" || af.ProductFields[keySourceRegion] != "" || len(warns) > 0 {
		t.Errorf("Region %s, SourceRegion %q, warnings %v", aws.ToString(af.Region), af.ProductFields[keySourceRegion], warns)
	}
}
