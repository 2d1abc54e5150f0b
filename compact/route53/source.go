package route53

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Source describes the route53_resolver table to the compactor (its AWSLogs/ layout is built into rawkey).
var Source = source.Def[lake.Route53ResolverQuery]{
	Table:          lake.TableRoute53Resolver,
	MaxRecordBytes: DefaultMaxLineBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*lake.Route53ResolverQuery) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, FallbackVPC: o.Info.VPCID, MaxLineBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(r *lake.Route53ResolverQuery) time.Time { return r.EventTime },
	Partition: func(r *lake.Route53ResolverQuery) (string, string) { return r.AccountID, r.Region },
	Lineage:   func(r *lake.Route53ResolverQuery) *lake.Lineage { return &r.Lineage },
	Fixture:   fixture,
}

// fixture writes a hunt test's query log entries (a list of objects) as JSON lines, one object per
// account, VPC and day.
func fixture(events any, _ time.Time, put source.Put) error {
	records, ok := events.([]any)
	if !ok {
		return fmt.Errorf("route53_resolver events are a list of query log objects")
	}
	groups := map[string][]byte{}
	for i, r := range records {
		m, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("route53_resolver event %d is not an object", i+1)
		}
		acct, _ := m["account_id"].(string)
		vpc, _ := m["vpc_id"].(string)
		ts, _ := m["query_timestamp"].(string)
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil || acct == "" || vpc == "" {
			return fmt.Errorf("route53_resolver event %d needs account_id, vpc_id and an RFC 3339 query_timestamp", i+1)
		}
		key := fmt.Sprintf("AWSLogs/%s/vpcdnsquerylogs/%s/%s/test.log.gz", acct, vpc, t.UTC().Format("2006/01/02"))
		b, err := json.Marshal(m)
		if err != nil {
			return err
		}
		groups[key] = append(append(groups[key], b...), '\n')
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if err := put(key, source.Gzip(groups[key])); err != nil {
			return err
		}
	}
	return nil
}
