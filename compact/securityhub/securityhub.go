// Package securityhub reads AWS Security Hub findings (ASFF) as an EventBridge rule delivers them through
// Firehose to S3: EventBridge events ("Security Hub Findings - Imported", the findings in
// detail.findings[]) concatenated or one per line, and bare findings as exported by other tools. They
// carry the results of GuardDuty, Inspector, IAM Access Analyzer, Macie, Config, Prowler and Security
// Hub's own controls. Every version of a finding is a row; securityhub_latest holds the newest of each.
package securityhub

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/internal/jsonstream"
	"github.com/lakehunt/lakehunt/compact/logtime"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Table is the lake table Security Hub findings fill; LatestView is the view of each finding's newest version.
const (
	Table      = "securityhub"
	LatestView = "securityhub_latest"
)

// DefaultMaxRecordBytes is the record limit when none is given: an EventBridge event is at most 256 KB,
// a finding at most 240 KB; bare-finding exports are one finding per record.
const DefaultMaxRecordBytes = 1 << 20

// Finding is one row of the securityhub table: one version of an ASFF finding.
type Finding struct {
	EventTime          time.Time  `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"UpdatedAt: when the provider last updated the finding, i.e. this version (UTC); the day partition"`
	AccountID          string     `parquet:"account_id,dict,zstd" doc:"AwsAccountId: the account the finding is about"`
	Region             string     `parquet:"region,dict,zstd" doc:"Region, else the region in ProductArn, else the event's"`
	ID                 string     `parquet:"id,zstd" doc:"Id: the provider's finding id (the same in every version)"`
	VersionID          string     `parquet:"version_id,zstd" doc:"Id@UpdatedAt: one version of the finding; rows are deduplicated on it"`
	ProductARN         *string    `parquet:"product_arn,optional,dict,zstd" doc:"ProductArn: the integration that reported the finding"`
	ProductName        *string    `parquet:"product_name,optional,dict,zstd" doc:"ProductName (GuardDuty, Inspector, IAM Access Analyzer, Macie, Config, Security Hub, Prowler, ...)"`
	CompanyName        *string    `parquet:"company_name,optional,dict,zstd" doc:"CompanyName (AWS, Prowler, ...)"`
	GeneratorID        *string    `parquet:"generator_id,optional,dict,zstd" doc:"GeneratorId: the rule, control or detector that produced the finding"`
	Types              *string    `parquet:"types,optional,zstd" lake:"json" doc:"Types[] as JSON (namespace/category/classifier, e.g. Software and Configuration Checks/Vulnerabilities/CVE)"`
	Title              *string    `parquet:"title,optional,zstd"`
	Description        *string    `parquet:"description,optional,zstd"`
	SeverityLabel      *string    `parquet:"severity_label,optional,dict,zstd" doc:"Severity.Label: INFORMATIONAL | LOW | MEDIUM | HIGH | CRITICAL (from Severity.Normalized when the label is absent)"`
	SeverityNormalized *int32     `parquet:"severity_normalized,optional,zstd" doc:"Severity.Normalized, 0 to 100"`
	ComplianceStatus   *string    `parquet:"compliance_status,optional,dict,zstd" doc:"Compliance.Status: PASSED | WARNING | FAILED | NOT_AVAILABLE (control findings)"`
	ControlID          *string    `parquet:"control_id,optional,dict,zstd" doc:"Compliance.SecurityControlId (e.g. S3.8)"`
	WorkflowStatus     *string    `parquet:"workflow_status,optional,dict,zstd" doc:"Workflow.Status: NEW | NOTIFIED | RESOLVED | SUPPRESSED (WorkflowState when absent)"`
	RecordState        *string    `parquet:"record_state,optional,dict,zstd" doc:"RecordState: ACTIVE | ARCHIVED"`
	CreatedAt          *time.Time `parquet:"created_at,optional,timestamp(microsecond:local),zstd" doc:"CreatedAt: when the provider created the finding"`
	UpdatedAt          time.Time  `parquet:"updated_at,timestamp(microsecond:local),zstd" doc:"UpdatedAt (the same as event_time)"`
	FirstObservedAt    *time.Time `parquet:"first_observed_at,optional,timestamp(microsecond:local),zstd"`
	LastObservedAt     *time.Time `parquet:"last_observed_at,optional,timestamp(microsecond:local),zstd"`
	ResourceIDs        *string    `parquet:"resource_ids,optional,zstd" lake:"json" doc:"Resources[].Id as a JSON array (ARNs, instance ids, access key ids)"`
	ResourceTypes      *string    `parquet:"resource_types,optional,zstd" lake:"json" doc:"Resources[].Type as a JSON array (AwsEc2Instance, AwsS3Bucket, AwsIamAccessKey, ...)"`
	CVEIDs             *string    `parquet:"cve_ids,optional,zstd" lake:"json" doc:"Vulnerabilities[].Id as a JSON array (Inspector CVE ids)"`
	Finding            string     `parquet:"finding,zstd" lake:"json" doc:"the whole finding as JSON"`
	lake.Lineage
}

