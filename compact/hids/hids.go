// Package hids reads host IDS alerts: Wazuh's alerts.json and OSSEC's (jsonout_output), one JSON alert
// per line, as an agent (Kinesis Agent, Fluent Bit, ...) or Firehose ships them to S3 under a prefix the
// user maps to the source. Agents are not AWS resources: an alert's account, region and instance come
// from the Wazuh agent labels aws.account_id, aws.region and aws.instance_id (see the package README
// entry in compact/README.md); without them they are empty.
package hids

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/lines"
	"github.com/lakehunt/lakehunt/lake"
)

// Table is the lake table host IDS alerts fill.
const Table = "hids"

// DefaultMaxRecordBytes is the record limit when none is given. An alert is a few KB; file integrity
// alerts carry a diff of the changed file (Wazuh caps report_changes diffs), and full_log can hold a
// command's whole output.
const DefaultMaxRecordBytes = 1 << 20

// Alert is one row of the hids table: one alert of a Wazuh or OSSEC manager.
type Alert struct {
	EventTime       time.Time `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"timestamp (Wazuh) or TimeStamp (OSSEC): when the manager raised the alert (UTC)"`
	AccountID       string    `parquet:"account_id,dict,zstd" doc:"the agent label aws.account_id; empty when the agent has none"`
	Region          string    `parquet:"region,dict,zstd" doc:"the agent label aws.region; empty when the agent has none"`
	Format          string    `parquet:"format,dict,zstd" doc:"wazuh | ossec: the alert's shape"`
	AlertID         *string   `parquet:"alert_id,optional,zstd" doc:"id: the manager's alert id (EPOCH.OFFSET in its alerts log)"`
	AlertKey        *string   `parquet:"alert_key,optional,zstd" doc:"MANAGER/ID: the alert id qualified by its manager; rows are deduplicated on it"`
	Manager         *string   `parquet:"manager,optional,dict,zstd" doc:"manager.name: the manager (cluster node) that raised the alert"`
	AgentID         *string   `parquet:"agent_id,optional,dict,zstd" doc:"agent.id (000 is the manager itself)"`
	AgentName       *string   `parquet:"agent_name,optional,dict,zstd" doc:"agent.name; OSSEC: the NAME of a location (NAME) IP->PATH"`
	AgentIP         *string   `parquet:"agent_ip,optional,dict,zstd" doc:"agent.ip; OSSEC: the IP of a location (NAME) IP->PATH. On EC2 the instance's interface address (vpc_flow interface addresses)"`
	InstanceID      *string   `parquet:"instance_id,optional,dict,zstd" doc:"the agent label aws.instance_id (or aws.instance-id)"`
	AgentLabels     *string   `parquet:"agent_labels,optional,zstd" lake:"json" doc:"agent.labels as JSON"`
	RuleID          *string   `parquet:"rule_id,optional,dict,zstd" doc:"rule.id (Wazuh) or rule.sidid (OSSEC)"`
	RuleLevel       *int32    `parquet:"rule_level,optional,zstd" doc:"rule.level, 0 to 16 (12 and up: high importance)"`
	RuleDescription *string   `parquet:"rule_description,optional,dict,zstd" doc:"rule.description (Wazuh) or rule.comment (OSSEC)"`
	RuleGroups      *string   `parquet:"rule_groups,optional,dict,zstd" lake:"json" doc:"rule.groups as a JSON array of strings (OSSEC's comma-separated rule.group split), e.g. [\"ossec\",\"syscheck\"]"`
	MitreIDs        *string   `parquet:"mitre_ids,optional,dict,zstd" lake:"json" doc:"rule.mitre.id: ATT&CK technique ids as a JSON array"`
	MitreTactics    *string   `parquet:"mitre_tactics,optional,dict,zstd" lake:"json" doc:"rule.mitre.tactic as a JSON array"`
	MitreTechniques *string   `parquet:"mitre_techniques,optional,dict,zstd" lake:"json" doc:"rule.mitre.technique as a JSON array"`
	Location        *string   `parquet:"location,optional,dict,zstd" doc:"location: the log file, command or module (syscheck, rootcheck, ...) the event came from"`
	Decoder         *string   `parquet:"decoder,optional,dict,zstd" doc:"decoder.name (Wazuh) or decoder (OSSEC)"`
	DecoderParent   *string   `parquet:"decoder_parent,optional,dict,zstd" doc:"decoder.parent (Wazuh)"`
	SrcIP           *string   `parquet:"src_ip,optional,dict,zstd" doc:"data.srcip (Wazuh) or srcip (OSSEC)"`
	SrcIPV4         *int64    `parquet:"src_ip_v4,optional,zstd" doc:"src_ip as an unsigned 32-bit number (IPv4 only), for range joins with ti_indicators"`
	DstIP           *string   `parquet:"dst_ip,optional,dict,zstd" doc:"data.dstip (Wazuh) or dstip (OSSEC)"`
	SrcUser         *string   `parquet:"src_user,optional,dict,zstd" doc:"data.srcuser (Wazuh) or srcuser (OSSEC)"`
	DstUser         *string   `parquet:"dst_user,optional,dict,zstd" doc:"data.dstuser (Wazuh) or dstuser (OSSEC)"`
	SyscheckPath    *string   `parquet:"syscheck_path,optional,zstd" doc:"syscheck.path (Wazuh) or file.path (OSSEC): the file an integrity alert is about"`
	Syscheck        *string   `parquet:"syscheck,optional,zstd" lake:"json" doc:"syscheck (Wazuh) or file (OSSEC) as JSON: the integrity change (hashes, owners, permissions before and after)"`
	FullLog         *string   `parquet:"full_log,optional,zstd" doc:"full_log: the event as the agent read it"`
	Data            *string   `parquet:"data,optional,zstd" lake:"json" doc:"data as JSON: the fields the decoder extracted (Wazuh); OSSEC: its decoded top-level fields (srcip, url, status, program_name, ...)"`
	lake.Lineage
}

