package engine

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
	"github.com/lakehunt/lakehunt/lake"
)

// rawViews are DuckDB views that present raw AWS log objects (as AWS delivers them to S3) under the lake's
// table names and columns, so that a hunt's own SQL runs over raw JSON unchanged: the way to answer the
// same question without lakehunt's lake. Columns no shipped hunt of the comparison reads are NULL.
// CloudTrail is not deduplicated here (that would only slow the raw side further), so result rows are
// compared by entity, not by count.
var rawViews = map[string]func(globs string) string{
	lake.TableCloudTrail: func(globs string) string {
		return `SELECT (e->>'eventTime')::TIMESTAMP AS event_time,
  coalesce(e->>'recipientAccountId', '') AS account_id, e->>'awsRegion' AS region,
  e->>'eventID' AS event_id, e->>'eventVersion' AS event_version, e->>'eventName' AS event_name,
  e->>'eventSource' AS event_source, e->>'eventType' AS event_type, e->>'eventCategory' AS event_category,
  (e->>'readOnly')::BOOLEAN AS read_only, (e->>'managementEvent')::BOOLEAN AS management_event,
  e->>'sourceIPAddress' AS source_ip_address, e->>'userAgent' AS user_agent,
  e->>'errorCode' AS error_code, e->>'errorMessage' AS error_message,
  e->'userIdentity'->>'type' AS user_identity_type, e->'userIdentity'->>'arn' AS user_identity_arn,
  e->'userIdentity'->>'accountId' AS user_identity_account_id, e->'userIdentity'->>'principalId' AS user_identity_principal_id,
  e->'userIdentity'->>'userName' AS user_identity_user_name, e->'userIdentity'->>'invokedBy' AS user_identity_invoked_by,
  coalesce(e->'userIdentity'->'sessionContext'->'sessionIssuer'->>'arn', e->'userIdentity'->>'arn') AS principal_arn,
  e->'userIdentity'->>'accessKeyId' AS access_key_id,
  e->'userIdentity'->'sessionContext'->'sessionIssuer'->>'arn' AS session_issuer_arn,
  e->'userIdentity'->'sessionContext'->'sessionIssuer'->>'type' AS session_issuer_type,
  (e->'userIdentity'->'sessionContext'->'attributes'->>'mfaAuthenticated')::BOOLEAN AS session_mfa_authenticated,
  e->>'requestID' AS request_id, e->>'sharedEventID' AS shared_event_id, e->>'recipientAccountId' AS recipient_account_id,
  e->>'vpcEndpointId' AS vpc_endpoint_id, e->'tlsDetails'->>'cipherSuite' AS tls_cipher_suite,
  e->'requestParameters' AS request_parameters, e->'responseElements' AS response_elements,
  e->'additionalEventData' AS additional_event_data, e->'serviceEventDetails' AS service_event_details,
  e->'resources' AS resources, e->'userIdentity' AS user_identity,
  filename AS source_key, CAST(NULL AS BIGINT) AS source_line, CAST(NULL AS TIMESTAMP) AS ingested_at
FROM (SELECT unnest(Records) AS e, filename FROM read_json([` + globs + `], columns = {Records: 'JSON[]'},
      format = 'auto', maximum_object_size = 1073741824, filename = true))`
	},
	lake.TableRoute53Resolver: func(globs string) string {
		return `SELECT (j->>'query_timestamp')::TIMESTAMP AS event_time, j->>'account_id' AS account_id, j->>'region' AS region,
  j->>'version' AS version, j->>'vpc_id' AS vpc_id, j->>'query_name' AS query_name, j->>'query_type' AS query_type,
  j->>'query_class' AS query_class, j->>'rcode' AS rcode, j->'answers' AS answers, j->>'srcaddr' AS srcaddr,
  (j->>'srcport')::INTEGER AS srcport, j->>'transport' AS transport, j->'srcids' AS srcids,
  j->'srcids'->>'instance' AS srcids_instance, j->'srcids'->>'resolver_endpoint' AS srcids_resolver_endpoint,
  j->'srcids'->>'resolver_network_interface' AS srcids_resolver_network_interface,
  j->>'firewall_rule_action' AS firewall_rule_action, j->>'firewall_rule_group_id' AS firewall_rule_group_id,
  j->>'firewall_domain_list_id' AS firewall_domain_list_id,
  filename AS source_key, CAST(NULL AS BIGINT) AS source_line, CAST(NULL AS TIMESTAMP) AS ingested_at
FROM (SELECT json AS j, filename FROM read_ndjson_objects([` + globs + `], filename = true))`
	},
}

// rawGlobs lists the raw object globs of the days [from, to) touches, as a user querying raw logs would
// narrow the S3 prefixes by date (AWS's key layout has the day in it).
func rawGlobs(raw, table string, from, to time.Time) string {
	var out []string
	for d := midnight(from); d.Before(to); d = d.AddDate(0, 0, 1) {
		day := d.Format("2006/01/02")
		var g string
		switch table {
		case lake.TableCloudTrail:
			g = filepath.Join(raw, "AWSLogs", "*", "CloudTrail", "*", day, "*.json.gz")
		case lake.TableRoute53Resolver:
			g = filepath.Join(raw, "AWSLogs", "*", "vpcdnsquerylogs", "*", day, "*.log.gz")
		}
		out = append(out, literal(g))
	}
	return strings.Join(out, ", ")
}