// asff is the part of a finding the columns read.
type asff struct {
	SchemaVersion   string   `json:"SchemaVersion"`
	ID              string   `json:"Id"`
	ProductARN      *string  `json:"ProductArn"`
	ProductName     *string  `json:"ProductName"`
	CompanyName     *string  `json:"CompanyName"`
	GeneratorID     *string  `json:"GeneratorId"`
	AwsAccountID    string   `json:"AwsAccountId"`
	Region          string   `json:"Region"`
	Types           []string `json:"Types"`
	Title           *string  `json:"Title"`
	Description     *string  `json:"Description"`
	CreatedAt       *string  `json:"CreatedAt"`
	UpdatedAt       *string  `json:"UpdatedAt"`
	FirstObservedAt *string  `json:"FirstObservedAt"`
	LastObservedAt  *string  `json:"LastObservedAt"`
	Severity        *struct {
		Label      *string  `json:"Label"`
		Normalized *float64 `json:"Normalized"`
	} `json:"Severity"`
	Compliance *struct {
		Status            *string `json:"Status"`
		SecurityControlID *string `json:"SecurityControlId"`
	} `json:"Compliance"`
	Workflow *struct {
		Status *string `json:"Status"`
	} `json:"Workflow"`
	WorkflowState *string `json:"WorkflowState"`
	RecordState   *string `json:"RecordState"`
	Resources     []struct {
		ID   string `json:"Id"`
		Type string `json:"Type"`
	} `json:"Resources"`
	Vulnerabilities []struct {
		ID string `json:"Id"`
	} `json:"Vulnerabilities"`
}

// record is one delivered JSON object: an EventBridge event holding findings, or a bare finding.
type record struct {
	DetailType string `json:"detail-type"`
	Account    string `json:"account"`
	Region     string `json:"region"`
	Detail     *struct {
		Findings []json.RawMessage `json:"findings"`
	} `json:"detail"`
	SchemaVersion *string `json:"SchemaVersion"`
	ID            *string `json:"Id"`
}

// Options tell Parse what the object key says.
type Options struct {
	Key             string
	FallbackAccount string
	FallbackRegion  string
	MaxRecordBytes  int // larger records go to bad(); 0 means DefaultMaxRecordBytes
}

