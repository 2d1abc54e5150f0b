package engine

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
)

// hostileHunt is a hunt with the given query and, if profile is not empty, one baseline profile (YAML
// keys of baseline.profiles[0] besides name and table).
func hostileHunt(t *testing.T, query, profile string) *huntfile.Hunt {
	t.Helper()
	y := `
id: hostile
version: 1
title: A hunt that reaches outside the lake
status: experimental
authors: [test]
hypothesis: hunt SQL reads the lake and nothing else
description: tries to reach outside the lake
attack: {tactics: [discovery], techniques: [T1580]}
severity: LOW
tables: [cloudtrail]
schedule: "@daily"
window: 24h
query: |
  ` + strings.ReplaceAll(query, "\n", "\n  ") + `
output:
  entity: {type: principal, key: n}
  title: "{{n}}"
  evidence: evidence
  types: ["TTPs/Discovery"]
  resources: [{type: Other, id: x}]
false_positives: [none]
tests: [{name: none, window: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z"}, expect: {count: 0}}]
`
	if profile != "" {
		y += "baseline:\n  window: 5d\n  cold_start: {min_days: 1, action: run}\n  profiles:\n    - name: p\n      table: cloudtrail\n      " +
			strings.ReplaceAll(strings.TrimSpace(profile), "\n", "\n      ") + "\n"
	}
	h, diags := huntfile.Parse(huntfile.Source{Name: "test"}, "hostile.yaml", []byte(y))
	if h == nil {
		t.Fatal(diags)
	}
	return h
}

// Hunt SQL reads the lake's tables and nothing else. Each hostile hunt fails as a hunt of the run with a
// message naming what it tried; the secret it reached for is nowhere in the run, and it wrote no file:
// neither its target nor anything in the baseline cache.
func TestHuntSQLReadsOnlyTheLake(t *testing.T) {
	ctx := context.Background()
	lk := plantedLake(t)
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.txt")
	if err := os.WriteFile(secret, []byte("TOPSECRET-7f3a\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(outside, "written")
	r := strings.NewReplacer("SECRET", secret, "TARGET", target, "OUTSIDE", outside)
	const values = "entity: principal_arn\nvalues: {api: event_name}"
	// A hunt's query in full: its rows fit the output mapping.
	const legit = `SELECT c.principal_arn AS n, min(account_id) AS account_id, min(region) AS region, min(event_time) AS first_seen,
  max(event_time) AS last_seen, count(*) AS event_count,
  list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line}) AS evidence
FROM cloudtrail c %s WHERE event_time >= $window_start AND event_time < $window_end GROUP BY 1`
	for _, c := range []struct {
		name, query, profile string
		want                 string // in the hunt's error; "" = the hunt succeeds
	}{
		{"a lake table", fmt.Sprintf(legit, ""), "", ""},
		{"a baseline profile, cached", fmt.Sprintf(legit, "JOIN (SELECT DISTINCT entity FROM p) ON entity = c.principal_arn"), values, ""},
		{"read_text", "SELECT content AS n FROM read_text('SECRET')", "", `outside the lake: Cannot access file "SECRET"`},
		{"read_csv", "SELECT column0 AS n FROM read_csv('SECRET', header = false)", "", `outside the lake: Cannot access file "SECRET"`},
		{"read_blob in a subquery", "SELECT (SELECT content FROM read_blob('SECRET'))::VARCHAR AS n", "", `outside the lake: Cannot access file "SECRET"`},
		{"glob", "SELECT file AS n FROM glob('OUTSIDE/*')", "", `outside the lake: Cannot access file "OUTSIDE/*"`},
		{"a file as a table", "SELECT * FROM 'SECRET'", "", `Table with name SECRET does not exist`},
		{"COPY TO", "COPY (SELECT 1 AS n) TO 'TARGET'", "", `outside the lake: Cannot access file "TARGET"`},
		{"EXPORT DATABASE", "EXPORT DATABASE 'TARGET'", "", `outside the lake: Cannot access directory "TARGET"`},
		{"ATTACH", "ATTACH 'TARGET' AS x", "", "ATTACH statements are not allowed here (only SELECT)"},
		{"SET", "SET memory_limit = '1TB'", "", "SET statements are not allowed here (only SELECT)"},
		{"INSTALL", "INSTALL httpfs", "", "INSTALL/LOAD statements are not allowed here (only SELECT)"},
		{"LOAD", "LOAD httpfs", "", "INSTALL/LOAD statements are not allowed here (only SELECT)"},
		{"CALL", "CALL duckdb_settings()", "", "CALL statements are not allowed here (only SELECT)"},
		{"CALL enable_logging", "CALL enable_logging(storage = 'file', storage_path = 'TARGET')", "", "enable_logging() is not allowed here"},
		{"enable_logging in a SELECT", "SELECT 1 AS n FROM enable_logging(storage = 'stdout')", "", "enable_logging() is not allowed here"},
		{"two statements", "SELECT 1 AS n;\nCOPY (SELECT 1) TO 'TARGET'", "", "give one SQL statement"},
		{"a SET before the SELECT", "SET threads = 64; SELECT 1 AS n", "", "give one SQL statement"},
		{"endless", "SELECT count(*)::VARCHAR AS n FROM range(1000000000000) a, range(1000000000000) b", "",
			"stopped: the hunt's SQL ran for its whole time limit of 2s"},
		{"a profile reads a file", "SELECT entity AS n FROM p", "entity: (SELECT content FROM read_text('SECRET'))\nvalues: {api: event_name}",
			`baseline profile 1: summarise cloudtrail 2024-08-15: SQL line 3: outside the lake: Cannot access file "SECRET"`},
		// The day's summary is COPY (WITH src AS (... WHERE <time> AND (<where>)) SELECT ...) TO 'cache' (...).
		{"a profile smuggles statements in", "SELECT entity AS n FROM p",
			"entity: principal_arn\nwhere: \"true)) SELECT 1) TO 'OUTSIDE/x.csv'; COPY (SELECT 1) TO 'TARGET'; COPY (WITH src AS (SELECT 1 AS x WHERE (true\"\nvalues: {api: event_name}",
			"baseline profile 1: summarise cloudtrail 2024-08-15: give one SQL statement"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cache := t.TempDir()
			h := hostileHunt(t, r.Replace(c.query), r.Replace(c.profile))
			start := time.Now()
			run, findings, err := Run(ctx, RunOptions{Lake: lk, Hunts: []*huntfile.Hunt{h}, To: mustTime("2024-08-21T00:00:00Z"),
				CacheDir: cache, Limits: Limits{Timeout: 2 * time.Second}})
			took := time.Since(start)
			if err != nil {
				t.Fatal(err)
			}
			hr := run.Hunts[0]
			t.Logf("%s in %s: %s", hr.Status, took.Round(time.Millisecond), hr.Error)
			if c.want == "" {
				if hr.Status != "ok" || len(findings) == 0 {
					t.Fatalf("status %s, %d findings, error %q; want ok with findings", hr.Status, len(findings), hr.Error)
				}
				return
			}
			if want := r.Replace(c.want); hr.Status != "failed" || !strings.Contains(hr.Error, want) {
				t.Errorf("status %s, error %q; want failed with %q", hr.Status, hr.Error, want)
			}
			if s := mustJSON(run) + mustJSON(findings); strings.Contains(s, "TOPSECRET") {
				t.Errorf("the secret reached the run: %s", s)
			}
			if _, err := os.Stat(target); !os.IsNotExist(err) {
				t.Errorf("%s was written (%v)", target, err)
			}
			_ = filepath.WalkDir(cache, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					t.Errorf("a failed hunt left %s in the baseline cache", p)
				}
				return nil
			})
			if took > 10*time.Second {
				t.Errorf("the hunt took %s; its time limit is 2s", took)
			}
		})
	}
}

