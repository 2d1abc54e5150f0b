// Package waf reads AWS WAF (v2) web ACL logs: one JSON object per request, one per line when WAF
// delivers to S3 (AWSLogs/ACCOUNT/WAFLogs/REGION/WEBACL/YYYY/MM/DD/HH/mm/*.log.gz), concatenated with no
// separator when Firehose delivers them.
package waf

import (
	"bytes"
	"encoding/json"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/internal/jsonstream"
	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Table is the lake table WAF logs fill.
const Table = "waf"

// DefaultMaxRecordBytes is the record limit when none is given. A WAF record is a few KB: the request's
// headers (WAF logs at most 8 KB of them, the rest is reported in oversizeFields) and rule matches.
const DefaultMaxRecordBytes = 1 << 20

// Request is one row of the waf table: one web request a web ACL evaluated.
type Request struct {
	EventTime                   time.Time `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"timestamp: when WAF evaluated the request (UTC)"`
	AccountID                   string    `parquet:"account_id,dict,zstd" doc:"the account in webaclId, else the account in the object key"`
	Region                      string    `parquet:"region,dict,zstd" doc:"the region in webaclId (us-east-1 for CloudFront web ACLs), else the region in the object key"`
	WebACLID                    *string   `parquet:"web_acl_id,optional,dict,zstd" doc:"webaclId: the web ACL's ARN"`
	WebACLName                  *string   `parquet:"web_acl_name,optional,dict,zstd" doc:"the web ACL's name, from its ARN"`
	FormatVersion               *int32    `parquet:"format_version,optional,zstd"`
	Action                      *string   `parquet:"action,optional,dict,zstd" doc:"ALLOW | BLOCK | CAPTCHA | CHALLENGE (the terminating action)"`
	TerminatingRuleID           *string   `parquet:"terminating_rule_id,optional,dict,zstd" doc:"the rule or rule group that ended evaluation; Default_Action when none did"`
	TerminatingRuleType         *string   `parquet:"terminating_rule_type,optional,dict,zstd" doc:"REGULAR | RATE_BASED | GROUP | MANAGED_RULE_GROUP"`
	TerminatingRuleMatchDetails *string   `parquet:"terminating_rule_match_details,optional,zstd" lake:"json" doc:"terminatingRuleMatchDetails[] as JSON (SQLi/XSS match location and data)"`
	SourceName                  *string   `parquet:"source_name,optional,dict,zstd" doc:"httpSourceName: the protected resource type (ALB, CF, APIGW, APPSYNC, COGNITOIDP, APPRUNNER, VERIFIED_ACCESS)"`
	SourceID                    *string   `parquet:"source_id,optional,dict,zstd" doc:"httpSourceId: the protected resource's id"`
	ClientIP                    *string   `parquet:"client_ip,optional,dict,zstd" doc:"httpRequest.clientIp"`
	ClientIPV4                  *int64    `parquet:"client_ip_v4,optional,zstd" doc:"client_ip as an unsigned 32-bit number (IPv4 only), for range joins with ti_indicators"`
	Country                     *string   `parquet:"country,optional,dict,zstd" doc:"httpRequest.country: ISO 3166 code of the client IP's country"`
	URI                         *string   `parquet:"uri,optional,zstd" doc:"httpRequest.uri: the path"`
	Args                        *string   `parquet:"args,optional,zstd" doc:"httpRequest.args: the query string"`
	HTTPMethod                  *string   `parquet:"http_method,optional,dict,zstd"`
	HTTPVersion                 *string   `parquet:"http_version,optional,dict,zstd"`
	Host                        *string   `parquet:"host,optional,dict,zstd" doc:"the Host header"`
	UserAgent                   *string   `parquet:"user_agent,optional,dict,zstd" doc:"the User-Agent header"`
	Headers                     *string   `parquet:"headers,optional,zstd" lake:"json" doc:"httpRequest.headers[] as JSON ([{name, value}])"`
	RequestID                   *string   `parquet:"request_id,optional,zstd" doc:"httpRequest.requestId (the ALB trace id for ALB); rows are deduplicated on it"`
	ResponseCode                *int32    `parquet:"response_code,optional,zstd" doc:"responseCodeSent: the status code of a custom block response (NULL otherwise)"`
	RuleGroups                  *string   `parquet:"rule_groups,optional,zstd" lake:"json" doc:"ruleGroupList[] as JSON: rule groups evaluated, their terminating and non-terminating matches, excluded rules"`
	NonTerminatingMatchingRules *string   `parquet:"non_terminating_matching_rules,optional,zstd" lake:"json" doc:"nonTerminatingMatchingRules[] as JSON (COUNT matches)"`
	RateBasedRules              *string   `parquet:"rate_based_rules,optional,zstd" lake:"json" doc:"rateBasedRuleList[] as JSON"`
	Labels                      *string   `parquet:"labels,optional,zstd" lake:"json" doc:"labels[] as JSON ([{name}]), e.g. awswaf:managed:aws:bot-control:..."`
	RequestHeadersInserted      *string   `parquet:"request_headers_inserted,optional,zstd" lake:"json"`
	CaptchaResponse             *string   `parquet:"captcha_response,optional,zstd" lake:"json"`
	ChallengeResponse           *string   `parquet:"challenge_response,optional,zstd" lake:"json"`
	OversizeFields              *string   `parquet:"oversize_fields,optional,zstd" lake:"json"`
	JA3                         *string   `parquet:"ja3_fingerprint,optional,dict,zstd" doc:"ja3Fingerprint of the TLS client hello (CloudFront and ALB)"`
	JA4                         *string   `parquet:"ja4_fingerprint,optional,dict,zstd" doc:"ja4Fingerprint of the TLS client hello (CloudFront and ALB)"`
	lake.Lineage
}

// Options tell Parse what the object key says.
type Options struct {
	Key             string
	FallbackAccount string // the account in the key, for records whose webaclId has none
	FallbackRegion  string
	MaxRecordBytes  int // larger records go to bad(); 0 means DefaultMaxRecordBytes
}

// record is a WAF log record as delivered; nested parts the table keeps as JSON stay raw.
type record struct {
	Timestamp                   json.RawMessage `json:"timestamp"`
	FormatVersion               *int32          `json:"formatVersion"`
	WebACLID                    *string         `json:"webaclId"`
	TerminatingRuleID           *string         `json:"terminatingRuleId"`
	TerminatingRuleType         *string         `json:"terminatingRuleType"`
	Action                      *string         `json:"action"`
	TerminatingRuleMatchDetails json.RawMessage `json:"terminatingRuleMatchDetails"`
	HTTPSourceName              *string         `json:"httpSourceName"`
	HTTPSourceID                *string         `json:"httpSourceId"`
	RuleGroupList               json.RawMessage `json:"ruleGroupList"`
	RateBasedRuleList           json.RawMessage `json:"rateBasedRuleList"`
	NonTerminatingMatchingRules json.RawMessage `json:"nonTerminatingMatchingRules"`
	RequestHeadersInserted      json.RawMessage `json:"requestHeadersInserted"`
	ResponseCodeSent            *int32          `json:"responseCodeSent"`
	Labels                      json.RawMessage `json:"labels"`
	CaptchaResponse             json.RawMessage `json:"captchaResponse"`
	ChallengeResponse           json.RawMessage `json:"challengeResponse"`
	OversizeFields              json.RawMessage `json:"oversizeFields"`
	JA3                         *string         `json:"ja3Fingerprint"`
	JA4                         *string         `json:"ja4Fingerprint"`
	HTTPRequest                 *struct {
		ClientIP    *string         `json:"clientIp"`
		Country     *string         `json:"country"`
		Headers     json.RawMessage `json:"headers"`
		URI         *string         `json:"uri"`
		Args        *string         `json:"args"`
		HTTPVersion *string         `json:"httpVersion"`
		HTTPMethod  *string         `json:"httpMethod"`
		RequestID   *string         `json:"requestId"`
	} `json:"httpRequest"`
}

// Parse reads WAF log records from r: JSON objects, one per line or concatenated. Each row goes to emit;
// a record that is not a WAF log record (not JSON, no timestamp, no account) or is larger than
// MaxRecordBytes goes to bad with its 1-based record number and parsing goes on. An object that does not
// start with a JSON object is not a WAF log: that is the error, and nothing of it is read.
func Parse(r io.Reader, o Options, emit func(*Request) error, bad func(recordNo int64, reason string, sample []byte)) (n int64, err error) {
	limit := o.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	return jsonstream.Each(r, limit, "not WAF logs (JSON objects, one per line or concatenated)", func(n int64, obj []byte) error {
		row, why := parseRecord(obj, o)
		if why != "" {
			bad(n, why, obj)
			return nil
		}
		row.Lineage = lake.Lineage{SourceKey: o.Key, SourceLine: n}
		return emit(row)
	}, bad)
}

// parseRecord makes a row of one JSON object, or says why it is not a WAF log record.
func parseRecord(obj []byte, o Options) (*Request, string) {
	if err := jsonlimit.Check(obj); err != nil {
		return nil, err.Error()
	}
	var rec record
	if err := json.Unmarshal(obj, &rec); err != nil {
		return nil, "not a WAF log record: " + err.Error()
	}
	t, ok := parseTime(rec.Timestamp)
	if !ok {
		return nil, "no timestamp (milliseconds since the epoch)"
	}
	row := &Request{
		EventTime: t, FormatVersion: rec.FormatVersion, WebACLID: rec.WebACLID, Action: rec.Action,
		TerminatingRuleID: rec.TerminatingRuleID, TerminatingRuleType: rec.TerminatingRuleType,
		TerminatingRuleMatchDetails: jsonText(rec.TerminatingRuleMatchDetails),
		SourceName:                  dash(rec.HTTPSourceName), SourceID: dash(rec.HTTPSourceID),
		ResponseCode: rec.ResponseCodeSent, RuleGroups: jsonText(rec.RuleGroupList),
		NonTerminatingMatchingRules: jsonText(rec.NonTerminatingMatchingRules), RateBasedRules: jsonText(rec.RateBasedRuleList),
		Labels: jsonText(rec.Labels), RequestHeadersInserted: jsonText(rec.RequestHeadersInserted),
		CaptchaResponse: jsonText(rec.CaptchaResponse), ChallengeResponse: jsonText(rec.ChallengeResponse),
		OversizeFields: jsonText(rec.OversizeFields), JA3: rec.JA3, JA4: rec.JA4,
	}
	row.AccountID, row.Region = o.FallbackAccount, o.FallbackRegion
	if rec.WebACLID != nil {
		if acct, region, name, ok := parseARN(*rec.WebACLID); ok {
			row.AccountID, row.Region, row.WebACLName = acct, region, &name
		}
	}
	if row.AccountID == "" || row.Region == "" {
		return nil, "no account and region: webaclId is not a web ACL ARN and the object key has none"
	}
	if q := rec.HTTPRequest; q != nil {
		row.ClientIP, row.Country, row.URI, row.Args = q.ClientIP, q.Country, q.URI, q.Args
		row.HTTPMethod, row.HTTPVersion = q.HTTPMethod, q.HTTPVersion
		if q.RequestID != nil && *q.RequestID != "" && *q.RequestID != "null" && *q.RequestID != "-" {
			row.RequestID = q.RequestID
		}
		row.Headers = jsonText(q.Headers)
		row.Host, row.UserAgent = headers(q.Headers)
		if row.ClientIP != nil {
			if a, err := netip.ParseAddr(*row.ClientIP); err == nil && a.Is4() {
				b := a.As4()
				v := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
				row.ClientIPV4 = &v
			}
		}
	}
	return row, ""
}

// parseTime reads the record's timestamp: milliseconds since the epoch as WAF writes it, or an RFC 3339
// string (as log pipelines that normalise records rewrite it).
func parseTime(raw json.RawMessage) (time.Time, bool) {
	var ms int64
	if err := json.Unmarshal(raw, &ms); err == nil {
		if ms <= 0 {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), true
		}
	}
	return time.Time{}, false
}