// Options tell Parse what the object key says.
type Options struct {
	Key             string
	FallbackAccount string // the account in the key, for alerts whose agent has no aws.account_id label
	FallbackRegion  string
	MaxRecordBytes  int // larger records go to bad(); 0 means DefaultMaxRecordBytes
}

// record is an alert as Wazuh or OSSEC writes it. Fields of either shape; nested parts kept as JSON
// stay raw. encoding/json matches keys without regard to case, exact matches first: timestamp (Wazuh)
// and TimeStamp (OSSEC) each find their own field.
type record struct {
	Timestamp   json.RawMessage `json:"timestamp"`
	AtTimestamp json.RawMessage `json:"@timestamp"`
	TimeStamp   json.RawMessage `json:"TimeStamp"`
	ID          json.RawMessage `json:"id"`
	Rule        *struct {
		ID          json.RawMessage `json:"id"`
		SidID       json.RawMessage `json:"sidid"`
		Level       json.RawMessage `json:"level"`
		Description *string         `json:"description"`
		Comment     *string         `json:"comment"`
		Groups      json.RawMessage `json:"groups"`
		Group       json.RawMessage `json:"group"`
		Mitre       *struct {
			ID        json.RawMessage `json:"id"`
			Tactic    json.RawMessage `json:"tactic"`
			Technique json.RawMessage `json:"technique"`
		} `json:"mitre"`
	} `json:"rule"`
	Agent *struct {
		ID     json.RawMessage `json:"id"`
		Name   *string         `json:"name"`
		IP     *string         `json:"ip"`
		Labels json.RawMessage `json:"labels"`
	} `json:"agent"`
	Manager *struct {
		Name *string `json:"name"`
	} `json:"manager"`
	Decoder  json.RawMessage `json:"decoder"`
	Location *string         `json:"location"`
	FullLog  *string         `json:"full_log"`
	Data     json.RawMessage `json:"data"`
	Syscheck json.RawMessage `json:"syscheck"`
	// OSSEC writes the decoded fields at the top level.
	SrcIP   *string         `json:"srcip"`
	DstIP   *string         `json:"dstip"`
	SrcUser *string         `json:"srcuser"`
	DstUser *string         `json:"dstuser"`
	File    json.RawMessage `json:"file"`
}

// ossecEnvelope are the top-level keys of an OSSEC alert that are not decoded fields (the rest is data).
var ossecEnvelope = map[string]bool{"rule": true, "id": true, "TimeStamp": true, "location": true, "full_log": true, "decoder": true, "file": true}