// The cached baseline of the control case above proves the locked session still writes the cache; the
// session's scratch directory, where DuckDB wrote it first, goes with the session.
func TestSessionScratchGoesWithTheSession(t *testing.T) {
	s, err := NewSession(context.Background(), nil, Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := os.Stat(s.dir); !os.IsNotExist(err) {
		t.Errorf("scratch directory %s outlives the session (%v)", s.dir, err)
	}
}

func TestLimitsAreChecked(t *testing.T) {
	for _, c := range []struct {
		in   Limits
		want string
	}{
		{Limits{}, ""},
		{Limits{MemoryLimit: "512MB", Threads: 1, Timeout: time.Minute}, ""},
		{Limits{MemoryLimit: "1.5GiB"}, ""},
		{Limits{MemoryLimit: "lots"}, `memory limit "lots": give a size like 512MB`},
		{Limits{MemoryLimit: "25%"}, `memory limit "25%"`},
		{Limits{Threads: -1}, "threads -1"},
	} {
		got, err := c.in.WithDefaults()
		if c.want == "" && (err != nil || got.MemoryLimit == "" || got.Threads == 0 || got.Timeout == 0) {
			t.Errorf("%+v: %+v, %v; want defaults filled in", c.in, got, err)
		}
		if c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%+v: error %v, want %q", c.in, err, c.want)
		}
	}
}

// DuckDB's memory limit and the cap on result rows (which bounds the Go side) each fail the query with
// what to change.
func TestSessionLimitsMemoryAndRows(t *testing.T) {
	ctx := context.Background()
	s, err := NewSession(ctx, nil, Limits{MemoryLimit: "64MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = s.Query(ctx, "SELECT list(range) AS n FROM range(50000000)", Window{})
	if err == nil || !strings.Contains(err.Error(), "out of memory at the 64MB limit (hunts.memory_limit in lakehunt.yaml, --memory-limit)") {
		t.Errorf("a query over the memory limit: %v", err)
	}
	_, err = s.Query(ctx, fmt.Sprintf("SELECT range AS n FROM range(%d)", maxResultRows+1), Window{})
	if err == nil || !strings.Contains(err.Error(), "more than 1000000 rows") {
		t.Errorf("a query returning too many rows: %v", err)
	}
	if res, err := s.Query(ctx, fmt.Sprintf("SELECT range AS n FROM range(%d)", maxResultRows), Window{}); err != nil || len(res.Rows) != maxResultRows {
		t.Errorf("a query returning the most rows allowed: %v", err)
	}
}
