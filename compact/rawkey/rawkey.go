// Package rawkey classifies S3 object keys in the layouts AWS uses to deliver logs
// (CloudTrail, VPC Flow Logs, Route 53 Resolver query logs).
package rawkey

import (
	"strconv"
	"strings"
	"time"
)

// Kind says what an object holds.
type Kind int

const (
	// Unknown: not something compact parses (Info.Reason says why).
	Unknown Kind = iota
	// Events: log records of Info.Source.
	Events
	// CloudTrailDigest: a CloudTrail integrity digest file (no events).
	CloudTrailDigest
	// CloudTrailInsight: a CloudTrail Insights events file.
	CloudTrailInsight
)

func (k Kind) String() string {
	switch k {
	case Events:
		return "events"
	case CloudTrailDigest:
		return "cloudtrail-digest"
	case CloudTrailInsight:
		return "cloudtrail-insight"
	}
	return "unknown"
}

// Source names, equal to the lake table names.
const (
	SourceCloudTrail      = "cloudtrail"
	SourceVPCFlow         = "vpc_flow"
	SourceRoute53Resolver = "route53_resolver"
)

type layout struct {
	source   string
	classify func(info *Info, service string, rest []string)
}

// layouts are the registered sources' AWSLogs/ACCOUNT/SERVICE/ folders, beyond the built-in three.
var layouts = map[string]layout{}

// Register makes keys AWSLogs/ACCOUNT/SERVICE/REST... (for each of services) objects of source; classify
// reads REST (never empty) and sets info's Region, Day, FileTime and Kind, or Reason. Sources register
// once, when compact's registry is built.
func Register(source string, services []string, classify func(info *Info, service string, rest []string)) {
	for _, s := range services {
		layouts[s] = layout{source, classify}
	}
}

// Info is what the key says about an object.
type Info struct {
	Source string // SourceCloudTrail, SourceVPCFlow, SourceRoute53Resolver, or "" when the layout is not recognised
	// Key is the key from its AWSLogs/ folder on (set with Source): the same whatever prefix or location
	// the object was listed under, so the lake records an object under one name however it was reached.
	Key       string
	Kind      Kind
	OrgID     string    // o-... for organization trails
	AccountID string    // the account folder
	Region    string    // the region folder ("" for resolver query logs: their path has none)
	VPCID     string    // resolver query logs only
	Day       time.Time // YYYY/MM/DD of the path (UTC midnight), zero if none
	// FileTime is the delivery timestamp in the file name (…_20240101T1205Z_…), zero if none.
	FileTime time.Time
	// Reason explains Kind == Unknown when Source is set (e.g. Parquet-delivered flow logs).
	Reason string
}

// Classify reads an object key, or a path ending in one. Any prefix may precede the AWSLogs/ folder.
func Classify(key string) Info {
	segs := strings.Split(key, "/")
	var best Info
	for i, s := range segs {
		if s != "AWSLogs" {
			continue
		}
		info := classifyAfter(segs[i+1:])
		if info.Source != "" {
			info.Key = strings.Join(segs[i:], "/")
		}
		if info.Source != "" && info.Kind != Unknown {
			return info
		}
		if best.Source == "" {
			best = info
		}
	}
	return best
}

func classifyAfter(segs []string) Info {
	if len(segs) > 0 && strings.HasPrefix(segs[0], "aws-account-id=") {
		return classifyHive(segs)
	}
	var info Info
	if len(segs) > 0 && isOrgID(segs[0]) {
		info.OrgID = segs[0]
		segs = segs[1:]
	}
	if len(segs) < 2 || !isAccountID(segs[0]) {
		return Info{}
	}
	info.AccountID = segs[0]
	service, rest := segs[1], segs[2:]
	switch service {
	case "CloudTrail", "CloudTrail-Digest", "CloudTrail-Insight":
		info.Source = SourceCloudTrail
	case "vpcflowlogs":
		info.Source = SourceVPCFlow
	case "vpcdnsquerylogs":
		info.Source = SourceRoute53Resolver
	default:
		l, ok := layouts[service]
		if !ok || info.OrgID != "" {
			return Info{}
		}
		info.Source = l.source
		if len(rest) == 0 {
			info.Reason = "nothing after the " + service + "/ folder"
			return info
		}
		l.classify(&info, service, rest)
		return info
	}
	if info.OrgID != "" && info.Source != SourceCloudTrail {
		return Info{}
	}
	if len(rest) == 0 {
		info.Reason = "nothing after the " + service + "/ folder"
		return info
	}
	switch info.Source {
	case SourceCloudTrail:
		info.Region = rest[0]
		classifyDated(&info, rest[1:], false)
		if info.Kind != Events {
			return info
		}
		if !hasSuffix(rest[len(rest)-1], ".json.gz", ".json") {
			info.Kind, info.Reason = Unknown, "CloudTrail files end in .json.gz"
			return info
		}
		switch service {
		case "CloudTrail-Digest":
			info.Kind = CloudTrailDigest
		case "CloudTrail-Insight":
			info.Kind = CloudTrailInsight
		}
	case SourceVPCFlow:
		info.Region = rest[0]
		classifyDated(&info, rest[1:], true)
		classifyFlowFile(&info, rest[len(rest)-1])
	case SourceRoute53Resolver:
		if !strings.HasPrefix(rest[0], "vpc-") {
			info.Reason = "expected a vpc-... folder after vpcdnsquerylogs/"
			return info
		}
		info.VPCID = rest[0]
		classifyDated(&info, rest[1:], false)
		if info.Kind == Events && !hasSuffix(rest[len(rest)-1], ".log.gz", ".log") {
			info.Kind, info.Reason = Unknown, "resolver query log files end in .log.gz"
		}
	}
	return info
}

