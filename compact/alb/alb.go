// Package alb reads Application Load Balancer access logs: one request per line, space-separated
// fields, some of them in double quotes (AWSLogs/ACCOUNT/elasticloadbalancing/REGION/YYYY/MM/DD/*.log.gz).
package alb

import (
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/lines"
	"github.com/lakehunt/lakehunt/lake"
)

// Table is the lake table ALB access logs fill.
const Table = "alb"

// DefaultMaxRecordBytes is the line limit when none is given. ALB truncates the user agent at 8 KB; the
// request line holds the URL as the client sent it, which ALB accepts up to its header limits (64 KB).
const DefaultMaxRecordBytes = 256 << 10

// Request is one row of the alb table: one request (or WebSocket connection) an ALB handled.
type Request struct {
	EventTime              time.Time  `parquet:"event_time,timestamp(microsecond:local),zstd" doc:"time: when the load balancer sent the response (for WebSockets, closed the connection), UTC"`
	AccountID              string     `parquet:"account_id,dict,zstd" doc:"the account in the object key, else in target_group_arn"`
	Region                 string     `parquet:"region,dict,zstd" doc:"the region in the object key, else in target_group_arn"`
	Type                   string     `parquet:"type,dict,zstd" doc:"http | https | h2 | grpcs | ws | wss"`
	ELB                    string     `parquet:"elb,dict,zstd" doc:"the load balancer's resource id, app/NAME/ID"`
	ClientIP               *string    `parquet:"client_ip,optional,dict,zstd" doc:"the client's address (client:port)"`
	ClientPort             *int32     `parquet:"client_port,optional,zstd"`
	ClientIPV4             *int64     `parquet:"client_ip_v4,optional,zstd" doc:"client_ip as an unsigned 32-bit number (IPv4 only), for range joins with ti_indicators"`
	TargetIP               *string    `parquet:"target_ip,optional,dict,zstd" doc:"the target that processed the request (target:port); NULL when none did (incomplete request, Lambda target, blocked by WAF)"`
	TargetPort             *int32     `parquet:"target_port,optional,zstd"`
	RequestProcessingTime  *float64   `parquet:"request_processing_time,optional,zstd" doc:"seconds from receiving the request to sending it to a target; -1 when it was not dispatched"`
	TargetProcessingTime   *float64   `parquet:"target_processing_time,optional,zstd" doc:"seconds from sending the request to the target to the target's response headers; -1 when not dispatched or no response"`
	ResponseProcessingTime *float64   `parquet:"response_processing_time,optional,zstd" doc:"seconds from the target's response headers to the response to the client; -1 when not dispatched"`
	ELBStatusCode          *int32     `parquet:"elb_status_code,optional,zstd" doc:"the status code the load balancer returned to the client"`
	TargetStatusCode       *int32     `parquet:"target_status_code,optional,zstd" doc:"the status code the target returned; NULL when no target responded"`
	ReceivedBytes          *int64     `parquet:"received_bytes,optional,zstd" doc:"bytes received from the client, headers included"`
	SentBytes              *int64     `parquet:"sent_bytes,optional,zstd" doc:"bytes sent to the client, headers included"`
	RequestMethod          *string    `parquet:"request_method,optional,dict,zstd" doc:"the request line's method"`
	RequestURL             *string    `parquet:"request_url,optional,zstd" doc:"the request line's URL, protocol://host:port/uri, as the client sent it"`
	RequestProtocol        *string    `parquet:"request_protocol,optional,dict,zstd" doc:"the request line's HTTP version, e.g. HTTP/1.1"`
	UserAgent              *string    `parquet:"user_agent,optional,dict,zstd" doc:"the User-Agent header (truncated at 8 KB by ALB)"`
	SSLCipher              *string    `parquet:"ssl_cipher,optional,dict,zstd" doc:"HTTPS listeners: the TLS cipher"`
	SSLProtocol            *string    `parquet:"ssl_protocol,optional,dict,zstd" doc:"HTTPS listeners: the TLS protocol version"`
	TargetGroupARN         *string    `parquet:"target_group_arn,optional,dict,zstd"`
	TraceID                *string    `parquet:"trace_id,optional,zstd" doc:"the X-Amzn-Trace-Id header (Root=...); a client can set it, so it need not be unique"`
	DomainName             *string    `parquet:"domain_name,optional,dict,zstd" doc:"HTTPS listeners: the SNI host name the client sent"`
	ChosenCertARN          *string    `parquet:"chosen_cert_arn,optional,dict,zstd" doc:"HTTPS listeners: the certificate presented, or session-reused"`
	MatchedRulePriority    *int32     `parquet:"matched_rule_priority,optional,zstd" doc:"the listener rule that matched: 1-50000, 0 for the default action, -1 on a rule evaluation error"`
	RequestCreationTime    *time.Time `parquet:"request_creation_time,optional,timestamp(microsecond:local),zstd" doc:"when the load balancer received the request (UTC)"`
	ActionsExecuted        *string    `parquet:"actions_executed,optional,dict,zstd" doc:"comma-separated: waf, waf-failed, authenticate, redirect, fixed-response, forward"`
	RedirectURL            *string    `parquet:"redirect_url,optional,zstd" doc:"the Location of a redirect action"`
	ErrorReason            *string    `parquet:"error_reason,optional,dict,zstd" doc:"the error code of a failed authenticate, Lambda, weighted target group or WAF request (e.g. AuthInvalidCookie, LambdaUnhandled, WAFConnectionError)"`
	TargetPortList         *string    `parquet:"target_port_list,optional,zstd" doc:"the targets that processed the request, space-separated IP:port"`
	TargetStatusCodeList   *string    `parquet:"target_status_code_list,optional,zstd" doc:"the targets' status codes, space-separated"`
	Classification         *string    `parquet:"classification,optional,dict,zstd" doc:"desync mitigation: Acceptable | Ambiguous | Severe for requests not compliant with RFC 7230, NULL otherwise"`
	ClassificationReason   *string    `parquet:"classification_reason,optional,dict,zstd" doc:"why the request is not compliant (e.g. BadContentLength, BothTeClPresent)"`
	ConnTraceID            *string    `parquet:"conn_trace_id,optional,zstd" doc:"the connection's trace id, the same in the ALB connection log"`
	lake.Lineage

	fields [nFields]string // the line's fields, which the string columns point into
	parts  [5]string       // client and target address, request method, URL and protocol
}

