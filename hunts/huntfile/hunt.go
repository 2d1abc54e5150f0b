// Package huntfile is the hunt file format: the model, the loader (YAML validated against the shipped
// JSON Schema, with line numbers), content hashes and the hunts.lock file that pins versions to them.
package huntfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Hunt is one parsed hunt file.
type Hunt struct {
	ID             string        `yaml:"id"`
	Version        int           `yaml:"version"`
	Title          string        `yaml:"title"`
	Status         string        `yaml:"status"`
	Authors        []string      `yaml:"authors"`
	Created        string        `yaml:"created"`
	Modified       string        `yaml:"modified"`
	Hypothesis     string        `yaml:"hypothesis"`
	Description    string        `yaml:"description"`
	Attack         Attack        `yaml:"attack"`
	Severity       Severity      `yaml:"severity"`
	Tables         []string      `yaml:"tables"`
	Schedule       string        `yaml:"schedule"`
	Window         Duration      `yaml:"window"`
	Baseline       *Baseline     `yaml:"baseline"`
	Data           []DataRef     `yaml:"data"`
	Query          string        `yaml:"query"`
	Filter         string        `yaml:"filter"`
	Suppressions   []Suppression `yaml:"suppressions"`
	Output         Output        `yaml:"output"`
	FalsePositives []string      `yaml:"false_positives"`
	Triage         string        `yaml:"triage"`
	References     []string      `yaml:"references"`
	Tests          []Test        `yaml:"tests"`

	// File is the path the hunt was loaded from, as shown in messages (e.g. "library/root-account-usage.yaml").
	File string `yaml:"-"`
	// Dir is the hunt directory the file was loaded from, holding its hunts.lock, as named in messages.
	Dir string `yaml:"-"`
	// DataTables are the contents of the data files, loaded with the hunt.
	DataTables []DataTable `yaml:"-"`
	root       *yaml.Node
}

// Attack is the MITRE ATT&CK mapping: tactic short names and technique ids.
type Attack struct {
	Tactics    []string `yaml:"tactics"`
	Techniques []string `yaml:"techniques"`
	// Stratus lists the Stratus Red Team technique ids (aws.persistence.iam-backdoor-role) the hunt detects.
	Stratus []string `yaml:"stratus"`
}

// Severity is a static ASFF label, or a default plus an expr-lang expression returning a label.
type Severity struct {
	Label string // the static label, or the default when Expr is set
	Expr  string
}

// UnmarshalYAML accepts "HIGH" or {default: MEDIUM, expr: '...'}.
func (s *Severity) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		s.Label = n.Value
		return nil
	}
	var v struct {
		Default string `yaml:"default"`
		Expr    string `yaml:"expr"`
	}
	if err := n.Decode(&v); err != nil {
		return err
	}
	s.Label, s.Expr = v.Default, v.Expr
	return nil
}

// MarshalJSON keeps content hashes stable and readable.
func (s Severity) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"label": s.Label, "expr": s.Expr})
}

// Baseline is the history a hunt compares its window with: the Window before the hunt's window,
// summarised by profiles that the runner materialises as tables named after each profile.
type Baseline struct {
	Window    Duration  `yaml:"window"`
	Profiles  []Profile `yaml:"profiles"`
	ColdStart ColdStart `yaml:"cold_start"`
}

// ColdStart is what a baseline hunt does while the lake holds fewer than MinDays days of its baseline
// window: "cap" every finding's severity at Severity, "skip" the hunt, or "run" it unchanged.
type ColdStart struct {
	MinDays  int    `yaml:"min_days"`
	Action   string `yaml:"action"`
	Severity string `yaml:"severity,omitempty"`
}

// Profile summarises one table per (day, entity) over the baseline window.
// With Values it records which values each entity used (for first-seen); with Measures it
// records daily aggregates per entity (for rate z-scores). See package engine for the tables it becomes.
type Profile struct {
	Name     string            `yaml:"name"`
	Table    string            `yaml:"table"`
	Where    string            `yaml:"where"`
	Entity   string            `yaml:"entity"`
	Values   map[string]string `yaml:"values"`
	Measures map[string]string `yaml:"measures"`
}

