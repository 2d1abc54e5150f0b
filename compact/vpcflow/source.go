package vpcflow

import (
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/lakehunt/lakehunt/compact/source"
	"github.com/lakehunt/lakehunt/lake"
)

// Source describes the vpc_flow table to the compactor (its AWSLogs/ layouts are built into rawkey).
var Source = source.Def[lake.VPCFlowRecord]{
	Table:          lake.TableVPCFlow,
	MaxRecordBytes: DefaultMaxLineBytes,
	Parse: func(r io.Reader, o source.ParseOptions, emit func(*lake.VPCFlowRecord) error, bad source.Bad) (int64, error) {
		return Parse(r, Options{Key: o.Key, FallbackAccount: o.Info.AccountID, FallbackRegion: o.Info.Region, MaxLineBytes: o.MaxRecordBytes}, emit, bad)
	},
	Time:      func(r *lake.VPCFlowRecord) time.Time { return r.EventTime },
	Partition: func(r *lake.VPCFlowRecord) (string, string) { return r.AccountID, r.Region },
	Lineage:   func(r *lake.VPCFlowRecord) *lake.Lineage { return &r.Lineage },
	Fixture:   fixture,
}

var fixtureAccountRE = regexp.MustCompile(`^\d{12}$`)

// fixture writes a hunt test's flow log text (an optional header line, then records) as one object
// dated the window's start.
func fixture(events any, day time.Time, put source.Put) error {
	text, ok := events.(string)
	if !ok {
		return fmt.Errorf("vpc_flow events are flow log text: an optional header line, then records")
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	acct := "000000000000"
	lines := strings.Split(strings.TrimSpace(text), "\n")
	if len(lines) > 1 {
		header, first := strings.Fields(lines[0]), strings.Fields(lines[1])
		for i, h := range header {
			if h == "account-id" && i < len(first) && fixtureAccountRE.MatchString(first[i]) {
				acct = first[i]
			}
		}
	}
	day = day.UTC()
	name := fmt.Sprintf("AWSLogs/%s/vpcflowlogs/us-east-1/%s/%s_vpcflowlogs_us-east-1_fl-test_%s_h.log.gz",
		acct, day.Format("2006/01/02"), acct, day.Format("20060102T1504Z"))
	return put(name, source.Gzip([]byte(strings.Join(lines, "\n")+"\n")))
}