// Options tell Parse what the object key says.
type Options struct {
	Key             string
	FallbackAccount string // the account and region in the key; else the rows take them from target_group_arn
	FallbackRegion  string
	MaxRecordBytes  int // longer lines go to bad(); 0 means DefaultMaxRecordBytes
}

// minFields is the oldest format's request line: entries written before AWS added fields end earlier.
const minFields = 13

// Field positions, in the order ALB writes them. New fields are appended: extra ones are ignored.
const (
	fType = iota
	fTime
	fELB
	fClient
	fTarget
	fRequestProcessingTime
	fTargetProcessingTime
	fResponseProcessingTime
	fELBStatusCode
	fTargetStatusCode
	fReceivedBytes
	fSentBytes
	fRequest
	fUserAgent
	fSSLCipher
	fSSLProtocol
	fTargetGroupARN
	fTraceID
	fDomainName
	fChosenCertARN
	fMatchedRulePriority
	fRequestCreationTime
	fActionsExecuted
	fRedirectURL
	fErrorReason
	fTargetPortList
	fTargetStatusCodeList
	fClassification
	fClassificationReason
	fConnTraceID
	nFields
)

var fieldNames = [nFields]string{"type", "time", "elb", "client:port", "target:port", "request_processing_time",
	"target_processing_time", "response_processing_time", "elb_status_code", "target_status_code", "received_bytes",
	"sent_bytes", "request", "user_agent", "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
	"chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed", "redirect_url",
	"error_reason", "target:port_list", "target_status_code_list", "classification", "classification_reason", "conn_trace_id"}

// Parse reads ALB access log entries from r, one per line. Each row goes to emit; a line that is not an
// entry (too few fields, an unclosed quote, a time or number that does not parse, no account) or is
// longer than MaxRecordBytes goes to bad with its line number and parsing goes on. Blank lines are
// skipped. An object whose first entry has no time in its second field is not an ALB access log: that is
// the error, and nothing of it is read. n counts rows and bad lines.
func Parse(r io.Reader, o Options, emit func(*Request) error, bad func(recordNo int64, reason string, sample []byte)) (n int64, err error) {
	limit := o.MaxRecordBytes
	if limit <= 0 {
		limit = DefaultMaxRecordBytes
	}
	lr := lines.NewReader(r, limit)
	var lineNo int64
	first := true
	for {
		line, tooLong, rerr := lr.Next()
		if rerr != nil && rerr != io.EOF {
			return n, fmt.Errorf("reading line %d: %w", lineNo+1, rerr)
		}
		if len(line) == 0 && tooLong == 0 && rerr == io.EOF {
			return n, nil
		}
		lineNo++
		line = bytes.TrimRight(line, "\r\n")
		switch {
		case len(bytes.TrimSpace(line)) == 0 && tooLong == 0:
		case tooLong > 0:
			if first && !startsLikeEntry(line) {
				return 0, notALB(line)
			}
			first = false
			n++
			bad(lineNo, fmt.Sprintf("line is %d bytes, over the %d-byte limit", tooLong, limit), line)
		default:
			n++
			row, why := parseLine(line, o)
			if why != "" && first && !startsLikeEntry(line) {
				return 0, notALB(line)
			}
			first = false
			if why != "" {
				bad(lineNo, why, line)
				break
			}
			row.Lineage = lake.Lineage{SourceKey: o.Key, SourceLine: lineNo}
			if err := emit(row); err != nil {
				return n, err
			}
		}
		if rerr == io.EOF {
			return n, nil
		}
	}
}