// SortedKeys returns the map's keys in order (profiles must generate the same SQL every time).
func SortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// DataRef names a CSV file (relative to the hunt file) loaded as a DuckDB table before the query runs.
type DataRef struct {
	Table string `yaml:"table"`
	File  string `yaml:"file"`
}

// DataTable is a loaded data file: every column is VARCHAR.
type DataTable struct {
	Name    string
	File    string
	Columns []string
	Rows    [][]string
	SHA256  string
}

// Suppression drops findings that match, until it expires.
type Suppression struct {
	Match   string `yaml:"match"`
	Owner   string `yaml:"owner"`
	Reason  string `yaml:"reason"`
	Expires string `yaml:"expires"`
}

// ExpiresAt is the first instant the suppression no longer applies (the day after Expires, UTC).
func (s Suppression) ExpiresAt() (time.Time, error) {
	d, err := time.Parse(time.DateOnly, s.Expires)
	if err != nil {
		return time.Time{}, fmt.Errorf("expires %q is not a YYYY-MM-DD date", s.Expires)
	}
	return d.AddDate(0, 0, 1), nil
}

// Output maps a result row to a finding.
type Output struct {
	Entity        Entity     `yaml:"entity"`
	Title         string     `yaml:"title"`
	Description   string     `yaml:"description"`
	Account       string     `yaml:"account"`
	Region        string     `yaml:"region"`
	FirstSeen     string     `yaml:"first_seen"`
	LastSeen      string     `yaml:"last_seen"`
	Count         string     `yaml:"count"`
	Fields        []string   `yaml:"fields"`
	Evidence      string     `yaml:"evidence"`
	EvidenceLimit int        `yaml:"evidence_limit"`
	Types         []string   `yaml:"types"`
	Resources     []Resource `yaml:"resources"`
}

// Entity says which result column identifies what a finding is about. Qualifiers are further
// columns that split one entity's findings (e.g. one finding per user-agent family and principal).
type Entity struct {
	Type       string   `yaml:"type"`
	Key        string   `yaml:"key"`
	Qualifiers []string `yaml:"qualifiers"`
}

// Resource is an ASFF resource; Type, ID and Region are templates over the result columns.
type Resource struct {
	Type   string `yaml:"type"`
	ID     string `yaml:"id"`
	Region string `yaml:"region"`
}

// Defaults for the output mapping's column names.
const (
	DefaultAccountColumn   = "account_id"
	DefaultRegionColumn    = "region"
	DefaultFirstSeenColumn = "first_seen"
	DefaultLastSeenColumn  = "last_seen"
	DefaultCountColumn     = "event_count"
	DefaultEvidenceLimit   = 20
)

func (o *Output) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&o.Account, DefaultAccountColumn)
	def(&o.Region, DefaultRegionColumn)
	def(&o.FirstSeen, DefaultFirstSeenColumn)
	def(&o.LastSeen, DefaultLastSeenColumn)
	def(&o.Count, DefaultCountColumn)
	if o.EvidenceLimit == 0 {
		o.EvidenceLimit = DefaultEvidenceLimit
	}
}

// Test is an inline fixture: raw events in their source shape, a window, and what the hunt must find.
type Test struct {
	Name   string     `yaml:"name"`
	Window TestWindow `yaml:"window"`
	// Events are the test's raw events by source table, in the shape the source's fixture writer reads
	// (compact/source.Def.Fixture): e.g. CloudTrail records and Route 53 query log objects as lists of
	// YAML/JSON objects, flow logs as text (an optional header line, then records).
	Events map[string]any `yaml:"-"`
	// TIIndicators are threat-intel feed files imported into the test lake, in order, after the events
	// are compacted (as `lakehunt ti import` does).
	TIIndicators []TIFeed `yaml:"ti_indicators"`
	// Organization is org_accounts() for the test (default: the accounts of the test's events).
	Organization []string `yaml:"organization"`
	Expect       Expect   `yaml:"expect"`
	// Line is where the test starts in the hunt file.
	Line int `yaml:"-"`
}

// TIFeed is one feed file of a test, in a format `lakehunt ti import` reads.
type TIFeed struct {
	Feed     string `yaml:"feed"`
	Format   string `yaml:"format"`   // default: detected
	Imported string `yaml:"imported"` // RFC 3339 import time; default: the test window's end
	Content  string `yaml:"content"`
}

