package huntfile

import (
	"strings"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{"15m": 15 * time.Minute, "24h": 24 * time.Hour, "30d": 30 * 24 * time.Hour, "2w": 14 * 24 * time.Hour} {
		got, err := ParseDuration(in)
		if err != nil || got.D() != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, got.D(), err, want)
		}
	}
	for _, bad := range []string{"", "0d", "1y", "24", "1.5h", "-1h"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) succeeded", bad)
		}
	}
}

func TestParseLock(t *testing.T) {
	lock, err := ParseLock("hunts.lock", []byte("# comment\n\na 1 abc\nb 12 def\n"))
	if err != nil || len(lock) != 2 || lock["b"].Version != 12 || lock["b"].Line != 4 || lock["a"].Hash != "abc" {
		t.Fatalf("got %+v, %v", lock, err)
	}
	for text, want := range map[string]string{
		"a 1\n":          "hunts.lock:1: want",
		"a x abc\n":      "hunts.lock:1: version \"x\"",
		"a 1 h\na 2 h\n": "hunts.lock:2: hunt a is listed twice",
		"a 0 abc\n":      "not a positive integer",
		"\n\n a 1 b c\n": "hunts.lock:3:",
	} {
		if _, err := ParseLock("hunts.lock", []byte(text)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ParseLock(%q) = %v, want an error containing %q", text, err, want)
		}
	}
}

const hunt = `id: h
version: 1
title: A test hunt
status: test
authors: [t]
hypothesis: something happens
description: something is found
attack: {tactics: [discovery], techniques: [T1580]}
severity: LOW
tables: [cloudtrail]
schedule: "0 6 * * *"
window: 24h
query: |
  SELECT 1 FROM cloudtrail WHERE event_time >= $window_start AND event_time < $window_end
output:
  entity: {type: principal, key: p}
  title: the title
  evidence: e
  types: ["TTPs/Discovery"]
  resources: [{type: Other, id: x}]
false_positives: [none]
tests:
  - name: merge keys and timestamps
    window: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z"}
    cloudtrail:
      - &e {eventTime: 2024-01-01T10:00:00Z, eventName: A, readOnly: true, n: 7, ratio: 0.5, gone: null}
      - {<<: *e, eventName: B}
    expect:
      count: 1
      findings: [{entity: x, fields: {n: 7}}]
`

func TestFixturesKeepTheirSourceShape(t *testing.T) {
	h, diags := Parse(Source{Name: "d"}, "h.yaml", []byte(hunt))
	if h == nil {
		t.Fatal(diags)
	}
	tc := h.Tests[0]
	ct, _ := tc.Events["cloudtrail"].([]any)
	if len(ct) != 2 || tc.Line != 23 || tc.Window.End != time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC) {
		t.Fatalf("test = %+v", tc)
	}
	a, b := ct[0].(map[string]any), ct[1].(map[string]any)
	if a["eventTime"] != "2024-01-01T10:00:00Z" || a["readOnly"] != true || a["gone"] != nil {
		t.Errorf("first record = %#v: an unquoted timestamp must stay the exact string", a)
	}
	if b["eventName"] != "B" || b["eventTime"] != "2024-01-01T10:00:00Z" || b["n"] == nil {
		t.Errorf("merged record = %#v", b)
	}
	if tc.Expect.Findings[0].Fields["n"] == nil {
		t.Errorf("expected fields not loaded: %+v", tc.Expect.Findings[0])
	}
	if line, col := h.Pos("output", "title"); line != 17 || col != 10 {
		t.Errorf("Pos(output.title) = %d:%d, want 17:10", line, col)
	}
	if got := h.QueryLine(1); got != 14 {
		t.Errorf("QueryLine(1) = %d, want 14", got)
	}
}

func TestContentHashCoversLogicNotProse(t *testing.T) {
	parse := func(text string) string {
		h, diags := Parse(Source{Name: "d"}, "h.yaml", []byte(text))
		if h == nil {
			t.Fatal(diags)
		}
		return h.ContentHash()
	}
	base := parse(hunt)
	for name, edit := range map[string][2]string{
		"description": {"description: something is found", "description: something else is found"},
		"tests":       {"fields: {n: 7}", "fields: {n: 8}"},
		"schedule":    {`"0 6 * * *"`, `"@daily"`},
	} {
		if parse(strings.Replace(hunt, edit[0], edit[1], 1)) != base {
			t.Errorf("changing %s changed the content hash", name)
		}
	}
	for name, edit := range map[string][2]string{
		"query":    {"SELECT 1", "SELECT 2"},
		"severity": {"severity: LOW", "severity: HIGH"},
		"window":   {"window: 24h", "window: 48h"},
		"entity":   {"key: p", "key: q"},
	} {
		if parse(strings.Replace(hunt, edit[0], edit[1], 1)) == base {
			t.Errorf("changing %s did not change the content hash", name)
		}
	}
}
