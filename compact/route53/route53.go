// Package route53 parses Route 53 Resolver query logs (one JSON object per line) into rows of the
// route53_resolver table.
package route53

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/lakehunt/lakehunt/compact/internal/jsonlimit"
	"github.com/lakehunt/lakehunt/compact/logtime"

	"github.com/lakehunt/lakehunt/lake"
)

// DefaultMaxLineBytes is used when Options.MaxLineBytes is 0. A query log entry is a few hundred bytes;
// long CNAME chains in answers make it a few KB. Answers come from one DNS message (64 KiB at most),
// whose escaped JSON can take four times that.
const DefaultMaxLineBytes = 1 << 20

const sampleBytes = 512

// Options describe the object being parsed.
type Options struct {
	Key             string // object key, copied to every row's SourceKey
	FallbackAccount string // used when account_id is missing (from the key)
	FallbackRegion  string // used when region is missing
	FallbackVPC     string // used when vpc_id is missing (from the key)
	MaxLineBytes    int    // longer lines go to bad(); 0 means DefaultMaxLineBytes
}

// Parse reads one decompressed Route 53 Resolver query log file and calls emit for each entry, in file
// order. Each emitted row is new; the caller may keep it. SourceLine is the line number; IngestedAt is
// left zero. Blank lines are skipped. A line that is not a JSON object, lacks a parseable query_timestamp,
// has a srcport that is not a port number, or is longer than MaxLineBytes goes to bad(lineNo, reason,
// sample) and parsing goes on; bad may be nil, which makes the first bad line an error.
// answers and srcids are kept as compact JSON text; srcids.instance, .resolver_endpoint and
// .resolver_network_interface are promoted to columns.
//
// A read error (or an error from emit, returned wrapped) stops parsing; rows emitted before it come from
// a file that was not fully read and must be discarded by the caller.
// n is the number of records read: rows emitted plus lines handed to bad.
func Parse(r io.Reader, o Options, emit func(*lake.Route53ResolverQuery) error, bad func(lineNo int64, reason string, sample []byte)) (n int64, err error) {
	limit := o.MaxLineBytes
	if limit <= 0 {
		limit = DefaultMaxLineBytes
	}
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	lr := &d.lr
	lr.Reset(r, limit)
	var lineNo int64
	for {
		line, tooLong, rerr := lr.Next()
		if rerr != nil && rerr != io.EOF {
			return n, fmt.Errorf("%s: reading line %d: %w", o.Key, lineNo+1, rerr)
		}
		if len(line) == 0 && tooLong == 0 && rerr == io.EOF {
			break
		}
		lineNo++
		trimmed := bytes.TrimSpace(line)
		var reason string
		switch {
		case tooLong > 0 || len(trimmed) > limit:
			reason = fmt.Sprintf("line is %d bytes, more than the %d-byte limit", max(tooLong, int64(len(trimmed))), limit)
		case len(trimmed) == 0:
		case trimmed[0] != '{':
			reason = "line is not a JSON object"
		default:
			row, err := d.parseQuery(trimmed, o.FallbackAccount, o.FallbackRegion, o.FallbackVPC)
			if err != nil {
				reason = err.Error()
				break
			}
			row.SourceKey = o.Key
			row.SourceLine = lineNo
			if err := emit(&row); err != nil {
				return n, fmt.Errorf("%s: line %d: %w", o.Key, lineNo, err)
			}
			n++
		}
		if reason != "" {
			if bad == nil {
				return n, fmt.Errorf("%s: line %d: %s", o.Key, lineNo, reason)
			}
			bad(lineNo, reason, append([]byte(nil), trimmed[:min(len(trimmed), sampleBytes)]...))
			n++
		}
		if rerr == io.EOF {
			break
		}
	}
	return n, nil
}

// ParseQuery turns one query log entry (a JSON object) into a row; Lineage is left to the caller.
// Invalid UTF-8 is replaced by U+FFFD (as encoding/json does), so every column is valid UTF-8.
func ParseQuery(line []byte, fallbackAccount, fallbackRegion, fallbackVPC string) (lake.Route53ResolverQuery, error) {
	d := decoders.Get().(*decoder)
	defer decoders.Put(d)
	return d.parseQuery(line, fallbackAccount, fallbackRegion, fallbackVPC)
}

// parseQuery decodes line on the fast path when it can, else on the careful one.
func (d *decoder) parseQuery(line []byte, fallbackAccount, fallbackRegion, fallbackVPC string) (lake.Route53ResolverQuery, error) {
	var q lake.Route53ResolverQuery
	if len(line) > 0 && line[0] == '{' && d.decode(line, &q, fallbackAccount, fallbackRegion, fallbackVPC) {
		return q, nil
	}
	return parseCareful(line, fallbackAccount, fallbackRegion, fallbackVPC, &d.strs)
}

