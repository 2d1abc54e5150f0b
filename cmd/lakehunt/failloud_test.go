package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

// Every command that reads a lake fails on a location that holds none, naming it and how to create a
// lake, and leaves nothing behind; only compaction creates a lake.
func TestMissingLakeIsAnError(t *testing.T) {
	dir := t.TempDir()
	srv := s3test.Start(t)
	hunts := writeHuntDir(t, "")
	feed := filepath.Join(dir, "feed.txt")
	if err := os.WriteFile(feed, []byte("203.0.113.9\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(dir, "typo-lake")
	bucket := srv.Bucket(t, "lakes")
	s3lake := bucket + "typo-lake/"
	s3 := []string{"--s3-endpoint", srv.Endpoint, "--cache-dir", t.TempDir()}
	sched := []string{"--no-library", "--hunts", hunts}
	for _, c := range []struct {
		name string
		lake string
		args []string // --lake LAKE is appended
	}{
		{"query", local, []string{"query", "SELECT 1"}},
		{"hunt run", local, []string{"hunt", "run", "--out", filepath.Join(dir, "run"), "--last", "24h"}},
		{"status", local, append([]string{"status"}, sched...)},
		{"run --due without raw logs", local, append([]string{"run", "--due"}, sched...)},
		{"quarantine", local, []string{"quarantine"}},
		{"ti list", local, []string{"ti", "list"}},
		{"ti import", local, []string{"ti", "import", "--feed", "f", feed}},
		{"report --lake", local, []string{"report", "--since", "30d", "--out", filepath.Join(dir, "r.html")}},
		{"vacuum", local, []string{"vacuum"}},
		{"query on S3", s3lake, append([]string{"query", "SELECT 1"}, s3...)},
		{"hunt run on S3", s3lake, append([]string{"hunt", "run", "--out", filepath.Join(dir, "run-s3"), "--last", "24h"}, s3...)},
		{"vacuum on S3", s3lake, append([]string{"vacuum"}, s3...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errs, code := cli(t, append(c.args, "--lake", c.lake)...)
			want := "create a lake there with 'lakehunt compact --from RAW --lake " + c.lake + "'"
			if code != exitError || !strings.Contains(errs, "no lake at ") || !strings.Contains(errs, "typo-lake") || !strings.Contains(errs, want) {
				t.Errorf("exit %d, stderr %q, stdout %q; want exit %d and an error naming the location and %q", code, errs, out, exitError, want)
			}
			if _, err := os.Stat(local); !os.IsNotExist(err) {
				t.Fatalf("%s created %s", c.name, local)
			}
		})
	}
	objects := 0
	st, err := lake.OpenStore(t.Context(), bucket, lake.StoreOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.List(t.Context(), "", func(lake.ObjectInfo) error { objects++; return nil }); err != nil || objects != 0 {
		t.Errorf("reading a missing S3 lake wrote %d objects (%v)", objects, err)
	}
	// export reads a run directory, not a lake: a missing one is named too.
	if _, errs, code := cli(t, "export", "asff", "--run", filepath.Join(dir, "no-run")); code != exitError || !strings.Contains(errs, filepath.Join(dir, "no-run", "run.json")) {
		t.Errorf("export of a missing run directory: exit %d, %q", code, errs)
	}

	// compact creates the lake (on S3 too), even when it finds nothing to compact; then it reads as empty.
	raw := filepath.Join(dir, "raw")
	if err := os.MkdirAll(raw, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, code := run(t, append([]string{"compact", "--from", raw, "--lake", s3lake}, s3...)...); code != exitOK {
		t.Fatalf("compact into a new S3 lake: exit %d", code)
	}
	if out, code := run(t, append([]string{"query", "--lake", s3lake, "--format", "csv", "SELECT count(*) AS n FROM cloudtrail"}, s3...)...); code != exitOK || out != "n\n0\n" {
		t.Errorf("query of a new empty S3 lake: exit %d %q", code, out)
	}
}

// query runs exactly one statement: DuckDB would run all of them and show only the last one's rows.
func TestQueryTakesOneStatement(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	writeTrail(t, raw, time.Date(2025, 6, 16, 3, 0, 0, 0, time.UTC))
	if _, code := run(t, "compact", "--from", raw, "--lake", lk); code != exitOK {
		t.Fatalf("compact: exit %d", code)
	}
	for _, c := range []struct {
		sql, out string
		code     int
		errs     string
	}{
		{sql: "SELECT 1; SELECT 2", code: exitUsage, errs: "query takes one statement; the SQL text holds 2 statements"},
		{sql: "DROP VIEW cloudtrail; SELECT count(*) FROM cloudtrail", code: exitUsage, errs: "the SQL text holds 2 statements"},
		{sql: "SELECT ';' AS s, count(*) AS n FROM cloudtrail", code: exitOK, out: "s,n\n;,1\n"},
		{sql: "SELECT 'a;b' AS s; -- one statement, a comment", code: exitOK, out: "s\na;b\n"},
		{sql: "SELECT FROM WHERE", code: exitError, errs: "syntax error"},
	} {
		out, errs, code := cli(t, "query", "--lake", lk, "--format", "csv", c.sql)
		if code != c.code || !strings.Contains(errs, c.errs) || (c.out != "" && out != c.out) {
			t.Errorf("query %q: exit %d, stdout %q, stderr %q; want exit %d, %q, %q", c.sql, code, out, errs, c.code, c.out, c.errs)
		}
	}
}
