package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// cli runs the CLI in-process and returns stdout, stderr (with the error main would print) and the exit
// code it would exit with.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	root := newRootCmd()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	code := exitCode(root.ExecuteContext(context.Background()), &errb) // prints the error as main does
	return out.String(), errb.String(), code
}

const schedHunt = `id: cli-stoplogging
version: 1
title: StopLogging per principal
status: test
authors: [test]
hypothesis: Someone stops CloudTrail.
description: One finding per principal and window.
attack: {tactics: [defense-evasion], techniques: [T1562.008]}
severity: HIGH
tables: [cloudtrail]
schedule: "rate(12 hours)"
window: 12h
query: |
  SELECT principal_arn, min(account_id) AS account_id, min(region) AS region,
         count(*) AS event_count, min(event_time) AS first_seen, max(event_time) AS last_seen,
         list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line} ORDER BY event_time) AS evidence
  FROM cloudtrail
  WHERE event_time >= $window_start AND event_time < $window_end AND event_name = 'StopLogging' WHERE_EXTRA
  GROUP BY principal_arn
output:
  entity: {type: principal, key: principal_arn}
  title: "StopLogging by {{principal_arn}}"
  evidence: evidence
  types: ["TTPs/Defense Evasion/Logging Disabled"]
  resources:
    - {type: Other, id: "{{principal_arn}}"}
false_positives: [none]
tests:
  - name: placeholder
    window: {start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z"}
    expect: {count: 0}
`

func writeHuntDir(t *testing.T, extra string) string {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "cli-stoplogging.yaml"), []byte(strings.Replace(schedHunt, "WHERE_EXTRA", extra, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeTrail writes one CloudTrail file with a StopLogging call at each time.
func writeTrail(t *testing.T, raw string, times ...time.Time) {
	var recs []map[string]any
	for i, at := range times {
		recs = append(recs, map[string]any{
			"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339), "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
			"awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "eventID": fmt.Sprintf("cli-%d-%d", at.Unix(), i),
			"eventType": "AwsApiCall", "recipientAccountId": "111122223333",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/mallory", "accountId": "111122223333"},
		})
	}
	writeTrailObject(t, raw, times[0], "cli", recs)
}

// writeTrailObject writes recs as one CloudTrail object of account 111122223333, delivered at (its name
// and modification time): compact does not wait for it to settle.
func writeTrailObject(t *testing.T, raw string, at time.Time, tag string, recs []map[string]any) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	json.NewEncoder(zw).Encode(map[string]any{"Records": recs})
	zw.Close()
	p := filepath.Join(raw, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", at.Format("2006/01/02"),
		"111122223333_CloudTrail_us-east-1_"+at.Format("20060102T1504Z")+"_"+tag+".json.gz")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(p, at, at); err != nil {
		t.Fatal(err)
	}
}

func TestInitWritesAConfigThatLoads(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "lakehunt.yaml")
	if _, _, code := cli(t, "init", "--out", path, "--lake", "s3://sec-lake/lake/", "--from", "raw logs"); code != exitOK {
		t.Fatalf("init exit %d", code)
	}
	cfg, err := loadConfig(path)
	if err != nil {
		t.Fatalf("the file init wrote does not load: %v", err)
	}
	if cfg.Lake != "s3://sec-lake/lake/" || len(cfg.Raw) != 1 || cfg.Raw[0].URL != filepath.Join(dir, "raw logs") {
		t.Errorf("lake %q raw %+v: want the flags' values, local paths relative to the file", cfg.Lake, cfg.Raw)
	}
	if time.Duration(cfg.Schedule.Delay) != 15*time.Minute || time.Duration(cfg.Schedule.LateLookback) != 7*24*time.Hour || cfg.Schedule.MaxCatchUp != 24 {
		t.Errorf("schedule defaults %+v", cfg.Schedule)
	}
	if lim, err := cfg.Hunts.limits(); err != nil || lim.MemoryLimit != "1GB" || lim.Threads != 2 || lim.Timeout != 10*time.Minute {
		t.Errorf("hunts limits %+v (%v), want 1GB, 2 threads, 10m", lim, err)
	}
	if _, _, code := cli(t, "init", "--out", path); code != exitUsage {
		t.Errorf("init over an existing file: exit %d, want %d", code, exitUsage)
	}
	for _, c := range []struct{ text, want string }{
		{"lake: ./l\nschedule:\n  dealy: 5m\n", "line 3: field dealy not found"},
		{"schedule:\n  delay: soon\n", `duration "soon"`},
		{"accounts: [12345]\n", "12-digit"},
		{"raw:\n  - prefix: AWSLogs/\n", "raw[0] has no url"},
		{"hunts:\n  memory_limit: lots\n", `hunts: memory limit "lots": give a size like 512MB`},
		{"hunts:\n  timeout: forever\n", `duration "forever"`},
	} {
		bad := filepath.Join(dir, "bad.yaml")
		os.WriteFile(bad, []byte(c.text), 0o644)
		if _, err := loadConfig(bad); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), bad) {
			t.Errorf("config %q: error %v, want one naming the file and %q", c.text, err, c.want)
		}
	}
}