// parseCareful takes the entries the fast path does not: it bounds nesting with jsonlimit, repairs
// invalid UTF-8, decodes escapes and explains what is wrong with an entry it rejects. It was the only
// path before the fast one, and the tests hold the fast one to it.
func parseCareful(line []byte, fallbackAccount, fallbackRegion, fallbackVPC string, strs *strCache) (lake.Route53ResolverQuery, error) {
	if err := jsonlimit.Check(line); err != nil { // the reader recurses per nesting level
		return lake.Route53ResolverQuery{}, err
	}
	if !utf8.Valid(line) {
		line = bytes.ToValidUTF8(line, []byte("\uFFFD"))
	}
	var q lake.Route53ResolverQuery
	var account, region, ts, srcport *string
	r := &reader{b: line, strs: strs}
	err := r.object(func(key []byte) (err error) {
		switch string(key) {
		case "version":
			q.Version, err = r.scalar("version")
		case "account_id":
			account, err = r.str("account_id")
		case "region":
			region, err = r.str("region")
		case "vpc_id":
			q.VPCID, err = r.str("vpc_id")
		case "query_timestamp":
			ts, err = r.str("query_timestamp")
		case "query_name":
			q.QueryName, err = r.str("query_name")
		case "query_type":
			q.QueryType, err = r.str("query_type")
		case "query_class":
			q.QueryClass, err = r.str("query_class")
		case "rcode":
			q.Rcode, err = r.str("rcode")
		case "answers":
			var text []byte
			text, err = r.value()
			q.Answers = jsonText(text)
		case "srcaddr":
			q.SrcAddr, err = r.str("srcaddr")
		case "srcport":
			srcport, err = r.scalar("srcport")
		case "transport":
			q.Transport, err = r.str("transport")
		case "srcids":
			err = srcIDs(r, &q)
		case "firewall_rule_action":
			q.FirewallRuleAction, err = r.str("firewall_rule_action")
		case "firewall_rule_group_id":
			q.FirewallRuleGroupID, err = r.str("firewall_rule_group_id")
		case "firewall_domain_list_id":
			q.FirewallDomainListID, err = r.str("firewall_domain_list_id")
		default:
			_, err = r.value()
		}
		return err
	})
	if err == nil && !r.atEnd() {
		err = r.fail("unexpected text after the JSON object")
	}
	if err != nil {
		return lake.Route53ResolverQuery{}, fmt.Errorf("invalid JSON: %w", err)
	}
	if ts == nil || *ts == "" {
		return lake.Route53ResolverQuery{}, errors.New("entry has no query_timestamp")
	}
	if q.EventTime, err = logtime.Parse(*ts); err != nil {
		return lake.Route53ResolverQuery{}, fmt.Errorf("query_timestamp %q is not an ISO 8601 UTC time", truncate(*ts, 64))
	}
	if srcport != nil && *srcport != "" && *srcport != "-" {
		p, err := strconv.ParseUint(*srcport, 10, 16)
		if err != nil {
			return lake.Route53ResolverQuery{}, fmt.Errorf("srcport %q is not a port number", truncate(*srcport, 32))
		}
		port := int32(p)
		q.SrcPort = &port
	}
	q.AccountID, q.Region = fallbackAccount, fallbackRegion
	if account != nil && *account != "" {
		q.AccountID = *account
	}
	if region != nil && *region != "" {
		q.Region = *region
	}
	if (q.VPCID == nil || *q.VPCID == "") && fallbackVPC != "" {
		vpc := fallbackVPC
		q.VPCID = &vpc
	}
	return q, nil
}

// srcIDs keeps srcids as JSON text and promotes its members.
func srcIDs(r *reader, q *lake.Route53ResolverQuery) error {
	if r.peek() != '{' {
		text, err := r.value()
		if err == nil && string(text) != "null" {
			err = fmt.Errorf("field srcids: %s where an object is expected", kind(text[0]))
		}
		return err
	}
	start := r.i
	err := r.object(func(key []byte) (err error) {
		switch string(key) {
		case "instance":
			q.SrcInstanceID, err = r.str("srcids.instance")
		case "resolver_endpoint":
			q.SrcResolverEndpoint, err = r.str("srcids.resolver_endpoint")
		case "resolver_network_interface":
			q.SrcResolverNetworkIface, err = r.str("srcids.resolver_network_interface")
		default:
			_, err = r.value()
		}
		return err
	})
	q.SrcIDs = jsonText(r.b[start:r.i])
	return err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