// BenchmarkRawVsLake answers the same question two ways with the same DuckDB and the same hunt SQL:
// over raw AWS logs (JSON, gzip, in their S3 layout, pruned to the window's days by key) and over the lake.
// It needs a raw tree and the lake compacted from it (scripts/bench.sh provides both):
//
//	LAKEHUNT_RAWLAKE_RAW=DIR LAKEHUNT_RAWLAKE_LAKE=DIR LAKEHUNT_RAWLAKE_FROM=2025-06-08 LAKEHUNT_RAWLAKE_TO=2025-06-15 \
//	  go test ./hunts/engine -run '^$' -bench RawVsLake -benchtime 1x
//
// Each sub-benchmark reports raw_s, lake_s and the ratio; both sides must find the same entities.
func BenchmarkRawVsLake(b *testing.B) {
	raw, lakeDir := os.Getenv("LAKEHUNT_RAWLAKE_RAW"), os.Getenv("LAKEHUNT_RAWLAKE_LAKE")
	if raw == "" || lakeDir == "" {
		b.Skip("set LAKEHUNT_RAWLAKE_RAW and LAKEHUNT_RAWLAKE_LAKE (scripts/bench.sh does)")
	}
	from, err1 := time.Parse(time.DateOnly, os.Getenv("LAKEHUNT_RAWLAKE_FROM"))
	to, err2 := time.Parse(time.DateOnly, os.Getenv("LAKEHUNT_RAWLAKE_TO"))
	if err1 != nil || err2 != nil {
		b.Fatal("set LAKEHUNT_RAWLAKE_FROM and LAKEHUNT_RAWLAKE_TO as YYYY-MM-DD")
	}
	ctx := context.Background()
	lk, err := lake.Open(ctx, lakeDir, lake.Options{Create: true})
	if err != nil {
		b.Fatal(err)
	}
	snap, err := lk.Snapshot(ctx)
	if err != nil {
		b.Fatal(err)
	}
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: library.FS, Name: "hunts/library"})
	if err != nil || len(diags) > 0 {
		b.Fatalf("load library: %v %v", err, diags)
	}
	for _, id := range []string{"cloudtrail-logging-evasion", "suspicious-user-agents", "dns-tunnelling"} {
		i := slices.IndexFunc(hs, func(h *huntfile.Hunt) bool { return h.ID == id })
		if i < 0 {
			b.Fatalf("hunt %s is not in the library", id)
		}
		h := hs[i]
		w := HuntWindow(h, from, to)
		b.Run(id, func(b *testing.B) {
			for b.Loop() {
				t0 := time.Now()
				rawRes := runOver(b, h, w, func(s *Session) {
					for _, t := range h.Tables {
						view, ok := rawViews[t]
						if !ok {
							b.Fatalf("no raw view for table %s", t)
						}
						if _, err := s.db.ExecContext(ctx, fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", ident(t), view(rawGlobs(raw, t, w.Start, w.End)))); err != nil {
							b.Fatalf("raw view %s: %v", t, err)
						}
					}
				})
				rawS := time.Since(t0).Seconds()
				t0 = time.Now()
				lakeRes := runOver(b, h, w, func(s *Session) {
					for _, t := range h.Tables {
						table, _ := lake.LookupTable(t)
						paths, err := lk.LocalPaths(ctx, snap.FilesFor(t, w.Start, w.End))
						if err != nil {
							b.Fatal(err)
						}
						if err := s.createView(ctx, table, paths); err != nil {
							b.Fatal(err)
						}
					}
				})
				lakeS := time.Since(t0).Seconds()
				if r, l := entities(h, rawRes), entities(h, lakeRes); !slices.Equal(r, l) {
					b.Fatalf("%s: raw and lake disagree: raw %d entities %v, lake %d entities %v", id, len(r), r, len(l), l)
				}
				b.ReportMetric(rawS, "raw_s")
				b.ReportMetric(lakeS, "lake_s")
				b.ReportMetric(rawS/lakeS, "raw/lake")
				b.ReportMetric(float64(len(lakeRes.Rows)), "entities")
			}
		})
	}
}

// runOver runs h's SQL in a fresh session whose table views setup creates.
func runOver(b *testing.B, h *huntfile.Hunt, w Window, setup func(*Session)) *Result {
	ctx := context.Background()
	s, err := NewSession(ctx, nil, Limits{AllowExternalAccess: true}) // the raw views read raw log files
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	setup(s)
	for _, dt := range h.DataTables {
		if err := s.LoadData(ctx, dt); err != nil {
			b.Fatal(err)
		}
	}
	res, err := s.Query(ctx, h.Query, w)
	if err != nil {
		b.Fatalf("%s: %v", h.ID, err)
	}
	return res
}

// entities are the sorted entity keys of a result.
func entities(h *huntfile.Hunt, res *Result) []string {
	col := slices.IndexFunc(res.Columns, func(c Column) bool { return c.Name == h.Output.Entity.Key })
	var out []string
	for _, row := range res.Rows {
		key := fmt.Sprint(row[col])
		for _, q := range h.Output.Entity.Qualifiers {
			if j := slices.IndexFunc(res.Columns, func(c Column) bool { return c.Name == q }); j >= 0 {
				key += "|" + fmt.Sprint(row[j])
			}
		}
		out = append(out, key)
	}
	slices.Sort(out)
	return out
}