func notALB(line []byte) error {
	return fmt.Errorf("not ALB access logs (type, then an ISO 8601 time, space-separated): starts with %q", sample(line, 32))
}

func sample(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// startsLikeEntry: the line's second field is a time, as in every ALB entry.
func startsLikeEntry(line []byte) bool {
	f := bytes.Fields(sample(line, 256))
	if len(f) < 2 {
		return false
	}
	_, err := time.Parse(time.RFC3339Nano, string(f[1]))
	return err == nil
}

// split cuts a line into its fields: runs of non-space bytes, or double-quoted strings (in which ALB
// escapes a quote as \"). It fills at most len(out) fields, substrings of line, and returns how many the
// line has.
func split(line string, out []string) (int, string) {
	n := 0
	for i := 0; i < len(line); {
		if line[i] == ' ' {
			i++
			continue
		}
		var f string
		if line[i] == '"' {
			j, esc := i+1, false
			for ; j < len(line); j++ {
				if line[j] == '\\' && j+1 < len(line) {
					esc = true
					j++
					continue
				}
				if line[j] == '"' {
					break
				}
			}
			if j >= len(line) {
				return n, fmt.Sprintf("field %d: quoted field not closed", n+1)
			}
			f = line[i+1 : j]
			if esc {
				f = unescape(f)
			}
			i = j + 1
			if i < len(line) && line[i] != ' ' {
				return n, fmt.Sprintf("field %d: no space after the closing quote", n+1)
			}
		} else {
			j := strings.IndexByte(line[i:], ' ')
			if j < 0 {
				j = len(line) - i
			}
			f = line[i : i+j]
			i += j
		}
		if n < len(out) {
			out[n] = f
		}
		n++
	}
	return n, ""
}

// unescape undoes ALB's \" and \\ in a quoted field; other escapes (\x hex of control bytes) stay as written.
func unescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '"' || s[i+1] == '\\') {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// parseLine makes a row of one entry, or says why it is not an ALB access log entry. The row's strings
// are substrings of one copy of the line, held in the row: a row costs two allocations, not thirty.
func parseLine(line []byte, o Options) (*Request, string) {
	row := &Request{}
	fields := &row.fields
	nf, why := split(string(line), fields[:])
	if why != "" {
		return nil, why
	}
	if nf < minFields {
		return nil, fmt.Sprintf("%d fields; an ALB access log entry has at least %d (type ... \"request\")", nf, minFields)
	}
	p := fieldParser{f: fields}
	t, err := time.Parse(time.RFC3339Nano, fields[fTime])
	if err != nil {
		return nil, fmt.Sprintf("time %q is not an ISO 8601 time", fields[fTime])
	}
	row.EventTime, row.Type, row.ELB = t.UTC().Truncate(time.Microsecond), fields[fType], fields[fELB]
	row.RequestProcessingTime, row.TargetProcessingTime = p.float(fRequestProcessingTime), p.float(fTargetProcessingTime)
	row.ResponseProcessingTime, row.ELBStatusCode = p.float(fResponseProcessingTime), p.int32(fELBStatusCode)
	row.TargetStatusCode, row.ReceivedBytes, row.SentBytes = p.int32(fTargetStatusCode), p.int64(fReceivedBytes), p.int64(fSentBytes)
	row.UserAgent, row.SSLCipher, row.SSLProtocol = p.str(fUserAgent), p.str(fSSLCipher), p.str(fSSLProtocol)
	row.TargetGroupARN, row.TraceID, row.DomainName = p.str(fTargetGroupARN), p.str(fTraceID), p.str(fDomainName)
	row.ChosenCertARN, row.MatchedRulePriority = p.str(fChosenCertARN), p.int32(fMatchedRulePriority)
	row.RequestCreationTime, row.ActionsExecuted = p.time(fRequestCreationTime), p.str(fActionsExecuted)
	row.RedirectURL, row.ErrorReason, row.TargetPortList = p.str(fRedirectURL), p.str(fErrorReason), p.str(fTargetPortList)
	row.TargetStatusCodeList, row.Classification = p.str(fTargetStatusCodeList), p.str(fClassification)
	row.ClassificationReason, row.ConnTraceID = p.str(fClassificationReason), p.str(fConnTraceID)
	row.ClientIP, row.ClientPort, row.ClientIPV4 = p.addr(fClient, &row.parts[0])
	row.TargetIP, row.TargetPort, _ = p.addr(fTarget, &row.parts[1])
	if p.why != "" {
		return nil, p.why
	}
	row.RequestMethod, row.RequestURL, row.RequestProtocol = splitRequest(fields[fRequest], (*[3]string)(row.parts[2:]))
	row.AccountID, row.Region = o.FallbackAccount, o.FallbackRegion
	if row.AccountID == "" || row.Region == "" {
		if acct, region, ok := arnAccount(row.TargetGroupARN); ok {
			row.AccountID, row.Region = acct, region
		}
	}
	if row.AccountID == "" || row.Region == "" {
		return nil, "no account and region: the object key has none and target_group_arn is not an ARN"
	}
	return row, ""
}

// splitRequest cuts "METHOD URL PROTOCOL" (the URL as sent, which may hold spaces) into parts; ALB
// writes "- - - " for a request it could not read.
func splitRequest(s string, parts *[3]string) (method, url, protocol *string) {
	s = strings.TrimRight(s, " ")
	m, rest, ok := strings.Cut(s, " ")
	parts[0] = m
	if !ok {
		return nullable(&parts[0]), nil, nil
	}
	if i := strings.LastIndexByte(rest, ' '); i >= 0 {
		parts[1], parts[2] = rest[:i], rest[i+1:]
		return nullable(&parts[0]), nullable(&parts[1]), nullable(&parts[2])
	}
	parts[1] = rest
	return nullable(&parts[0]), nullable(&parts[1]), nil
}

// arnAccount reads the region and account of an ARN.
func arnAccount(arn *string) (account, region string, ok bool) {
	if arn == nil {
		return "", "", false
	}
	p := strings.SplitN(*arn, ":", 6)
	if len(p) != 6 || p[0] != "arn" || len(p[4]) != 12 || p[3] == "" {
		return "", "", false
	}
	return p[4], p[3], true
}

// nullable: ALB writes "-" (quoted or not) for a value it does not have.
func nullable(s *string) *string {
	if *s == "" || *s == "-" {
		return nil
	}
	return s
}

// fieldParser converts fields, keeping the first conversion error.
type fieldParser struct {
	f   *[nFields]string
	why string
}

func (p *fieldParser) str(i int) *string { return nullable(&p.f[i]) }

func (p *fieldParser) fail(i int) {
	if p.why == "" {
		p.why = fmt.Sprintf("%s %q does not parse", fieldNames[i], p.f[i])
	}
}

func (p *fieldParser) int64(i int) *int64 {
	s := p.str(i)
	if s == nil {
		return nil
	}
	v, err := strconv.ParseInt(*s, 10, 64)
	if err != nil {
		p.fail(i)
		return nil
	}
	return &v
}

func (p *fieldParser) int32(i int) *int32 {
	s := p.str(i)
	if s == nil {
		return nil
	}
	v, err := strconv.ParseInt(*s, 10, 32)
	if err != nil {
		p.fail(i)
		return nil
	}
	v32 := int32(v)
	return &v32
}

func (p *fieldParser) float(i int) *float64 {
	s := p.str(i)
	if s == nil {
		return nil
	}
	v, err := strconv.ParseFloat(*s, 64)
	if err != nil {
		p.fail(i)
		return nil
	}
	return &v
}

func (p *fieldParser) time(i int) *time.Time {
	s := p.str(i)
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		p.fail(i)
		return nil
	}
	t = t.UTC().Truncate(time.Microsecond)
	return &t
}

// addr reads IP:port (IPv6 without brackets, as ALB writes it, or with them) into the address (kept in
// *ip) and port, and the IPv4 address as a number; "-" is NULL.
func (p *fieldParser) addr(i int, ip *string) (*string, *int32, *int64) {
	s := p.str(i)
	if s == nil {
		return nil, nil, nil
	}
	j := strings.LastIndexByte(*s, ':')
	if j < 0 {
		p.fail(i)
		return nil, nil, nil
	}
	host := strings.TrimSuffix(strings.TrimPrefix((*s)[:j], "["), "]")
	a, err := netip.ParseAddr(host)
	port, perr := strconv.ParseUint((*s)[j+1:], 10, 16)
	if err != nil || perr != nil || a.Zone() != "" {
		p.fail(i)
		return nil, nil, nil
	}
	*ip = host
	port32 := int32(port)
	var v4 *int64
	if a = a.Unmap(); a.Is4() {
		b := a.As4()
		v := int64(b[0])<<24 | int64(b[1])<<16 | int64(b[2])<<8 | int64(b[3])
		v4 = &v
	}
	return ip, &port32, v4
}
