package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake/s3test"
)

// run executes the CLI in-process and returns stdout and the exit code it would exit with.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, errs, code := cli(t, args...)
	if code != exitOK {
		t.Logf("lakehunt %s: exit %d\n%s", strings.Join(args, " "), code, errs)
	}
	return out, code
}

// TestPipeline runs what `make demo` runs, at the tiny scale: gen → compact → query → hunt run → report.
func TestPipeline(t *testing.T) {
	dir := t.TempDir()
	raw, lk, rd := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "run")
	if _, code := run(t, "gen", "--out", raw, "--scale", "tiny", "--days", "10", "--seed", "5"); code != 0 {
		t.Fatalf("gen exit %d", code)
	}
	// gen writes host IDS alerts under hids/, as an agent or Firehose would, just now: compacted as `make demo` does.
	out, code := run(t, "compact", "--from", raw, "--lake", lk, "--source-prefix", "hids=hids/", "--settle", "0", "--json")
	if code != 0 {
		t.Fatalf("compact exit %d", code)
	}
	var sum struct {
		RecordsWritten int64 `json:"records_written"`
		ObjectsRead    int   `json:"objects_read"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil || sum.RecordsWritten == 0 {
		t.Fatalf("compact --json: %v %s", err, out)
	}
	// A second run reads nothing new.
	out, _ = run(t, "compact", "--from", raw, "--lake", lk, "--source-prefix", "hids=hids/", "--settle", "0", "--json")
	if !strings.Contains(out, `"objects_read": 0`) || !strings.Contains(out, `"records_written": 0`) {
		t.Fatalf("second compact was not a no-op: %s", out)
	}
	out, code = run(t, "query", "--lake", lk, "--format", "json", "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM cloudtrail")
	if code != 0 {
		t.Fatalf("query exit %d", code)
	}
	var q struct{ N, IDs int64 }
	if err := json.Unmarshal([]byte(out), &q); err != nil || q.N == 0 || q.N != q.IDs {
		t.Fatalf("cloudtrail rows %d, distinct ids %d (%v): every event must be there exactly once", q.N, q.IDs, err)
	}
	// Absent fields are NULL, never "", whatever the Parquet writer did (hunts test error_code IS NULL).
	out, code = run(t, "query", "--lake", lk, "--format", "csv",
		"SELECT count(*) FILTER (WHERE error_code = '' OR user_agent = '' OR response_elements::VARCHAR = '') AS empty, count(*) FILTER (WHERE error_code IS NULL) > 0 AND count(*) FILTER (WHERE error_code IS NOT NULL) > 0 AS both FROM cloudtrail")
	if code != 0 || !strings.Contains(out, "0,true") {
		t.Fatalf("absent CloudTrail fields are not NULL: %s", out)
	}
	out, code = run(t, "query", "--lake", lk, "--format", "csv", "SELECT event_name FROM cloudtrail WHERE event_name = 'StopLogging'")
	if code != 0 || !strings.Contains(out, "StopLogging") {
		t.Fatalf("planted StopLogging not queryable: %d %s", code, out)
	}
	if _, code := run(t, "query", "--lake", lk, "SELECT nope FROM cloudtrail"); code != exitError {
		t.Fatalf("bad SQL exit %d, want %d", code, exitError)
	}
	// The ti-* hunts read ti_indicators: without a feed they would check nothing (and hunt run exit 3).
	feeds, _ := filepath.Glob(filepath.Join(raw, "ti", "*"))
	for _, f := range feeds {
		name, _, _ := strings.Cut(filepath.Base(f), "-2025") // ti/feodo-2025-06-11.csv: feed feodo
		if _, code := run(t, "ti", "import", "--lake", lk, "--feed", name, "--now", "2025-06-12", f); code != 0 {
			t.Fatalf("ti import %s: exit %d", f, code)
		}
	}
	if len(feeds) == 0 {
		t.Fatal("gen wrote no threat-intel feeds")
	}
	out, code = run(t, "hunt", "run", "--lake", lk, "--from", "2025-06-05", "--to", "2025-06-12", "--out", rd)
	if code != 0 {
		t.Fatalf("hunt run exit %d: %s", code, out)
	}
	for _, f := range []string{"run.json", "findings.jsonl", "asff.json", "report.html"} {
		if st, err := os.Stat(filepath.Join(rd, f)); err != nil || st.Size() == 0 {
			t.Errorf("run directory lacks %s: %v", f, err)
		}
	}
	if !strings.Contains(out, "cloudtrail-logging-evasion") || !strings.Contains(out, "StopLogging") {
		t.Errorf("hunt run did not report the planted logging evasion:\n%s", out)
	}
	if _, code := run(t, "report", "--run", rd, "--out", filepath.Join(dir, "again.html")); code != 0 {
		t.Errorf("report exit %d", code)
	}
	// A later run is compared with the previous one: the hunt it repeats finds the same again (recurring,
	// nothing new), and a --previous that is not a run directory is a usage error.
	rd2 := filepath.Join(dir, "run-again")
	if out, code := run(t, "hunt", "run", "--lake", lk, "--hunt", "cloudtrail-logging-evasion", "--from", "2025-06-05", "--to", "2025-06-12",
		"--previous", rd, "--out", rd2); code != 0 {
		t.Fatalf("hunt run --previous: exit %d\n%s", code, out)
	}
	again, _ := os.ReadFile(filepath.Join(rd2, "report.html"))
	if !regexp.MustCompile(`Compared with run .+?: <strong>0 new</strong>, [1-9]\d* recurring, \d+ gone`).Match(again) {
		t.Errorf("the second run's report does not compare with the first:\n%s", regexp.MustCompile(`(?s)<section id="changes">.*?</section>`).Find(again))
	}
	if out, code := run(t, "hunt", "run", "--lake", lk, "--hunt", "cloudtrail-logging-evasion", "--last", "24h", "--previous", filepath.Join(dir, "nope"),
		"--out", filepath.Join(dir, "run-nope")); code != exitUsage {
		t.Errorf("--previous that is no run: exit %d, want %d\n%s", code, exitUsage, out)
	}
	// A dry run plans the batches without credentials or a region.
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-aws-config"))
	out, code = run(t, "export", "securityhub", "--run", rd, "--dry-run")
	if code != 0 || !strings.Contains(out, "total: ") || !strings.Contains(out, "0 imported, 0 failed") {
		t.Errorf("export securityhub --dry-run: exit %d\n%s", code, out)
	}

	// A hunt that fails at run time, and a hunt file that does not load, do not stop the others: their
	// errors are in run.json, the exit code is 3 (0 with --allow-failures).
	mine := filepath.Join(dir, "my-hunts")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "explodes.yaml"), []byte(failingHunt), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "broken.yaml"), []byte("id: my-broken\nversion: one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	failed := filepath.Join(dir, "run-failed")
	if _, code := run(t, "hunt", "run", "--lake", lk, "--hunts", mine, "--from", "2025-06-05", "--to", "2025-06-12", "--out", failed); code != exitBadInput {
		t.Errorf("hunt run with a failing hunt: exit %d, want %d", code, exitBadInput)
	}
	b, err := os.ReadFile(filepath.Join(failed, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rj struct {
		Hunts []struct{ ID, Status, Error string }
	}
	if err := json.Unmarshal(b, &rj); err != nil {
		t.Fatal(err)
	}
	ok, bad, unloaded := 0, "", ""
	for _, h := range rj.Hunts {
		switch {
		case h.ID == "my-explodes" && h.Status == "failed" && strings.Contains(h.Error, "planted failure"):
			bad = h.Error
		case strings.HasSuffix(h.ID, "broken.yaml") && h.Status == "failed" && strings.Contains(h.Error, "does not load"):
			unloaded = h.Error
		case h.Status == "ok":
			ok++
		}
	}
	if bad == "" || unloaded == "" || ok < 10 {
		t.Errorf("run.json: failing hunt error %q, unloadable file %q, %d other hunts ok; want both failures recorded and the library run: %s", bad, unloaded, ok, b)
	}
	if _, code := run(t, "hunt", "run", "--lake", lk, "--hunts", mine, "--allow-failures", "--from", "2025-06-05", "--to", "2025-06-12", "--out", failed+"2"); code != exitOK {
		t.Errorf("--allow-failures: exit %d, want 0", code)
	}
}

// failingHunt is well-formed but its SQL raises an error on the first row it reads.
const failingHunt = `id: my-explodes
version: 1
title: Fails at run time
status: test
authors: [test]
hypothesis: A hunt whose query raises an error at run time.
description: A hunt whose query raises an error at run time.
attack: {tactics: [discovery], techniques: [T1087]}
severity: LOW
tables: [cloudtrail]
schedule: "@daily"
window: 24h
query: |
  SELECT principal_arn, min(account_id) AS account_id, min(region) AS region, count(*) AS event_count,
         min(event_time) AS first_seen, max(event_time) AS last_seen,
         list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line}) AS evidence
  FROM cloudtrail
  WHERE event_time >= $window_start AND event_time < $window_end AND error('planted failure') IS NULL
  GROUP BY principal_arn
