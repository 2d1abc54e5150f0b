package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// evilUser sets the terminal's window title (OSC 0 ... BEL), would reverse the text after it (RLO), and
// starts a C1 control sequence (CSI as U+009B).
const evilUser = "erin\u202etxt.exe\x1b]0;pwned\x07\u009b31m"

// shownEvilUser is how a person must see it: every character that would act, as a visible escape.
const shownEvilUser = `erin\u202etxt.exe\x1b]0;pwned\x07\u009b31m`

// noRawControls fails the test if out holds a character from evilUser that acts instead of being read.
func noRawControls(t *testing.T, what, out string) {
	t.Helper()
	if i := strings.IndexAny(out, "\x1b\x07\u202e\u009b"); i >= 0 {
		t.Errorf("%s prints a raw control or bidi character: %q", what, out[max(0, i-60):min(len(out), i+20)])
	}
}

// writeRaw writes a CloudTrail file with one StopLogging call by principal arn, and next to it a file
// that is not gzip under a key holding evilUser (quarantined, and listed with its key).
func writeRaw(t *testing.T, raw, arn string, at time.Time) {
	t.Helper()
	rec := map[string]any{
		"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339), "eventSource": "cloudtrail.amazonaws.com", "eventName": "StopLogging",
		"awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "eventID": "hygiene-1", "eventType": "AwsApiCall",
		"recipientAccountId": "111122223333",
		"userIdentity":       map[string]any{"type": "IAMUser", "arn": arn, "accountId": "111122223333"},
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	json.NewEncoder(zw).Encode(map[string]any{"Records": []any{rec}})
	zw.Close()
	dir := filepath.Join(raw, "AWSLogs", "111122223333", "CloudTrail", "us-east-1", at.Format("2006/01/02"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	prefix := "111122223333_CloudTrail_us-east-1_" + at.Format("20060102T1504Z")
	for name, b := range map[string][]byte{prefix + "_ok.json.gz": buf.Bytes(), prefix + "_" + evilUser + ".json.gz": []byte("not gzip")} {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// Every value in a log is chosen by whoever wrote the event. Where lakehunt prints one for a person
// (hunt run's summary, a failed hunt's error quoting the lake, the compact and quarantine listings,
// query's table, the scheduled tick, its JSON logs and status), control and bidi characters are shown as
// escapes, so a principal ARN cannot retitle the analyst's terminal or reorder what it reads.
func TestLogValuesCannotControlTheTerminal(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	writeRaw(t, raw, "arn:aws:iam::111122223333:user/"+evilUser, day.Add(3*time.Hour))
	hunts := writeHuntDir(t, "")
	// A hunt whose query fails on the value: DuckDB's error quotes it.
	failing := strings.Replace(strings.Replace(schedHunt, "id: cli-stoplogging", "id: cli-cast", 1), "WHERE_EXTRA", "AND CAST(principal_arn AS INTEGER) > 0", 1)
	if err := os.WriteFile(filepath.Join(hunts, "cli-cast.yaml"), []byte(failing), 0o644); err != nil {
		t.Fatal(err)
	}

	// A STIX feed: one indicator to import, and ones whose reason for being skipped or malformed quotes the feed.
	feed := filepath.Join(dir, "intel.json")
	bundle := map[string]any{"type": "bundle", "id": "bundle--1", "objects": []any{
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--1", "pattern_type": "stix",
			"pattern": "[ipv4-addr:value = '198.51.100.9']", "valid_from": "2026-01-01T00:00:00Z"},
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--2", "pattern_type": evilUser,
			"pattern": "x", "valid_from": "2026-01-01T00:00:00Z"},
		map[string]any{"type": "indicator", "spec_version": "2.1", "id": "indicator--3" + evilUser, "pattern_type": "stix",
			"valid_from": "2026-01-01T00:00:00Z"},
	}}
	b, _ := json.Marshal(bundle)
	if err := os.WriteFile(feed, b, 0o644); err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct {
		name string
		args []string
		code int
		want string // where the value must be seen, escaped
	}{
		{"compact", []string{"compact", "--from", raw, "--lake", lk, "--settle", "0"}, exitBadInput, "quarantined AWSLogs/"},
		{"quarantine", []string{"quarantine", "--lake", lk}, exitOK, "_" + shownEvilUser + ".json.gz"},
		{"hunt run", []string{"hunt", "run", "--lake", lk, "--no-library", "--hunts", hunts, "--from", "2026-03-02", "--to", "2026-03-03",
			"--out", filepath.Join(dir, "run")}, exitBadInput, "StopLogging by arn:aws:iam::111122223333:user/" + shownEvilUser},
		{"query", []string{"query", "--lake", lk, "SELECT principal_arn FROM cloudtrail"}, exitOK, "user/" + shownEvilUser},
		{"run --due", []string{"run", "--due", "--lake", lk, "--runs", filepath.Join(dir, "runs"), "--no-library", "--hunts", hunts,
			"--now", "2026-03-02T12:30:00Z"}, exitBadInput, "cli-cast"},
		{"ti import", []string{"ti", "import", "--lake", lk, "--feed", "intel", "--now", "2026-03-01", feed}, exitOK, "pattern_type " + shownEvilUser},
		{"status", []string{"status", "--lake", lk, "--no-library", "--hunts", hunts, "--now", "2026-03-02T12:40:00Z"}, exitBadInput, "cli-cast"},
	} {
		out, errs, code := cli(t, c.args...)
		if code != c.code {
			t.Errorf("%s: exit %d, want %d\n%s\n%s", c.name, code, c.code, out, errs)
		}
		noRawControls(t, c.name+" stdout", out)
		noRawControls(t, c.name+" stderr", errs)
		if !strings.Contains(out+errs, c.want) {
			t.Errorf("%s: output lacks %q\n%s\n%s", c.name, c.want, out, errs)
		}
		if c.name == "hunt run" || c.name == "run --due" || c.name == "status" {
			// The failed hunt's error quotes the value: seen, escaped.
			if !strings.Contains(strings.ReplaceAll(out+errs, `\\`, `\`), shownEvilUser) {
				t.Errorf("%s: the failed hunt's error does not show the value escaped\n%s\n%s", c.name, out, errs)
			}
		}
	}
}