// Parse reads alerts from r, one JSON object per line. Each row goes to emit; a line that is not an
// alert (not JSON, no time, no rule) or is longer than MaxRecordBytes goes to bad with its line number,
// and parsing goes on. An object whose first line is not a JSON object is not an alerts file: that is
// the error, and nothing of it is read.
func Parse(r io.Reader, o Options, emit func(*Alert) error, bad func(recordNo int64, reason string, sample []byte)) (n int64, err error) {
	limit := o.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	lr := lines.NewReader(r, limit)
	var lineNo int64
	for {
		line, tooLong, rerr := lr.Next()
		if rerr != nil && rerr != io.EOF {
			return n, fmt.Errorf("%s: reading line %d: %w", o.Key, lineNo+1, rerr)
		}
		if len(line) == 0 && tooLong == 0 && rerr == io.EOF {
			return n, nil
		}
		lineNo++
		trimmed := bytes.TrimSpace(line)
		var reason string
		switch {
		case tooLong > 0:
			reason = fmt.Sprintf("line is %d bytes, over the %d-byte limit", tooLong, limit)
		case len(trimmed) == 0:
		case trimmed[0] != '{':
			if n == 0 {
				return 0, fmt.Errorf("not Wazuh or OSSEC alerts (alerts.json: a JSON object per line): starts with %q", trimmed[:min(len(trimmed), 32)])
			}
			reason = "line is not a JSON object"
		default:
			row, why := parseAlert(trimmed, o)
			if why != "" {
				reason = why
				break
			}
			n++
			row.Lineage = lake.Lineage{SourceKey: o.Key, SourceLine: lineNo}
			if err := emit(row); err != nil {
				return n, err
			}
		}
		if reason != "" {
			n++
			bad(lineNo, reason, append([]byte(nil), trimmed[:min(len(trimmed), lines.SampleBytes)]...))
		}
		if rerr == io.EOF {
			return n, nil
		}
	}
}

// parseAlert makes a row of one JSON object, or says why it is not an alert.
func parseAlert(obj []byte, o Options) (*Alert, string) {
	if err := jsonlimit.Check(obj); err != nil {
		return nil, err.Error()
	}
	if !utf8.Valid(obj) {
		obj = bytes.ToValidUTF8(obj, []byte("\uFFFD"))
	}
	var rec record
	if err := json.Unmarshal(obj, &rec); err != nil {
		return nil, "not a Wazuh or OSSEC alert: " + err.Error()
	}
	if rec.Rule == nil {
		return nil, "not a Wazuh or OSSEC alert: no rule object"
	}
	row := &Alert{Format: "wazuh", AccountID: o.FallbackAccount, Region: o.FallbackRegion}
	var ok bool
	switch {
	case len(rec.Timestamp) > 0:
		row.EventTime, ok = parseTime(rec.Timestamp)
	case len(rec.AtTimestamp) > 0:
		row.EventTime, ok = parseTime(rec.AtTimestamp)
	case len(rec.TimeStamp) > 0:
		row.Format = "ossec"
		row.EventTime, ok = parseTime(rec.TimeStamp)
	}
	if !ok {
		return nil, "no timestamp (Wazuh: timestamp, e.g. 2024-07-12T15:59:43.612+0300; OSSEC: TimeStamp in milliseconds)"
	}
	row.AlertID = scalar(rec.ID)
	row.Location, row.FullLog = rec.Location, rec.FullLog

	rl := rec.Rule
	row.RuleID = scalar(rl.ID)
	if row.RuleID == nil {
		row.RuleID = scalar(rl.SidID)
	}
	if lv := scalar(rl.Level); lv != nil {
		v, err := strconv.ParseInt(*lv, 10, 32)
		if err != nil {
			return nil, fmt.Sprintf("rule.level %q is not a number", *lv)
		}
		l := int32(v)
		row.RuleLevel = &l
	}
	row.RuleDescription = rl.Description
	if row.RuleDescription == nil {
		row.RuleDescription = rl.Comment
	}
	row.RuleGroups = groups(rl.Groups, rl.Group)
	if m := rl.Mitre; m != nil {
		row.MitreIDs, row.MitreTactics, row.MitreTechniques = jsonText(m.ID), jsonText(m.Tactic), jsonText(m.Technique)
	}

	if a := rec.Agent; a != nil {
		row.AgentID, row.AgentName, row.AgentIP = scalar(a.ID), a.Name, a.IP
		row.AgentLabels = jsonText(a.Labels)
		if labels := members(a.Labels); labels != nil {
			aws := members(labels["aws"])
			if acct := label(labels, aws, "account_id", "account-id", "accountId"); acct != nil {
				row.AccountID = *acct
			}
			if region := label(labels, aws, "region"); region != nil {
				row.Region = *region
			}
			row.InstanceID = label(labels, aws, "instance_id", "instance-id", "instanceId")
		}
	}
	if rec.Manager != nil {
		row.Manager = rec.Manager.Name
	}

	switch d := bytes.TrimSpace(rec.Decoder); {
	case len(d) > 0 && d[0] == '{':
		var dec struct{ Name, Parent *string }
		if json.Unmarshal(d, &dec) == nil {
			row.Decoder, row.DecoderParent = dec.Name, dec.Parent
		}
	default:
		row.Decoder = scalar(d)
	}

	if row.Format == "ossec" {
		row.SrcIP, row.DstIP, row.SrcUser, row.DstUser = rec.SrcIP, rec.DstIP, rec.SrcUser, rec.DstUser
		row.Syscheck = jsonText(rec.File)
		row.SyscheckPath = scalar(members(rec.File)["path"])
		row.Data = ossecData(obj)
		if row.AgentName == nil && row.Location != nil {
			row.AgentName, row.AgentIP = ossecAgent(*row.Location)
		}
	} else {
		row.Data = jsonText(rec.Data)
		if data := members(rec.Data); data != nil {
			row.SrcIP, row.DstIP = scalar(data["srcip"]), scalar(data["dstip"])
			row.SrcUser, row.DstUser = scalar(data["srcuser"]), scalar(data["dstuser"])
		}
		row.Syscheck = jsonText(rec.Syscheck)
		row.SyscheckPath = scalar(members(rec.Syscheck)["path"])
	}
	if row.SrcIP != nil {
		if a, err := netip.ParseAddr(*row.SrcIP); err == nil && a.Is4() {
			b := a.As4()
			v := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
			row.SrcIPV4 = &v
		}
	}
	if row.AlertID != nil {
		k := *row.AlertID
		if row.Manager != nil {
			k = *row.Manager + "/" + k
		} else {
			k = "/" + k
		}
		row.AlertKey = &k
	}
	return row, ""
}

