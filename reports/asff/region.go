package asff

import (
	"regexp"
	"strings"
)

// partitions are the region grammars of the AWS SDKs' partitions.json, most specific first, lower case
// only. The SDKs list the aws partition's geographic prefixes (us|eu|ap|...|mx); any two letters are
// accepted here so that the regions of a new geography are not refused before lakehunt learns of it.
var partitions = []struct {
	name string // as in ARNs
	asff string // Resource.Partition (the Security Hub enum has no value for the newer partitions)
	re   *regexp.Regexp
}{
	{"aws-cn", "aws-cn", regexp.MustCompile(`^cn-[a-z]+-\d+$`)},
	{"aws-us-gov", "aws-us-gov", regexp.MustCompile(`^us-gov-[a-z]+-\d+$`)},
	{"aws-iso", "aws-us-iso", regexp.MustCompile(`^us-iso-[a-z]+-\d+$`)},
	{"aws-iso-b", "aws-us-iso-b", regexp.MustCompile(`^us-isob-[a-z]+-\d+$`)},
	{"aws-iso-e", "", regexp.MustCompile(`^eu-isoe-[a-z]+-\d+$`)},
	{"aws-iso-f", "", regexp.MustCompile(`^us-isof-[a-z]+-\d+$`)},
	{"aws-eusc", "", regexp.MustCompile(`^eusc-[a-z]{2}-[a-z]+-\d+$`)},
	{"aws", "aws", regexp.MustCompile(`^[a-z]{2}-[a-z]+-\d+$`)},
}

// arnPartitions matches the partition field of an ARN.
var arnPartitions = func() string {
	names := make([]string, len(partitions))
	for i, p := range partitions {
		names[i] = p.name
	}
	return "(" + strings.Join(names, "|") + ")"
}()

// ValidRegion reports whether region is an AWS region name of any partition (us-east-1, cn-north-1,
// us-gov-west-1, us-isob-east-1, eusc-de-east-1, ...).
func ValidRegion(region string) bool {
	_, _, ok := partitionOf(region)
	return ok
}

// partitionOf is the partition of region: its ARN name and its ASFF Resource.Partition value ("" when
// Security Hub has none for it).
func partitionOf(region string) (arn, asff string, ok bool) {
	if len(region) > maxRegion {
		return "", "", false
	}
	for _, p := range partitions {
		if p.re.MatchString(region) {
			return p.name, p.asff, true
		}
	}
	return "", "", false
}