// parseARN reads arn:aws:wafv2:REGION:ACCOUNT:SCOPE/webacl/NAME/ID.
func parseARN(arn string) (account, region, name string, ok bool) {
	p := strings.SplitN(arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || len(p[4]) != 12 || p[3] == "" {
		return "", "", "", false
	}
	res := strings.Split(p[5], "/")
	if len(res) >= 3 && res[1] == "webacl" {
		name = res[2]
	}
	return p[4], p[3], name, true
}

func headers(raw json.RawMessage) (host, ua *string) {
	var hs []struct {
		Name  string `json:"name"`
		Value string `json:"value"`
	}
	if json.Unmarshal(raw, &hs) != nil {
		return nil, nil
	}
	for _, h := range hs {
		switch {
		case host == nil && strings.EqualFold(h.Name, "host"):
			host = &h.Value
		case ua == nil && strings.EqualFold(h.Name, "user-agent"):
			ua = &h.Value
		}
	}
	return host, ua
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

// dash: WAF writes "-" for an unknown source.
func dash(s *string) *string {
	if s == nil || *s == "-" || *s == "" {
		return nil
	}
	return s
}

// Source describes the waf table to the compactor.
var Source = source.Def[Request]{
	Table:          Table,
	Doc:            "AWS WAF (v2) web ACL logs, one row per evaluated request",
	Layout:         source.Layout{Services: []string{"WAFLogs"}, Classify: classify, Prefixed: true},
	MaxRecordBytes: DefaultMaxRecordBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*Request) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxRecordBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(r *Request) time.Time { return r.EventTime },
	Partition: func(r *Request) (string, string) { return r.AccountID, r.Region },
	Lineage:   func(r *Request) *lake.Lineage { return &r.Lineage },
	ID: func(r *Request) string {
		if r.RequestID == nil {
			return ""
		}
		return *r.RequestID
	},
	IDColumn: "request_id",
	Fixture:  fixture,
	Generate: generate,
}