// TestWindow is the hunt window the test runs with (RFC 3339 times).
type TestWindow struct {
	StartText string    `yaml:"start"`
	EndText   string    `yaml:"end"`
	Start     time.Time `yaml:"-"`
	End       time.Time `yaml:"-"`
}

// Expect is what a test run must produce.
type Expect struct {
	Count    int             `yaml:"count"`
	Findings []ExpectFinding `yaml:"findings"`
}

// ExpectFinding matches one finding by entity key; the other fields are checked when set.
type ExpectFinding struct {
	Entity   string         `yaml:"entity"`
	Severity string         `yaml:"severity"`
	Title    string         `yaml:"title"`
	Count    *int64         `yaml:"count"`
	Fields   map[string]any `yaml:"-"`
}

// Duration is a hunt duration such as 15m, 24h, 7d or 2w.
type Duration time.Duration

var durationRE = regexp.MustCompile(`^([0-9]+)(m|h|d|w)$`)

// ParseDuration parses 15m, 24h, 7d, 2w.
func ParseDuration(s string) (Duration, error) {
	m := durationRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("duration %q: use a number and m, h, d or w (e.g. 24h, 30d)", s)
	}
	n, err := strconv.Atoi(m[1])
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("duration %q must be positive", s)
	}
	unit := map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return Duration(time.Duration(n) * unit), nil
}

// UnmarshalYAML parses the duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// D is the duration as time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// SQLHash identifies the query text exactly (findings carry it so an auditor can tie them to the SQL).
func (h *Hunt) SQLHash() string {
	sum := sha256.Sum256([]byte(h.Query))
	return hex.EncodeToString(sum[:])
}

// ContentHash covers everything that changes what a hunt finds: tables, windows, baseline profiles,
// data files, query, filter, severity and output mapping. Prose, tests, schedule, status and
// suppressions (operational, each with an owner and expiry) are deliberately outside it.
func (h *Hunt) ContentHash() string {
	data := map[string]string{}
	for _, d := range h.DataTables {
		data[d.Name] = d.SHA256
	}
	b, err := json.Marshal(struct {
		Tables   []string
		Window   Duration
		Baseline *Baseline
		Data     map[string]string
		Query    string
		Filter   string
		Severity Severity
		Output   Output
	}{h.Tables, h.Window, h.Baseline, data, strings.TrimSpace(h.Query), strings.TrimSpace(h.Filter), h.Severity, h.Output})
	if err != nil {
		// Only plain strings, ints and maps of strings are marshalled.
		panic(err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Pos returns the line and column of the value at path (mapping keys and sequence indexes), or of the
// deepest part of the path that exists. (0, 0) for a hunt built without a file.
func (h *Hunt) Pos(path ...string) (line, col int) {
	n := nodeAt(h.root, path)
	if n == nil {
		return 0, 0
	}
	return n.Line, n.Column
}

// QueryLine maps a 1-based line of the SQL to a line of the hunt file.
func (h *Hunt) QueryLine(sqlLine int) int {
	n := valueAt(h.root, []string{"query"})
	if n == nil {
		return 0
	}
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Line + sqlLine
	}
	return n.Line
}

// Diagnostic is one problem in a hunt file, printed as "file:line:col: message".
type Diagnostic struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Col     int    `json:"col"`
	HuntID  string `json:"hunt_id,omitempty"`
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
}

func (d Diagnostic) String() string {
	prefix := ""
	if d.Warning {
		prefix = "warning: "
	}
	switch {
	case d.Line > 0 && d.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %s%s", d.File, d.Line, d.Col, prefix, d.Message)
	case d.Line > 0:
		return fmt.Sprintf("%s:%d: %s%s", d.File, d.Line, prefix, d.Message)
	}
	return fmt.Sprintf("%s: %s%s", d.File, prefix, d.Message)
}

// At builds a diagnostic for this hunt at path.
func (h *Hunt) At(msg string, path ...string) Diagnostic {
	line, col := h.Pos(path...)
	return Diagnostic{File: h.File, Line: line, Col: col, HuntID: h.ID, Message: msg}
}

// Source is where hunts are loaded from: a file system and the name shown for it in messages.
type Source struct {
	FS   fs.FS
	Name string // e.g. "library" or the directory the user passed
}
