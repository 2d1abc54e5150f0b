// Package guardduty reads GuardDuty findings exported to S3 (AWSLogs/ACCOUNT/GuardDuty/REGION/YYYY/MM/DD/
// *.jsonl.gz): one finding per line, in the shape of the GetFindings API. A finding that changes (its
// count grows, it is archived) is exported again with a later updatedAt: every version is a row, and the
// guardduty_latest view holds the newest of each.
package guardduty

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/internal/jsonstream"
	"github.com/lakehunt/lakehunt/compact/logtime"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Table is the lake table GuardDuty findings fill; LatestView is the view of each finding's newest version.
const (
	Table      = "guardduty"
	LatestView = "guardduty_latest"
)

// DefaultMaxRecordBytes is the record limit when none is given. Findings are a few KB; attack sequences
// and findings with many affected resources reach tens of KB.
const DefaultMaxRecordBytes = 1 << 20

// Finding is one row of the guardduty table: one version of a finding.
type Finding struct {
	EventTime     time.Time  `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"updatedAt: when this version of the finding was written (UTC); the day partition"`
	AccountID     string     `parquet:"account_id,dict,zstd" doc:"accountId: the account the finding is about"`
	Region        string     `parquet:"region,dict,zstd" doc:"region of the finding"`
	ID            string     `parquet:"id,zstd" doc:"the finding id (the same in every version of the finding)"`
	VersionID     string     `parquet:"version_id,zstd" doc:"id@updatedAt: one version of the finding; rows are deduplicated on it"`
	ARN           *string    `parquet:"arn,optional,zstd"`
	Type          *string    `parquet:"type,optional,dict,zstd" doc:"the finding type, THREAT-PURPOSE:RESOURCE/THREAT-FAMILY (e.g. UnauthorizedAccess:EC2/SSHBruteForce)"`
	Severity      *float64   `parquet:"severity,optional,zstd" doc:"severity, 1.0 to 10.0"`
	SeverityLabel *string    `parquet:"severity_label,optional,dict,zstd" doc:"LOW (<4) | MEDIUM (<7) | HIGH (<9) | CRITICAL, from severity"`
	Title         *string    `parquet:"title,optional,zstd"`
	Description   *string    `parquet:"description,optional,zstd"`
	CreatedAt     *time.Time `parquet:"created_at,optional,timestamp(microsecond:local),zstd" doc:"createdAt: when the finding was first created"`
	UpdatedAt     time.Time  `parquet:"updated_at,timestamp(microsecond:local),zstd" doc:"updatedAt (the same as event_time)"`
	ResourceType  *string    `parquet:"resource_type,optional,dict,zstd" doc:"resource.resourceType: Instance | AccessKey | S3Bucket | EKSCluster | ECSCluster | Container | RDSDBInstance | Lambda | AttackSequence | ..."`
	InstanceID    *string    `parquet:"instance_id,optional,dict,zstd" doc:"resource.instanceDetails.instanceId"`
	AccessKeyID   *string    `parquet:"access_key_id,optional,dict,zstd" doc:"resource.accessKeyDetails.accessKeyId"`
	PrincipalID   *string    `parquet:"principal_id,optional,dict,zstd" doc:"resource.accessKeyDetails.principalId"`
	UserName      *string    `parquet:"user_name,optional,dict,zstd" doc:"resource.accessKeyDetails.userName"`
	UserType      *string    `parquet:"user_type,optional,dict,zstd" doc:"resource.accessKeyDetails.userType (IAMUser, AssumedRole, Root, ...)"`
	S3Buckets     *string    `parquet:"s3_buckets,optional,zstd" lake:"json" doc:"names of the buckets in resource.s3BucketDetails[], as a JSON array"`
	ActionType    *string    `parquet:"action_type,optional,dict,zstd" doc:"service.action.actionType: NETWORK_CONNECTION | PORT_PROBE | DNS_REQUEST | AWS_API_CALL | KUBERNETES_API_CALL | RDS_LOGIN_ATTEMPT | ..."`
	API           *string    `parquet:"api,optional,dict,zstd" doc:"service.action.awsApiCallAction.api: the API call the finding is about"`
	RemoteIPs     *string    `parquet:"remote_ips,optional,zstd" lake:"json" doc:"every remoteIpDetails.ipAddressV4/V6 in service.action, as a JSON array (join with json_extract_string(remote_ips, '$[*]'))"`
	Domains       *string    `parquet:"domains,optional,zstd" lake:"json" doc:"every domain in service.action (DNS request, API caller domain), as a JSON array"`
	FirstSeen     *time.Time `parquet:"first_seen,optional,timestamp(microsecond:local),zstd" doc:"service.eventFirstSeen"`
	LastSeen      *time.Time `parquet:"last_seen,optional,timestamp(microsecond:local),zstd" doc:"service.eventLastSeen"`
	Count         *int64     `parquet:"count,optional,zstd" doc:"service.count: how many times the activity was seen so far"`
	Archived      *bool      `parquet:"archived,optional,zstd" doc:"service.archived"`
	DetectorID    *string    `parquet:"detector_id,optional,dict,zstd" doc:"service.detectorId"`
	Finding       string     `parquet:"finding,zstd" lake:"json" doc:"the whole finding as JSON"`
	lake.Lineage
}

