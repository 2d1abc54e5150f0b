package cloudtrail

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Source describes the cloudtrail table to the compactor (its AWSLogs/ layouts are built into rawkey).
var Source = source.Def[lake.CloudTrailEvent]{
	Table:          lake.TableCloudTrail,
	MaxRecordBytes: DefaultMaxRecordBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*lake.CloudTrailEvent) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxRecordBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(r *lake.CloudTrailEvent) time.Time { return r.EventTime },
	Partition: func(r *lake.CloudTrailEvent) (string, string) { return r.AccountID, r.Region },
	Lineage:   func(r *lake.CloudTrailEvent) *lake.Lineage { return &r.Lineage },
	ID:        func(r *lake.CloudTrailEvent) string { return r.EventID },
	IDColumn:  "event_id",
	Fixture:   fixture,
}

// fixture writes a hunt test's CloudTrail records (a list of event objects) as Records files, one per
// account, region and day.
func fixture(events any, _ time.Time, put source.Put) error {
	records, ok := events.([]any)
	if !ok {
		return fmt.Errorf("cloudtrail events are a list of CloudTrail event objects")
	}
	type group struct {
		first   time.Time
		records []any
	}
	groups := map[string]*group{}
	for i, r := range records {
		m, ok := r.(map[string]any)
		if !ok {
			return fmt.Errorf("cloudtrail event %d is not an object", i+1)
		}
		ts, _ := m["eventTime"].(string)
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			return fmt.Errorf("cloudtrail event %d: eventTime %q is not an RFC 3339 time", i+1, ts)
		}
		region, _ := m["awsRegion"].(string)
		acct, _ := m["recipientAccountId"].(string)
		if acct == "" {
			if ui, ok := m["userIdentity"].(map[string]any); ok {
				acct, _ = ui["accountId"].(string)
			}
		}
		if region == "" || acct == "" {
			return fmt.Errorf("cloudtrail event %d needs awsRegion and recipientAccountId to be delivered", i+1)
		}
		t = t.UTC()
		key := fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s", acct, region, t.Format("2006/01/02"))
		g := groups[key]
		if g == nil {
			g = &group{first: t}
			groups[key] = g
		}
		if t.Before(g.first) {
			g.first = t
		}
		g.records = append(g.records, m)
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, prefix := range keys {
		g := groups[prefix]
		parts := strings.Split(prefix, "/")
		acct, region := parts[1], parts[3]
		name := fmt.Sprintf("%s/%s_CloudTrail_%s_%s_test.json.gz", prefix, acct, region, g.first.Format("20060102T1504Z"))
		b, err := json.Marshal(map[string]any{"Records": g.records})
		if err != nil {
			return err
		}
		if err := put(name, source.Gzip(b)); err != nil {
			return err
		}
	}
	return nil
}
