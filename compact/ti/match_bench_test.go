package ti

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"gopkg.in/yaml.v3"
)

// The benchmark data is generated inside DuckDB: a flow table shaped like vpc_flow (the columns the match
// reads) and a ti_indicators table of single IPs and CIDRs /8–/24, bogon-free, as feeds deliver them.
//
//	go test ./compact/ti -run '^$' -bench BenchmarkMatchV4 -benchtime 1x -timeout 2h
//
// Strategy "hunt" runs the shipped ti-ip-vpc-flow hunt's query (hunts/library) over a vpc_flow-shaped copy
// of the flows; it must find what the bare matches find.
//
// LAKEHUNT_TI_BENCH_FLOWS (default 50,000,000) and LAKEHUNT_TI_BENCH_INDICATORS (default 100,000) set the
// sizes; LAKEHUNT_TI_BENCH_DIR keeps the generated Parquet files between runs; LAKEHUNT_TI_BENCH_STRATEGIES
// picks strategies (comma-separated, default all).

// genIndicatorsSQL creates table ti: 90% single public IPv4 addresses, 10% CIDRs (60% /24, 25% /20–/23,
// 13% /16–/19, 1.8% /12–/15, 0.2% /8–/11), none touching bogon space. {N} is the number of indicators.
const genIndicatorsSQL = `
CREATE OR REPLACE MACRO public_v4(h) AS 16777216 + (h % 3707764736)::BIGINT; -- 1.0.0.0 .. 223.255.255.255
CREATE OR REPLACE TABLE bogon AS SELECT * FROM (VALUES
  (0, 16777215), (167772160, 184549375), (1681915904, 1686110207), (2130706432, 2147483647),
  (2851995648, 2852061183), (2886729728, 2887778303), (3221225472, 3221225727), (3232235520, 3232301055),
  (3323068416, 3323199487)) b(lo, hi);
CREATE OR REPLACE TABLE ti AS
WITH singles AS (
  SELECT DISTINCT public_v4(hash(k, 'single')) AS s FROM range({SINGLES} * 11 // 10) r(k)
), cidr_raw AS (
  SELECT CASE WHEN k % 1000 < 600 THEN 24 WHEN k % 1000 < 850 THEN 20 + k % 4
              WHEN k % 1000 < 980 THEN 16 + k % 4 WHEN k % 1000 < 998 THEN 12 + k % 4 ELSE 8 + k % 4 END AS len,
         public_v4(hash(k, 'cidr')) AS base
  FROM range({CIDRS} * 12 // 10) r(k)
), cidrs AS (
  SELECT DISTINCT (base >> (32 - len)) << (32 - len) AS s, ((base >> (32 - len)) << (32 - len)) + (1 << (32 - len)) - 1 AS e, len
  FROM cidr_raw
), clean AS (
  (SELECT 'ipv4' AS type, s AS start_v4, s AS end_v4, 32 AS len FROM singles
   WHERE NOT EXISTS (SELECT 1 FROM bogon WHERE s BETWEEN lo AND hi) ORDER BY hash(s) LIMIT {SINGLES})
  UNION ALL
  (SELECT 'cidr4', s, e, len FROM cidrs
   WHERE NOT EXISTS (SELECT 1 FROM bogon WHERE s <= hi AND lo <= e) ORDER BY hash(s) LIMIT {CIDRS})
)
SELECT 'bench' AS feed,
       ((start_v4 >> 24) & 255) || '.' || ((start_v4 >> 16) & 255) || '.' || ((start_v4 >> 8) & 255) || '.' || (start_v4 & 255)
         || CASE WHEN len = 32 THEN '' ELSE '/' || len END AS indicator,
       type, start_v4, end_v4, TIMESTAMP '2024-05-01' AS valid_from, CAST(NULL AS TIMESTAMP) AS valid_to
FROM clean`