// record is the part of a finding the columns read.
type record struct {
	ID          string   `json:"id"`
	AccountID   string   `json:"accountId"`
	Region      string   `json:"region"`
	ARN         *string  `json:"arn"`
	Type        *string  `json:"type"`
	Severity    *float64 `json:"severity"`
	Title       *string  `json:"title"`
	Description *string  `json:"description"`
	CreatedAt   *string  `json:"createdAt"`
	UpdatedAt   *string  `json:"updatedAt"`
	Resource    *struct {
		ResourceType    *string `json:"resourceType"`
		InstanceDetails *struct {
			InstanceID *string `json:"instanceId"`
		} `json:"instanceDetails"`
		AccessKeyDetails *struct {
			AccessKeyID *string `json:"accessKeyId"`
			PrincipalID *string `json:"principalId"`
			UserName    *string `json:"userName"`
			UserType    *string `json:"userType"`
		} `json:"accessKeyDetails"`
		S3BucketDetails []struct {
			Name string `json:"name"`
		} `json:"s3BucketDetails"`
	} `json:"resource"`
	Service *struct {
		Action         json.RawMessage `json:"action"`
		EventFirstSeen *string         `json:"eventFirstSeen"`
		EventLastSeen  *string         `json:"eventLastSeen"`
		Count          *int64          `json:"count"`
		Archived       *bool           `json:"archived"`
		DetectorID     *string         `json:"detectorId"`
	} `json:"service"`
}

// Options tell Parse what the object key says.
type Options struct {
	Key             string
	FallbackAccount string // the account in the key, for findings without accountId
	FallbackRegion  string
	MaxRecordBytes  int // larger records go to bad(); 0 means DefaultMaxRecordBytes
}

// Parse reads findings from r, one JSON object per line (or concatenated, as Firehose writes them). Each
// row goes to emit; a record that is not a finding (not JSON, no id or updatedAt, no account) or is
// larger than MaxRecordBytes goes to bad with its 1-based record number and parsing goes on. An object
// that does not start with a JSON object is not a findings export: that is the error.
func Parse(r io.Reader, o Options, emit func(*Finding) error, bad source.Bad) (n int64, err error) {
	limit := o.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	return jsonstream.Each(r, limit, "not GuardDuty findings (JSON objects, one per line)", func(n int64, obj []byte) error {
		row, why := parseRecord(obj, o)
		if why != "" {
			bad(n, why, obj)
			return nil
		}
		row.Lineage = lake.Lineage{SourceKey: o.Key, SourceLine: n}
		return emit(row)
	}, bad)
}