// Parse reads EventBridge events and bare findings from r: JSON objects, one per line or concatenated.
// Each finding is a row given to emit (an event's findings share its record number); a record that is
// not an event with detail.findings nor a finding, a finding without Id, UpdatedAt or account, or a
// record over MaxRecordBytes goes to bad with its 1-based record number and parsing goes on. An object
// that does not start with a JSON object is not Security Hub findings: that is the error.
func Parse(r io.Reader, o Options, emit func(*Finding) error, bad source.Bad) (n int64, err error) {
	limit := o.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	return jsonstream.Each(r, limit, "not Security Hub findings (EventBridge events or ASFF findings, JSON objects one after the other)", func(n int64, obj []byte) error {
		rows, why := parseRecord(obj, o)
		if why != "" {
			bad(n, why, obj)
			return nil
		}
		for _, row := range rows {
			row.Lineage = lake.Lineage{SourceKey: o.Key, SourceLine: n}
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	}, bad)
}

// parseRecord makes the rows of one record, or says why it is not one; a record is taken or
// quarantined whole, so an event is never half in the lake.
func parseRecord(obj []byte, o Options) ([]*Finding, string) {
	if err := jsonlimit.Check(obj); err != nil {
		return nil, err.Error()
	}
	var rec record
	if err := json.Unmarshal(obj, &rec); err != nil {
		return nil, "not a Security Hub event or finding: " + err.Error()
	}
	switch {
	case rec.Detail != nil && rec.Detail.Findings != nil:
		o.FallbackAccount, o.FallbackRegion = or(rec.Account, o.FallbackAccount), or(rec.Region, o.FallbackRegion)
		rows := make([]*Finding, 0, len(rec.Detail.Findings))
		for i, f := range rec.Detail.Findings {
			row, why := parseFinding(f, o)
			if why != "" {
				return nil, fmt.Sprintf("finding %d of the event: %s", i+1, why)
			}
			rows = append(rows, row)
		}
		return rows, ""
	case rec.DetailType != "":
		return nil, fmt.Sprintf("EventBridge event %q without detail.findings", rec.DetailType)
	case rec.SchemaVersion != nil || rec.ID != nil:
		row, why := parseFinding(obj, o)
		if why != "" {
			return nil, why
		}
		return []*Finding{row}, ""
	}
	return nil, "neither an EventBridge event with detail.findings nor an ASFF finding (no SchemaVersion or Id)"
}

func parseFinding(raw []byte, o Options) (*Finding, string) {
	var f asff
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, "not an ASFF finding: " + err.Error()
	}
	if f.ID == "" {
		return nil, "no Id"
	}
	if f.UpdatedAt == nil {
		return nil, "no UpdatedAt"
	}
	updated, err := logtime.Parse(*f.UpdatedAt)
	if err != nil {
		return nil, fmt.Sprintf("UpdatedAt %q is not a time", *f.UpdatedAt)
	}
	updated = updated.Truncate(time.Microsecond)
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err != nil {
		return nil, "not an ASFF finding: " + err.Error()
	}
	row := &Finding{
		EventTime: updated, UpdatedAt: updated, AccountID: or(f.AwsAccountID, o.FallbackAccount), ID: f.ID,
		VersionID:  f.ID + "@" + updated.Format("2006-01-02T15:04:05.000000Z"),
		ProductARN: f.ProductARN, ProductName: f.ProductName, CompanyName: f.CompanyName, GeneratorID: f.GeneratorID,
		Types: jsonArray(f.Types), Title: f.Title, Description: f.Description, RecordState: f.RecordState,
		CreatedAt: optTime(f.CreatedAt), FirstObservedAt: optTime(f.FirstObservedAt), LastObservedAt: optTime(f.LastObservedAt),
		Finding: compact.String(),
	}
	row.Region = f.Region
	if row.Region == "" && f.ProductARN != nil {
		if p := strings.SplitN(*f.ProductARN, ":", 5); len(p) == 5 {
			row.Region = p[3]
		}
	}
	row.Region = or(row.Region, o.FallbackRegion)
	if row.AccountID == "" || row.Region == "" {
		return nil, "no AwsAccountId and Region in the finding, and neither the event nor the object key has them"
	}
	if s := f.Severity; s != nil {
		row.SeverityLabel = s.Label
		if s.Normalized != nil {
			v := int32(*s.Normalized)
			row.SeverityNormalized = &v
			if row.SeverityLabel == nil {
				l := severityLabel(v)
				row.SeverityLabel = &l
			}
		}
	}
	if c := f.Compliance; c != nil {
		row.ComplianceStatus, row.ControlID = c.Status, c.SecurityControlID
	}
	if w := f.Workflow; w != nil && w.Status != nil {
		row.WorkflowStatus = w.Status
	} else {
		row.WorkflowStatus = f.WorkflowState
	}
	var ids, types, cves []string
	for _, r := range f.Resources {
		if r.ID != "" {
			ids = append(ids, r.ID)
		}
		if r.Type != "" {
			types = append(types, r.Type)
		}
	}
	for _, v := range f.Vulnerabilities {
		if v.ID != "" {
			cves = append(cves, v.ID)
		}
	}
	row.ResourceIDs, row.ResourceTypes, row.CVEIDs = jsonArray(ids), jsonArray(types), jsonArray(cves)
	return row, ""
}

// severityLabel is the ASFF label of a normalized severity, as Security Hub derives it.
func severityLabel(n int32) string {
	switch {
	case n >= 90:
		return "CRITICAL"
	case n >= 70:
		return "HIGH"
	case n >= 40:
		return "MEDIUM"
	case n >= 1:
		return "LOW"
	default:
		return "INFORMATIONAL"
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
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

// jsonArray is a JSON array of ss, NULL when empty.
func jsonArray(ss []string) *string {
	if len(ss) == 0 {
		return nil
	}
	b, _ := json.Marshal(ss) // strings always marshal
	s := string(b)
	return &s
}

// latestSQL is the newest version of each finding. Ids are unique per product, so they are grouped with
// the product and the account.
var latestSQL = `SELECT * FROM ` + Table + ` QUALIFY row_number() OVER (PARTITION BY account_id, product_arn, id
ORDER BY updated_at DESC, ingested_at DESC, source_key DESC, source_line DESC) = 1`

// Source describes the securityhub table to the compactor.
var Source = source.Def[Finding]{
	Table:          Table,
	Doc:            "Security Hub findings (ASFF) from EventBridge through Firehose, one row per version of a finding (securityhub_latest: the newest of each)",
	Layout:         source.Layout{Services: []string{"SecurityHub"}, Classify: classify, Prefixed: true},
	MaxRecordBytes: DefaultMaxRecordBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*Finding) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxRecordBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(f *Finding) time.Time { return f.EventTime },
	Partition: func(f *Finding) (string, string) { return f.AccountID, f.Region },
	Lineage:   func(f *Finding) *lake.Lineage { return &f.Lineage },
	ID:        func(f *Finding) string { return f.VersionID },
	IDColumn:  "version_id",
	Views: []lake.View{{Name: LatestView, Doc: "the newest version of each Security Hub finding (highest updated_at)",
		SQL: strings.Join(strings.Fields(latestSQL), " ")}},
	Fixture:  fixture,
	Generate: generate,
}
