package lake

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

// The run directory is the contract between the hunt runner (writer) and the report/ASFF
// writers (readers): RUNDIR/run.json holds a Run, RUNDIR/findings.jsonl one Finding per line.
const (
	RunFile      = "run.json"
	FindingsFile = "findings.jsonl"
)

// Severity labels are ASFF's.
const (
	SeverityInformational = "INFORMATIONAL"
	SeverityLow           = "LOW"
	SeverityMedium        = "MEDIUM"
	SeverityHigh          = "HIGH"
	SeverityCritical      = "CRITICAL"
)

// SeverityRank orders labels; unknown labels rank lowest.
func SeverityRank(label string) int {
	switch label {
	case SeverityCritical:
		return 4
	case SeverityHigh:
		return 3
	case SeverityMedium:
		return 2
	case SeverityLow:
		return 1
	}
	return 0
}

// Finding is one thing a hunt found, about one entity, over one window.
// ID is deterministic: hash(hunt id, entity key, window) — not the hunt version — so a re-run of the
// same window, or late data for it, updates the same finding.
type Finding struct {
	ID           string         `json:"id"`
	HuntID       string         `json:"hunt_id"`
	HuntVersion  int            `json:"hunt_version"`
	HuntTitle    string         `json:"hunt_title"`
	SQLHash      string         `json:"sql_hash"`
	Severity     string         `json:"severity"`
	Title        string         `json:"title"`
	Description  string         `json:"description,omitempty"`
	Entity       Entity         `json:"entity"`
	AccountID    string         `json:"account_id,omitempty"`
	Region       string         `json:"region,omitempty"`
	FirstSeen    time.Time      `json:"first_seen"`
	LastSeen     time.Time      `json:"last_seen"`
	Count        int64          `json:"count"`
	WindowStart  time.Time      `json:"window_start"`
	WindowEnd    time.Time      `json:"window_end"`
	Tactics      []string       `json:"tactics,omitempty"`
	Techniques   []string       `json:"techniques,omitempty"`
	Types        []string       `json:"types,omitempty"`     // ASFF finding types (namespace/category/classifier)
	Resources    []Resource     `json:"resources,omitempty"` // what the finding is about, for ASFF Resources
	Fields       map[string]any `json:"fields,omitempty"`    // the hunt's result row (evidence columns)
	Evidence     []Evidence     `json:"evidence,omitempty"`
	EvidenceNote string         `json:"evidence_note,omitempty"` // e.g. "showing 20 of 3120 rows"
	// GroupID names the finding group (reports/group) of the run: findings that share an entity.
	GroupID   string    `json:"group_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Entity is what a finding is about, e.g. {Type: "principal", Key: "arn:aws:iam::1:role/x"}.
type Entity struct {
	Type string `json:"type"`
	Key  string `json:"key"`
}

// Resource is an ASFF resource reference: Type is an ASFF resource type such as
// AwsEc2Instance, AwsIamRole, AwsIamAccessKey, AwsIamUser, AwsAccount, Other.
type Resource struct {
	Type   string            `json:"type"`
	ID     string            `json:"id"`
	Region string            `json:"region,omitempty"`
	Detail map[string]string `json:"detail,omitempty"`
}

// Evidence is one row behind a finding, with lineage to the raw object it was parsed from.
type Evidence struct {
	Time       time.Time      `json:"time"`
	Table      string         `json:"table,omitempty"`
	SourceKey  string         `json:"source_key,omitempty"`
	SourceLine int64          `json:"source_line,omitempty"`
	Row        map[string]any `json:"row"`
}

// Run is what one `hunt run` did: what ran, over which data, how long, what failed.
type Run struct {
	ID          string     `json:"id"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  time.Time  `json:"finished_at"`
	Trigger     string     `json:"trigger"` // e.g. "cli user@host", "schedule"
	ToolVersion string     `json:"tool_version"`
	GitRevision string     `json:"git_revision,omitempty"`
	Lake        string     `json:"lake"`
	LakeVersion int64      `json:"lake_version"` // commit-log version the run read
	WindowStart time.Time  `json:"window_start"`
	WindowEnd   time.Time  `json:"window_end"`
	Hunts       []HuntRun  `json:"hunts"`
	Coverage    []Coverage `json:"coverage,omitempty"`
	// Organization is the set of accounts hunts treated as "ours" (outside_org is false for them).
	Organization *Organization `json:"organization,omitempty"`
	FindingCount int           `json:"finding_count"`
	FailedCount  int           `json:"failed_count"`
	// ASFFLeftOut are the findings the run directory's asff.json does not hold, and why. They are in
	// findings.jsonl and the report like every other finding.
	ASFFLeftOut []LeftOut `json:"asff_left_out,omitempty"`
	// Previous is the run directory this run's report compares with ("changes since the previous run"):
	// `hunt run --previous DIR`, or the newest earlier run beside it in its parent directory.
	Previous string `json:"previous,omitempty"`
	// Sent is what the hand-off outputs (Slack, Jira, webhook) delivered for this run, so publishing it
	// again sends only what is not here.
	Sent []Sent `json:"sent,omitempty"`
}

