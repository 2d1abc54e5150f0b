package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
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

	// compact creates the lake (on S3 too); then it reads.
	raw := filepath.Join(dir, "raw")
	writeTrail(t, raw, time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC))
	if _, code := run(t, append([]string{"compact", "--from", raw, "--lake", s3lake}, s3...)...); code != exitOK {
		t.Fatalf("compact into a new S3 lake: exit %d", code)
	}
	if out, code := run(t, append([]string{"query", "--lake", s3lake, "--format", "csv", "SELECT count(*) AS n FROM cloudtrail"}, s3...)...); code != exitOK || out != "n\n1\n" {
		t.Errorf("query of a new S3 lake: exit %d %q", code, out)
	}
}

// A hunt run whose window holds none of the data a hunt reads says so on stderr, in run.json, in the
// report, and exits 3; so does a scheduled tick; status shows how old the newest data is.
func TestEmptyWindowIsNotClean(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	day := time.Date(2025, 6, 16, 0, 0, 0, 0, time.UTC)
	writeTrail(t, raw, day.Add(3*time.Hour), day.Add(4*time.Hour))
	if _, code := run(t, "compact", "--from", raw, "--lake", lk); code != exitOK {
		t.Fatalf("compact: exit %d", code)
	}

	rd := filepath.Join(dir, "run")
	out, errs, code := cli(t, "hunt", "run", "--lake", lk, "--last", "168h", "--out", rd,
		"--hunt", "cloudtrail-logging-evasion", "--hunt", "suspicious-user-agents")
	want := "(newest: 2025-06-16T04:00Z); hunts cloudtrail-logging-evasion, suspicious-user-agents checked nothing"
	if code != exitBadInput || !strings.Contains(errs, "warning: no cloudtrail data in ") || !strings.Contains(errs, want) {
		t.Errorf("hunt run over a window without data: exit %d, want %d and a warning ending %q\nstderr: %s", code, exitBadInput, want, errs)
	}
	if !strings.Contains(out, "2 hunts, 0 failed, 2 without data, 0 findings") {
		t.Errorf("summary does not count the hunts without data:\n%s", out)
	}
	var rj lake.Run
	if b, err := os.ReadFile(filepath.Join(rd, lake.RunFile)); err != nil || json.Unmarshal(b, &rj) != nil {
		t.Fatalf("run.json: %v", err)
	}
	// Coverage lists every table; only cloudtrail was hunted.
	var hunted []lake.Coverage
	for _, c := range rj.Coverage {
		if !c.Unread {
			hunted = append(hunted, c)
		}
	}
	if len(rj.Hunts) != 2 || strings.Join(rj.Hunts[0].NoData, ",") != "cloudtrail" || len(hunted) != 1 || hunted[0].Table != "cloudtrail" || hunted[0].Rows != 0 ||
		!hunted[0].Newest.Equal(day.Add(4*time.Hour)) {
		t.Errorf("run.json does not record the empty window: hunts %+v coverage %+v", rj.Hunts, rj.Coverage)
	}
	if b, _ := os.ReadFile(filepath.Join(rd, "report.html")); !strings.Contains(string(b), `id="no-data"`) || strings.Contains(string(b), "panel good") {
		t.Error("report.html of a run over no data is not amber 'no data'")
	}
	// Over the data: clean, exit 0.
	if _, errs, code := cli(t, "hunt", "run", "--lake", lk, "--from", "2025-06-16", "--to", "2025-06-17", "--out", filepath.Join(dir, "run-ok"),
		"--hunt", "cloudtrail-logging-evasion"); code != exitOK || strings.Contains(errs, "warning") {
		t.Errorf("hunt run over the data: exit %d\n%s", code, errs)
	}

	// status: how fresh each table is.
	hunts := writeHuntDir(t, "")
	out, _, code = cli(t, "status", "--lake", lk, "--no-library", "--hunts", hunts, "--now", "2025-06-26T04:00:00Z")
	if code != exitOK || !strings.Contains(out, "TABLE") || !strings.Contains(out, "2025-06-16T04:00Z  10d0h") {
		t.Errorf("status does not show the newest cloudtrail event and its age: exit %d\n%s", code, out)
	}
	out, _, _ = cli(t, "status", "--lake", lk, "--no-library", "--hunts", hunts, "--now", "2025-06-26T04:00:00Z", "--json")
	type tableStatus struct {
		Table  string
		Rows   int64
		Newest time.Time
		Age    time.Duration `json:"age_ns"`
	}
	var st struct{ Tables []tableStatus }
	err := json.Unmarshal([]byte(out), &st)
	ct := slices.IndexFunc(st.Tables, func(tb tableStatus) bool { return tb.Table == "cloudtrail" })
	if err != nil || ct < 0 || st.Tables[ct].Rows != 2 || !st.Tables[ct].Newest.Equal(day.Add(4*time.Hour)) || st.Tables[ct].Age != 240*time.Hour {
		t.Errorf("status --json tables: %v %+v", err, st.Tables)
	}

	// A scheduled tick over an empty window: exit 3, a warning in the log; the period report is amber.
	runs := filepath.Join(dir, "runs")
	_, logs, code := cli(t, "run", "--due", "--lake", lk, "--runs", runs, "--no-library", "--hunts", hunts, "--now", "2025-06-26T00:30:00Z")
	if code != exitBadInput || !strings.Contains(logs, `"level":"WARN"`) || !strings.Contains(logs, "no cloudtrail data in 2025-06-25T12:00Z..2025-06-26T00:00Z (newest: 2025-06-16T04:00Z); hunt cli-stoplogging checked nothing") {
		t.Errorf("run --due over an empty window: exit %d, want %d and a warning\n%s", code, exitBadInput, logs)
	}
	period := filepath.Join(dir, "period.html")
	if _, errs, code := cli(t, "report", "--lake", lk, "--since", "1d", "--until", "2025-06-26T00:00:00Z", "--out", period); code != exitOK {
		t.Fatalf("report --lake: exit %d %s", code, errs)
	}
	if b, _ := os.ReadFile(period); !strings.Contains(string(b), `id="no-data"`) || strings.Contains(string(b), "panel good") {
		t.Error("the period report over an empty window is not amber 'no data'")
	}

	// A period whose only hunt failed is red.
	broken := writeHuntDir(t, "AND no_such_column = 1")
	if _, _, code := cli(t, "run", "--due", "--lake", lk, "--runs", runs, "--no-library", "--hunts", broken, "--now", "2025-06-26T12:30:00Z"); code != exitBadInput {
		t.Errorf("run --due with a failing hunt: exit %d", code)
	}
	if _, errs, code := cli(t, "report", "--lake", lk, "--since", "2025-06-26T00:00:00Z", "--until", "2025-06-26T12:00:00Z", "--out", period); code != exitOK {
		t.Fatalf("report --lake: exit %d %s", code, errs)
	}
	if b, _ := os.ReadFile(period); !strings.Contains(string(b), `<div class="panel alert" id="incomplete">`) || strings.Contains(string(b), "panel good") {
		t.Error("the period report of a failed hunt is not red 'incomplete'")
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