// genFlowsSQL writes {N} flow records over 30 days: 2,000 instances in 10.0.0.0/16 talking to remote
// addresses that are 60% from a pool of 200,000 popular hosts, 37% uniformly random, 3% listed single IPs;
// half the records are instance→remote; 10% carry a different pkt-srcaddr (NAT/load balancer).
const genFlowsSQL = `
COPY (
  WITH r AS (SELECT i, hash(i, 'a') AS h1, hash(i, 'b') AS h2, hash(i, 'c') AS h3 FROM range({N}) t(i)),
  x AS (
    SELECT i, h1, h2, h3, 167772160 + (h2 % 2000)::BIGINT AS local_v4,
           CASE WHEN h3 % 100 < 60 THEN public_v4(hash(h3 % 200000, 'pool'))
                WHEN h3 % 100 < 97 THEN public_v4(hash(i, 'rand'))
                ELSE public_v4(hash(h3 % {SINGLES}, 'single')) END AS remote_v4
    FROM r)
  SELECT TIMESTAMP '2024-04-01' + to_seconds((h1 % 2592000)::BIGINT) AS event_time,
         '123456789012' AS account_id, 'us-east-1' AS region,
         'i-0' || lpad(format('{:x}', h2 % 2000), 16, '0') AS instance_id,
         'eni-0' || lpad(format('{:x}', h2 % 2000), 16, '0') AS interface_id,
         CASE WHEN h1 % 2 = 0 THEN local_v4 ELSE remote_v4 END AS srcaddr_v4,
         CASE WHEN h1 % 2 = 0 THEN remote_v4 ELSE local_v4 END AS dstaddr_v4,
         CASE WHEN h2 % 10 = 0 THEN public_v4(hash(i, 'nat')) WHEN h1 % 2 = 0 THEN local_v4 ELSE remote_v4 END AS pkt_srcaddr_v4,
         CASE WHEN h1 % 2 = 0 THEN remote_v4 ELSE local_v4 END AS pkt_dstaddr_v4,
         CASE WHEN h3 % 10 = 0 THEN 'REJECT' ELSE 'ACCEPT' END AS action,
         CASE WHEN h1 % 2 = 0 THEN 'egress' ELSE 'ingress' END AS flow_direction,
         [2, 18, 19, 3, 1][(h2 % 5)::INT + 1]::INTEGER AS tcp_flags,
         (1 + h1 % 20)::BIGINT AS packets, (60 + h2 % 20000)::BIGINT AS bytes
  FROM x
) TO '{PATH}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 262144)`

// genHuntFlowsSQL widens the benchmark flows to the vpc_flow columns the ti-ip-vpc-flow hunt reads.
const genHuntFlowsSQL = `
CREATE OR REPLACE MACRO ipv4_text(n) AS
  ((n >> 24) & 255)::VARCHAR || '.' || ((n >> 16) & 255)::VARCHAR || '.' || ((n >> 8) & 255)::VARCHAR || '.' || (n & 255)::VARCHAR;
COPY (
  SELECT event_time, account_id, region, 'vpc-0a1b2c3d' AS vpc_id, instance_id, interface_id,
         ipv4_text(srcaddr_v4) AS srcaddr, ipv4_text(dstaddr_v4) AS dstaddr,
         ipv4_text(pkt_srcaddr_v4) AS pkt_srcaddr, ipv4_text(pkt_dstaddr_v4) AS pkt_dstaddr,
         srcaddr_v4, dstaddr_v4, pkt_srcaddr_v4, pkt_dstaddr_v4,
         (1024 + hash(srcaddr_v4) % 60000)::INTEGER AS srcport, 443::INTEGER AS dstport, 6::INTEGER AS protocol,
         packets, bytes, action, tcp_flags, flow_direction,
         'AWSLogs/123456789012/vpcflowlogs/us-east-1/2024/04/01/bench.log.gz' AS source_key, 1::BIGINT AS source_line
  FROM read_parquet('{FLOWS}')
) TO '{PATH}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 262144)`

// huntFile is the shipped hunt the "hunt" strategy runs.
var huntFile = filepath.Join("..", "..", "hunts", "library", "ti-ip-vpc-flow.yaml")

// matchStrategies are the ways to join flow addresses with indicator ranges that the benchmark compares.
// Each defines table m(side, addr, feed, indicator, ...flow columns) from a (one row per flow address).
var matchStrategies = map[string]string{
	// The winner (BENCHMARKS.md), used by the hunts through ti_ip_buckets() and ip_bucket(): every indicator, single IPs included,
	// once per /16 it covers; a hash join on the address's /16, BETWEEN as the residual check.
	"bucket16": `
  m AS (
    SELECT a.*, t.feed, t.indicator FROM a JOIN (
      SELECT *, unnest(range(start_v4 >> 16, (end_v4 >> 16) + 1)) AS bucket16 FROM ti WHERE valid_to IS NULL) t
    ON a.addr >> 16 = t.bucket16 AND a.addr BETWEEN t.start_v4 AND t.end_v4)`,
	// Single IPs by hash equality, CIDRs through the /16 buckets: a reads a twice, so DuckDB materialises
	// the unnested flow addresses (the memory goes there).
	"hash-eq+bucket16": `
  m AS (
    SELECT a.*, t.feed, t.indicator FROM a JOIN ti t ON a.addr = t.start_v4
    WHERE t.start_v4 = t.end_v4 AND t.valid_to IS NULL
    UNION ALL
    SELECT a.*, t.feed, t.indicator FROM a JOIN (
      SELECT *, unnest(range(start_v4 >> 16, (end_v4 >> 16) + 1)) AS bucket16 FROM ti
      WHERE start_v4 < end_v4 AND valid_to IS NULL) t
    ON a.addr >> 16 = t.bucket16 AND a.addr BETWEEN t.start_v4 AND t.end_v4)`,
	// DuckDB's own range join (IEJoin / piecewise merge join) on BETWEEN: it sorts both sides.
	"range-join": `
  m AS (
    SELECT a.*, t.feed, t.indicator FROM a JOIN ti t ON a.addr BETWEEN t.start_v4 AND t.end_v4
    WHERE t.valid_to IS NULL)`,
}