// Sent is one delivery of an output: a finding group (or one finding) and the service's reference to it.
type Sent struct {
	Publisher  string    `json:"publisher"`
	GroupID    string    `json:"group_id"`
	FindingIDs []string  `json:"finding_ids"`
	Ref        string    `json:"ref,omitempty"`    // Slack message ts, Jira issue key
	Action     string    `json:"action,omitempty"` // e.g. "created", "commented"
	At         time.Time `json:"at"`
}

// Organization is the accounts a run considered inside the organization, and where that list came from.
type Organization struct {
	ID       string   `json:"id,omitempty"`
	Accounts []string `json:"accounts"`
	Source   string   `json:"source"` // "config", or "lake" (the accounts the lake holds logs for)
}

// WriteRunFile writes run to DIR/run.json, atomically.
func WriteRunFile(dir string, run *Run) error {
	b, err := json.MarshalIndent(run, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(filepath.Join(dir, RunFile), append(b, '\n'))
}

// LeftOut is a finding an output could not hold, with the reason and what to do about it.
type LeftOut struct {
	FindingID string `json:"finding_id"`
	HuntID    string `json:"hunt_id"`
	Reason    string `json:"reason"`
}

func (l LeftOut) String() string {
	return fmt.Sprintf("finding %s (hunt %s): %s", l.FindingID, l.HuntID, l.Reason)
}

// HuntRun is one hunt's part of a run.
type HuntRun struct {
	ID            string    `json:"id"`
	Version       int       `json:"version"`
	Title         string    `json:"title"`
	Status        string    `json:"status"` // ok | failed | skipped
	Error         string    `json:"error,omitempty"`
	SkipReason    string    `json:"skip_reason,omitempty"`
	SQLHash       string    `json:"sql_hash"`
	Tables        []string  `json:"tables"`
	WindowStart   time.Time `json:"window_start"`
	WindowEnd     time.Time `json:"window_end"`
	BaselineStart time.Time `json:"baseline_start,omitzero"`
	// BaselineDays is the baseline window in days and BaselineDaysWithData how many of them the lake holds
	// data for (the fewest over the profiles' tables). ColdStart says what the hunt's cold-start rule did
	// when that was below its minimum ("" when it did not apply).
	BaselineDays         int      `json:"baseline_days,omitempty"`
	BaselineDaysWithData int      `json:"baseline_days_with_data,omitempty"`
	ColdStart            string   `json:"cold_start,omitempty"`
	RowsReturned         int64    `json:"rows_returned"`
	NoData               []string `json:"no_data,omitempty"` // tables it reads that had no rows in its window: it checked nothing there
	Findings             int      `json:"findings"`
	Suppressed           int      `json:"suppressed"`
	DurationMillis       int64    `json:"duration_ms"`
	Severity             string   `json:"severity,omitempty"`
	Tactics              []string `json:"tactics,omitempty"`
	Techniques           []string `json:"techniques,omitempty"`
	Stratus              []string `json:"stratus,omitempty"` // Stratus Red Team technique ids the hunt claims to detect
	FalsePositives       []string `json:"false_positives,omitempty"`
	Triage               string   `json:"triage,omitempty"`
	References           []string `json:"references,omitempty"`
	Description          string   `json:"description,omitempty"`
}

// Coverage says what data a table offered the run: an auditor must see when a hunt was blind.
type Coverage struct {
	Table      string    `json:"table"`
	Accounts   []string  `json:"accounts"`
	Regions    []string  `json:"regions"`
	Partitions int       `json:"partitions"`
	Files      int       `json:"files"`
	Rows       int64     `json:"rows"`
	Newest     time.Time `json:"newest,omitzero"` // the table's latest event time in the lake the run read
	Gaps       []Gap     `json:"gaps,omitempty"`
	// Hourly is the table's rows per hour of the window, from the window's first hour (reports draw it);
	// empty for tables without event time and windows longer than MaxHourly hours.
	Hourly []int64 `json:"hourly,omitempty"`
	// Unread: no hunt of the run read the table. It is listed so reports show every table of the lake,
	// with its accounts, regions, files and rows only (no gaps or hourly counts).
	Unread bool `json:"unread,omitempty"`
}

// MaxHourly bounds Coverage.Hourly: 92 days of hours.
const MaxHourly = 92 * 24

// Gap is a stretch of the window with no data where the table normally has some.
type Gap struct {
	AccountID string    `json:"account_id"`
	Region    string    `json:"region"`
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"`
	Reason    string    `json:"reason"`
}