func parseRecord(obj []byte, o Options) (*Finding, string) {
	if err := jsonlimit.Check(obj); err != nil {
		return nil, err.Error()
	}
	var rec record
	if err := json.Unmarshal(obj, &rec); err != nil {
		return nil, "not a GuardDuty finding: " + err.Error()
	}
	if rec.ID == "" {
		return nil, "not a GuardDuty finding: no id"
	}
	if rec.UpdatedAt == nil {
		return nil, "no updatedAt"
	}
	updated, err := logtime.Parse(*rec.UpdatedAt)
	if err != nil {
		return nil, fmt.Sprintf("updatedAt %q is not a time", *rec.UpdatedAt)
	}
	updated = updated.Truncate(time.Microsecond)
	var compact bytes.Buffer
	if err := json.Compact(&compact, obj); err != nil {
		return nil, "not a GuardDuty finding: " + err.Error()
	}
	row := &Finding{
		EventTime: updated, UpdatedAt: updated, AccountID: rec.AccountID, Region: rec.Region, ID: rec.ID,
		VersionID: rec.ID + "@" + updated.Format("2006-01-02T15:04:05.000000Z"),
		ARN:       rec.ARN, Type: rec.Type, Severity: rec.Severity, Title: rec.Title, Description: rec.Description,
		CreatedAt: optTime(rec.CreatedAt), Finding: compact.String(),
	}
	if row.AccountID == "" {
		row.AccountID = o.FallbackAccount
	}
	if row.Region == "" {
		row.Region = o.FallbackRegion
	}
	if row.AccountID == "" || row.Region == "" {
		return nil, "no accountId and region in the finding, and the object key has none"
	}
	if s := rec.Severity; s != nil {
		l := severityLabel(*s)
		row.SeverityLabel = &l
	}
	if res := rec.Resource; res != nil {
		row.ResourceType = res.ResourceType
		if d := res.InstanceDetails; d != nil {
			row.InstanceID = d.InstanceID
		}
		if d := res.AccessKeyDetails; d != nil {
			row.AccessKeyID, row.PrincipalID, row.UserName, row.UserType = d.AccessKeyID, d.PrincipalID, d.UserName, d.UserType
		}
		var names []string
		for _, b := range res.S3BucketDetails {
			if b.Name != "" {
				names = append(names, b.Name)
			}
		}
		row.S3Buckets = jsonArray(names)
	}
	if svc := rec.Service; svc != nil {
		row.FirstSeen, row.LastSeen = optTime(svc.EventFirstSeen), optTime(svc.EventLastSeen)
		row.Count, row.Archived, row.DetectorID = svc.Count, svc.Archived, svc.DetectorID
		if len(svc.Action) > 0 {
			var a struct {
				ActionType       *string `json:"actionType"`
				AWSAPICallAction *struct {
					API *string `json:"api"`
				} `json:"awsApiCallAction"`
			}
			var tree any
			if json.Unmarshal(svc.Action, &a) != nil || json.Unmarshal(svc.Action, &tree) != nil {
				return nil, "not a GuardDuty finding: service.action is not an object"
			}
			row.ActionType = a.ActionType
			if c := a.AWSAPICallAction; c != nil {
				row.API = c.API
			}
			ips, domains := map[string]bool{}, map[string]bool{}
			walk(tree, "", ips, domains)
			row.RemoteIPs, row.Domains = jsonArray(sorted(ips)), jsonArray(sorted(domains))
		}
	}
	return row, ""
}

// walk collects the remote addresses (ipAddressV4/V6 under any remoteIpDetails) and domains (any
// "domain" string) of a finding's action, whatever the action type: GuardDuty adds action types over time.
func walk(v any, parent string, ips, domains map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && s != "" {
				switch {
				case parent == "remoteIpDetails" && (k == "ipAddressV4" || k == "ipAddressV6"):
					ips[s] = true
				case k == "domain":
					domains[s] = true
				}
				continue
			}
			walk(c, k, ips, domains)
		}
	case []any:
		for _, c := range x {
			walk(c, parent, ips, domains)
		}
	}
}

// severityLabel follows GuardDuty's severity levels.
func severityLabel(s float64) string {
	switch {
	case s >= 9:
		return "CRITICAL"
	case s >= 7:
		return "HIGH"
	case s >= 4:
		return "MEDIUM"
	default:
		return "LOW"
	}
}

func optTime(s *string) *time.Time {
	if s == nil {
		return nil
	}
	t, err := logtime.Parse(*s)
	if err != nil {
		return nil
	}
	t = t.Truncate(time.Microsecond)
	return &t
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// jsonArray is a JSON array of ss, NULL when empty.
func jsonArray(ss []string) *string {
	if len(ss) == 0 {
		return nil
	}
	b, _ := json.Marshal(ss) // strings always marshal
	s := string(b)
	return &s
}

// latestSQL is the newest version of each finding: the highest updatedAt, then the highest count.
var latestSQL = `SELECT * FROM ` + Table + ` QUALIFY row_number() OVER (PARTITION BY account_id, region, id
ORDER BY updated_at DESC, count DESC NULLS LAST, ingested_at DESC, source_key DESC, source_line DESC) = 1`

// Source describes the guardduty table to the compactor.
var Source = source.Def[Finding]{
	Table:          Table,
	Doc:            "GuardDuty findings exported to S3, one row per version of a finding (guardduty_latest: the newest of each)",
	Layout:         source.Layout{Services: []string{"GuardDuty"}, Classify: classify, Prefixed: true},
	MaxRecordBytes: DefaultMaxRecordBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*Finding) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxRecordBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(f *Finding) time.Time { return f.EventTime },
	Partition: func(f *Finding) (string, string) { return f.AccountID, f.Region },
	Lineage:   func(f *Finding) *lake.Lineage { return &f.Lineage },
	ID:        func(f *Finding) string { return f.VersionID },
	IDColumn:  "version_id",
	Views: []lake.View{{Name: LatestView, Doc: "the newest version of each GuardDuty finding (highest updated_at, then count)",
		SQL: strings.Join(strings.Fields(latestSQL), " ")}},
	Fixture:  fixture,
	Generate: generate,
}