// matchQuery is the shape of the ti-ip-vpc-flow hunt: every flow address (src, dst, and pkt-* when they
// differ) against the listed indicators, one row per (indicator, instance) with the evidence aggregates.
func matchQuery(strategy string) string {
	return `
WITH f AS (
  SELECT * FROM flows WHERE event_time >= TIMESTAMP '2024-04-01' AND event_time < TIMESTAMP '2024-05-01'),
  a AS (
    -- unnest in the select list: a lateral unnest in FROM is 60x slower in DuckDB 1.5.
    SELECT * EXCLUDE (u), u.side, u.addr FROM (SELECT *, unnest([
      {'side': 'src', 'addr': srcaddr_v4}, {'side': 'dst', 'addr': dstaddr_v4},
      {'side': 'src', 'addr': CASE WHEN pkt_srcaddr_v4 <> srcaddr_v4 THEN pkt_srcaddr_v4 END},
      {'side': 'dst', 'addr': CASE WHEN pkt_dstaddr_v4 <> dstaddr_v4 THEN pkt_dstaddr_v4 END}]) AS u FROM f)
    WHERE u.addr IS NOT NULL),` + matchStrategies[strategy] + `
SELECT feed, indicator, coalesce(instance_id, interface_id) AS asset, count(*) AS flows,
       count_if(action = 'ACCEPT' AND side = 'dst') AS accepted_to_listed,
       count_if(action = 'REJECT' AND side = 'src') AS rejected_from_listed,
       sum(bytes) AS bytes, sum(packets) AS packets, min(event_time) AS first_seen, max(event_time) AS last_seen
FROM m GROUP BY ALL`
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// benchData generates (or reuses) the indicator and flow Parquet files.
func benchData(tb testing.TB, flows, indicators int, dir string) (tiPath, flowPath string) {
	ctx := context.Background()
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	singles, cidrs := indicators*9/10, indicators-indicators*9/10
	repl := strings.NewReplacer("{SINGLES}", strconv.Itoa(singles), "{CIDRS}", strconv.Itoa(cidrs), "{N}", strconv.Itoa(flows))
	mustExec(tb, db, repl.Replace(genIndicatorsSQL))
	tiPath = filepath.Join(dir, fmt.Sprintf("ti-%d.parquet", indicators))
	mustExec(tb, db, fmt.Sprintf("COPY ti TO '%s' (FORMAT parquet, COMPRESSION zstd)", tiPath))
	flowPath = filepath.Join(dir, fmt.Sprintf("flows-%d-%d.parquet", flows, indicators))
	if _, err := os.Stat(flowPath); err != nil {
		t0 := time.Now()
		mustExec(tb, db, strings.NewReplacer("{PATH}", flowPath).Replace(repl.Replace(genFlowsSQL)))
		tb.Logf("generated %d flows in %s", flows, time.Since(t0).Round(time.Second))
	}
	var n int
	if err := db.QueryRowContext(ctx, "SELECT count(*) FROM ti").Scan(&n); err != nil || n != indicators {
		tb.Fatalf("generated %d indicators, want %d (%v)", n, indicators, err)
	}
	return tiPath, flowPath
}

func mustExec(tb testing.TB, db *sql.DB, q string) {
	tb.Helper()
	if _, err := db.Exec(q); err != nil {
		tb.Fatalf("%v\n%s", err, q)
	}
}

// peakRSS is the process's peak resident set size (VmHWM) in MiB.
func peakRSS() float64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

type matchResult struct {
	Findings, Flows  int64
	Seconds, PeakMiB float64
}

// TestMatchWorker is the child process of BenchmarkMatchV4: it runs one strategy over the generated files
// in a fresh process, so the peak RSS it reports is the match's own (DuckDB keeps memory it once used).
func TestMatchWorker(t *testing.T) {
	strategy := os.Getenv("LAKEHUNT_TI_MATCH_WORKER")
	if strategy == "" {
		t.Skip("child process of BenchmarkMatchV4")
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tiPath, flowPath := os.Getenv("LAKEHUNT_TI_MATCH_TI"), os.Getenv("LAKEHUNT_TI_MATCH_FLOWS")
	q := "SELECT count(*), coalesce(sum(flows), 0) FROM (" + matchQuery(strategy) + ")"
	var args []any
	if strategy == "hunt" {
		var h struct{ Query string }
		b, err := os.ReadFile(huntFile)
		if err == nil {
			err = yaml.Unmarshal(b, &h)
		}
		if err != nil {
			t.Fatal(err)
		}
		q = "SELECT count(*), coalesce(sum(event_count), 0) FROM (" + h.Query + ")"
		args = []any{sql.Named("window_start", time.Date(2024, 4, 1, 0, 0, 0, 0, time.UTC)), sql.Named("window_end", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC))}
		mustExec(t, db, "SET TimeZone = 'UTC'")
		mustExec(t, db, fmt.Sprintf("CREATE VIEW vpc_flow AS SELECT * FROM read_parquet('%s')", flowPath))
		mustExec(t, db, fmt.Sprintf(`CREATE VIEW ti_indicators AS SELECT feed, indicator, type, start_v4, end_v4,
			CAST(NULL AS VARCHAR) AS start_v6, CAST(NULL AS VARCHAR) AS end_v6, CAST(NULL AS INTEGER) AS confidence,
			'' AS malware_family, valid_from, valid_to FROM read_parquet('%s')`, tiPath))
		for _, m := range MatchMacros { // the hunt engine registers these in every hunt session
			mustExec(t, db, m.SQL)
		}
	} else {
		mustExec(t, db, fmt.Sprintf("CREATE VIEW ti AS SELECT * FROM read_parquet('%s')", tiPath))
		mustExec(t, db, fmt.Sprintf("CREATE VIEW flows AS SELECT * FROM read_parquet('%s')", flowPath))
	}
	var r matchResult
	t0 := time.Now()
	if err := db.QueryRow(q, args...).Scan(&r.Findings, &r.Flows); err != nil {
		t.Fatalf("%s: %v", strategy, err)
	}
	r.Seconds, r.PeakMiB = time.Since(t0).Seconds(), peakRSS()
	b, _ := json.Marshal(r)
	fmt.Printf("MATCHRESULT %s\n", b)
}

func runMatch(tb testing.TB, strategy, tiPath, flowPath string) matchResult {
	cmd := exec.Command(os.Args[0], "-test.run", "^TestMatchWorker$", "-test.v")
	cmd.Env = append(os.Environ(), "LAKEHUNT_TI_MATCH_WORKER="+strategy, "LAKEHUNT_TI_MATCH_TI="+tiPath, "LAKEHUNT_TI_MATCH_FLOWS="+flowPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", strategy, err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if rest, ok := strings.CutPrefix(l, "MATCHRESULT "); ok {
			var r matchResult
			if err := json.Unmarshal([]byte(rest), &r); err != nil {
				tb.Fatal(err)
			}
			return r
		}
	}
	tb.Fatalf("%s: no result in\n%s", strategy, out)
	return matchResult{}
}