output:
  entity: {type: principal, key: principal_arn}
  title: "{{principal_arn}}"
  evidence: evidence
  types: ["TTPs/Discovery"]
  resources:
    - {type: Other, id: "{{principal_arn}}"}
false_positives: [none]
tests:
  - name: placeholder
    window: {start: "2026-01-01T00:00:00Z", end: "2026-01-02T00:00:00Z"}
    expect: {count: 0}
`

func TestCompactExitCodeOnQuarantine(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	bad := filepath.Join(raw, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/111122223333_CloudTrail_us-east-1_20260101T0000Z_x.json.gz")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not gzip, not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, code := run(t, "compact", "--from", raw, "--lake", filepath.Join(dir, "lake"), "--settle", "0"); code != exitBadInput {
		t.Fatalf("compact with bad input: exit %d, want %d", code, exitBadInput)
	}
	out, code := run(t, "quarantine", "--lake", filepath.Join(dir, "lake"))
	if code != 0 || !strings.Contains(out, "_x.json.gz") {
		t.Fatalf("quarantine list: %d %s", code, out)
	}
	if _, code := run(t, "compact", "--from", raw, "--lake", filepath.Join(dir, "lake2"), "--allow-quarantine", "--settle", "0"); code != 0 {
		t.Fatalf("--allow-quarantine: exit %d", code)
	}
	if _, code := run(t, "compact", "--lake", filepath.Join(dir, "lake")); code != exitUsage {
		t.Fatalf("missing --from: exit %d, want %d", code, exitUsage)
	}
}

// TestCompactS3ToS3 runs the CLI against a real S3 server with --s3-endpoint.
func TestCompactS3ToS3(t *testing.T) {
	srv := s3test.Start(t)
	rawURL := srv.Bucket(t, "raw") + "AWSLogs-copy/"
	lakeURL := srv.Bucket(t, "lake") + "lake/"
	if _, code := run(t, "gen", "--out", rawURL, "--s3-endpoint", srv.Endpoint, "--scale", "tiny", "--days", "2"); code != 0 {
		t.Fatalf("gen to S3: exit %d", code)
	}
	if _, code := run(t, "compact", "--from", rawURL, "--lake", lakeURL, "--s3-endpoint", srv.Endpoint, "--cache-dir", t.TempDir()); code != 0 {
		t.Fatalf("compact S3 to S3: exit %d", code)
	}
	out, code := run(t, "query", "--lake", lakeURL, "--s3-endpoint", srv.Endpoint, "--cache-dir", t.TempDir(), "--format", "csv",
		"SELECT (SELECT count(*) FROM cloudtrail) > 0 AND (SELECT count(*) FROM vpc_flow) > 0 AND (SELECT count(*) FROM route53_resolver) > 0 AS ok")
	if code != 0 || !strings.Contains(out, "true") {
		t.Fatalf("S3 lake query: %d %s", code, out)
	}
}