// parseTime reads Wazuh's timestamp (2024-07-12T15:59:43.612+0300, or RFC 3339 as pipelines rewrite it)
// or OSSEC's TimeStamp (milliseconds since the epoch).
func parseTime(raw json.RawMessage) (time.Time, bool) {
	var ms int64
	if err := json.Unmarshal(raw, &ms); err == nil {
		if ms <= 0 {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return time.Time{}, false
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999-0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

// scalar is a JSON string or number as text; anything else (absent, null, objects) is nil.
func scalar(raw json.RawMessage) *string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil
	}
	var s string
	if raw[0] == '"' {
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return &s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) != nil {
		return nil
	}
	s = n.String()
	return &s
}

// members are the members of a JSON object; nil when raw is not one.
func members(raw json.RawMessage) map[string]json.RawMessage {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return nil
	}
	return m
}

// label reads the agent label aws.NAME: nested (labels.aws.NAME) as Wazuh writes labels with dotted
// keys, or flat (labels["aws.NAME"]).
func label(labels, aws map[string]json.RawMessage, names ...string) *string {
	for _, n := range names {
		if v := scalar(aws[n]); v != nil && *v != "" {
			return v
		}
		if v := scalar(labels["aws."+n]); v != nil && *v != "" {
			return v
		}
	}
	return nil
}

// groups is rule.groups (Wazuh, an array) or OSSEC's rule.group ("syslog,sshd,") as a JSON array.
func groups(arr, list json.RawMessage) *string {
	if j := jsonText(arr); j != nil {
		return j
	}
	s := scalar(list)
	if s == nil {
		return nil
	}
	out := []string{}
	for _, g := range strings.Split(*s, ",") {
		if g = strings.TrimSpace(g); g != "" {
			out = append(out, g)
		}
	}
	b, _ := json.Marshal(out) // strings always marshal
	j := string(b)
	return &j
}

// ossecAgent reads the agent of an OSSEC location "(NAME) IP->PATH"; a manager's own logs have just PATH.
func ossecAgent(loc string) (name, ip *string) {
	if !strings.HasPrefix(loc, "(") {
		return nil, nil
	}
	end := strings.Index(loc, ") ")
	arrow := strings.Index(loc, "->")
	if end < 0 || arrow < end {
		return nil, nil
	}
	n, a := loc[1:end], loc[end+2:arrow]
	return &n, &a
}

// ossecData is an OSSEC alert's decoded fields: its top-level members other than the envelope.
func ossecData(obj []byte) *string {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil
	}
	for k := range m {
		if ossecEnvelope[k] {
			delete(m, k)
		}
	}
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	s := string(b)
	return &s
}

// jsonText keeps a nested value as compact JSON text; absent and null are NULL.
func jsonText(raw json.RawMessage) *string {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return nil
	}
	s := b.String()
	return &s
}