// huntFlows writes (once) the vpc_flow-shaped copy of the benchmark flows next to them.
func huntFlows(tb testing.TB, flowPath string) string {
	out := strings.TrimSuffix(flowPath, ".parquet") + "-vpcflow.parquet"
	if _, err := os.Stat(out); err == nil {
		return out
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	mustExec(tb, db, strings.NewReplacer("{FLOWS}", flowPath, "{PATH}", out).Replace(genHuntFlowsSQL))
	return out
}

func BenchmarkMatchV4(b *testing.B) {
	flows := envInt("LAKEHUNT_TI_BENCH_FLOWS", 50_000_000)
	indicators := envInt("LAKEHUNT_TI_BENCH_INDICATORS", 100_000)
	dir := os.Getenv("LAKEHUNT_TI_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	tiPath, flowPath := benchData(b, flows, indicators, dir)
	strategies := []string{"bucket16", "hash-eq+bucket16", "range-join", "hunt"}
	if s := os.Getenv("LAKEHUNT_TI_BENCH_STRATEGIES"); s != "" {
		strategies = strings.Split(s, ",")
	}
	var want *matchResult
	for _, s := range strategies {
		flows := flowPath
		switch _, ok := matchStrategies[s]; {
		case s == "hunt":
			if _, err := os.Stat(huntFile); err != nil {
				b.Logf("skipping the hunt: %v", err)
				continue
			}
			flows = huntFlows(b, flowPath)
		case !ok:
			b.Fatalf("unknown strategy %q", s)
		}
		b.Run(s, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				got := runMatch(b, s, tiPath, flows)
				b.ReportMetric(got.Seconds, "s/match")
				b.ReportMetric(got.PeakMiB, "MiB-peak-RSS")
				b.ReportMetric(float64(got.Flows), "matched-flow-addrs")
				b.ReportMetric(float64(got.Findings), "findings")
				if want == nil {
					want = &got
				} else if got.Findings != want.Findings || got.Flows != want.Flows {
					b.Fatalf("%s found %+v, the first strategy %+v", s, got, *want)
				}
			}
		})
	}
}