// classifyDated reads YYYY/MM/DD/[HH/]FILE and sets Kind to Events when the shape fits.
func classifyDated(info *Info, rest []string, hourly bool) {
	n := 4
	if hourly && len(rest) == 5 {
		n = 5
	}
	if len(rest) != n {
		info.Reason = "expected YYYY/MM/DD/FILE folders"
		if hourly {
			info.Reason = "expected YYYY/MM/DD/[HH/]FILE folders"
		}
		return
	}
	day, ok := parseDay(rest[0], rest[1], rest[2])
	if !ok {
		info.Reason = "bad date folders " + strings.Join(rest[:3], "/")
		return
	}
	if n == 5 && !isHour(rest[3]) {
		info.Reason = "bad hour folder " + rest[3]
		return
	}
	info.Day = day
	info.FileTime = fileTime(rest[n-1])
	info.Kind = Events
}

// classifyHive reads aws-account-id=A/aws-service=vpcflowlogs/aws-region=R/year=Y/month=M/day=D/[hour=H/]FILE.
func classifyHive(segs []string) Info {
	want := []string{"aws-account-id", "aws-service", "aws-region", "year", "month", "day", "hour"}
	var vals []string
	for i, s := range segs[:len(segs)-1] {
		k, v, ok := strings.Cut(s, "=")
		if !ok || i >= len(want) || k != want[i] {
			return Info{}
		}
		vals = append(vals, v)
	}
	if len(vals) < 2 || vals[1] != "vpcflowlogs" || !isAccountID(vals[0]) {
		return Info{}
	}
	info := Info{Source: SourceVPCFlow, AccountID: vals[0]}
	if len(vals) < 6 {
		info.Reason = "expected aws-region=/year=/month=/day=/[hour=]/FILE after aws-service=vpcflowlogs"
		return info
	}
	info.Region = vals[2]
	classifyDated(&info, append(vals[3:], segs[len(segs)-1]), true)
	classifyFlowFile(&info, segs[len(segs)-1])
	return info
}

func classifyFlowFile(info *Info, name string) {
	if info.Kind != Events {
		return
	}
	switch {
	case hasSuffix(name, ".log.gz", ".log"):
	case hasSuffix(name, ".parquet", ".gz.parquet"):
		info.Kind, info.Reason = Unknown, "Parquet-delivered flow logs are not supported yet (deliver as text)"
	default:
		info.Kind, info.Reason = Unknown, "flow log files end in .log.gz"
	}
}

func hasSuffix(s string, suffixes ...string) bool {
	for _, x := range suffixes {
		if strings.HasSuffix(s, x) {
			return true
		}
	}
	return false
}

func isAccountID(s string) bool { return len(s) == 12 && allDigits(s) }

func isOrgID(s string) bool {
	if !strings.HasPrefix(s, "o-") || len(s) < 12 || len(s) > 34 {
		return false
	}
	for _, c := range s[2:] {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// IsHour reports whether s is an HH folder (00-23).
func IsHour(s string) bool { return isHour(s) }

// ParseDay reads YYYY, MM, DD folders.
func ParseDay(y, m, d string) (time.Time, bool) { return parseDay(y, m, d) }

// FileTime is the delivery time in an AWS log file name (…_YYYYMMDDTHHmmZ_…), zero if none.
func FileTime(name string) time.Time { return fileTime(name) }

func isHour(s string) bool {
	h, err := strconv.Atoi(s)
	return len(s) == 2 && err == nil && h >= 0 && h < 24
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func parseDay(y, m, d string) (time.Time, bool) {
	if len(y) != 4 || len(m) != 2 || len(d) != 2 {
		return time.Time{}, false
	}
	t, err := time.Parse("2006-01-02", y+"-"+m+"-"+d)
	return t, err == nil
}

// fileTime finds the _YYYYMMDDTHHmmZ_ (or ...HHmmssZ, digests) part of an AWS log file name.
func fileTime(name string) time.Time {
	for _, p := range strings.Split(name, "_") {
		p, _, _ = strings.Cut(p, ".")
		var layout string
		switch len(p) {
		case len("20060102T1504Z"):
			layout = "20060102T1504Z"
		case len("20060102T150405Z"):
			layout = "20060102T150405Z"
		default:
			continue
		}
		if p[8] != 'T' {
			continue
		}
		if t, err := time.Parse(layout, p); err == nil {
			return t
		}
	}
	return time.Time{}
}