// TestRunDueExitCodes runs scheduled ticks through the CLI: exit codes, JSON logs, run directories,
// status, and a report over the period from the stored runs.
func TestRunDueExitCodes(t *testing.T) {
	dir := t.TempDir()
	raw, lk, runs := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "runs")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	writeTrail(t, raw, day.Add(3*time.Hour), day.Add(4*time.Hour))
	writeTrail(t, raw, day.Add(15*time.Hour)) // each 12-hour window has data: an empty one would exit 3
	hunts := writeHuntDir(t, "")
	base := []string{"run", "--due", "--lake", lk, "--from", raw, "--runs", runs, "--no-library", "--hunts", hunts}

	out, logs, code := cli(t, append(base, "--now", "2026-03-02T12:30:00Z")...)
	if code != exitOK {
		t.Fatalf("first tick: exit %d\n%s\n%s", code, out, logs)
	}
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil || rec["msg"] == nil || rec["level"] == nil {
			t.Errorf("log line is not slog JSON: %s", sc.Text())
		}
	}
	if !strings.Contains(logs, `"msg":"hunt window done"`) {
		t.Errorf("no structured log of the hunt window:\n%s", logs)
	}
	dirs, _ := filepath.Glob(filepath.Join(runs, "*", lake.RunFile))
	if len(dirs) != 1 {
		t.Fatalf("run directories %v, want 1", dirs)
	}
	for _, f := range []string{lake.FindingsFile, "report.html", "asff.json"} {
		if st, err := os.Stat(filepath.Join(filepath.Dir(dirs[0]), f)); err != nil || st.Size() == 0 {
			t.Errorf("run directory lacks %s: %v", f, err)
		}
	}
	// The scheduled run's finding groups get entity pages, stored with the run and linked from its report.
	pages, _ := filepath.Glob(filepath.Join(filepath.Dir(dirs[0]), "entities", "*.html"))
	stored, _ := os.ReadFile(filepath.Join(filepath.Dir(dirs[0]), "report.html"))
	if len(pages) == 0 || !strings.Contains(string(stored), `">entity page</a>`) {
		t.Errorf("stored run: entity pages %v, report links to one: %v", pages, strings.Contains(string(stored), "entity page</a>"))
	}

	if _, logs, code := cli(t, append(base, "--now", "2026-03-02T13:30:00Z")...); code != exitNothingDue {
		t.Errorf("second tick in the same window: exit %d, want %d (nothing due)\n%s", code, exitNothingDue, logs)
	}

	l, err := lake.Open(context.Background(), lk, lake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	lease, err := l.AcquireLease(context.Background(), "scheduler", "other-runner", 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if out, _, code := cli(t, append(base, "--now", "2026-03-03T00:31:00Z")...); code != exitBusy || !strings.Contains(out, "other-runner") {
		t.Errorf("tick while another holds the lease: exit %d, want %d: %s", code, exitBusy, out)
	}
	lease.Release(context.Background())

	// A broken hunt fails its window: exit 3, and status shows the failure.
	broken := writeHuntDir(t, "AND no_such_column = 1")
	failing := []string{"run", "--due", "--lake", lk, "--runs", runs, "--no-library", "--hunts", broken, "--now", "2026-03-03T00:31:00Z"}
	if _, logs, code := cli(t, failing...); code != exitBadInput || !strings.Contains(logs, "no_such_column") {
		t.Errorf("failing hunt: exit %d, want %d\n%s", code, exitBadInput, logs)
	}
	out, _, code = cli(t, "status", "--lake", lk, "--no-library", "--hunts", broken, "--now", "2026-03-03T00:40:00Z")
	if code != exitBadInput || !strings.Contains(out, "cli-stoplogging") || !strings.Contains(out, "failed 1 times") {
		t.Errorf("status with a failing window: exit %d\n%s", code, out)
	}
	// Fixed, it retries that window; status is clean.
	if _, logs, code := cli(t, append(base, "--now", "2026-03-03T00:45:00Z")...); code != exitOK {
		t.Errorf("fixed hunt: exit %d\n%s", code, logs)
	}
	out, _, code = cli(t, "status", "--lake", lk, "--no-library", "--hunts", hunts, "--now", "2026-03-03T00:50:00Z", "--json")
	var st struct {
		Hunts []struct {
			ID       string
			LastEnd  time.Time `json:"last_end"`
			Windows  int
			Failures []any
		}
	}
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != exitOK || len(st.Hunts) != 1 || st.Hunts[0].Windows != 2 ||
		!st.Hunts[0].LastEnd.Equal(day.Add(24*time.Hour)) || len(st.Hunts[0].Failures) != 0 {
		t.Errorf("status after the fix: exit %d %v\n%s", code, err, out)
	}

	// A report over the period, from the stored runs.
	report := filepath.Join(dir, "period.html")
	if out, _, code := cli(t, "report", "--lake", lk, "--since", "2d", "--until", "2026-03-03T01:00:00Z", "--out", report); code != exitOK {
		t.Fatalf("report: exit %d %s", code, out)
	}
	b, _ := os.ReadFile(report)
	if !bytes.Contains(b, []byte("StopLogging by arn:aws:iam::111122223333:user/mallory")) {
		t.Errorf("period report does not show the finding")
	}
	if _, _, code := cli(t, "report", "--lake", lk); code != exitUsage {
		t.Errorf("report --lake without --since: exit %d, want %d", code, exitUsage)
	}

	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"run", "--lake", lk}, exitUsage},            // no --due
		{[]string{"run", "--due", "--no-library"}, exitUsage}, // no lake
		{append(append([]string{}, base...), "--now", "yesterday"), exitUsage},
	} {
		if _, _, code := cli(t, c.args...); code != c.code {
			t.Errorf("%v: exit %d, want %d", c.args, code, c.code)
		}
	}
}
