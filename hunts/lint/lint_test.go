package lint

import (
	"context"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
)

const base = `id: minimal
version: 1
title: Minimal test hunt
status: stable
authors: [test]
hypothesis: a principal calls an API
description: one finding per principal
attack: {tactics: [discovery], techniques: [T1580]}
severity: LOW
tables: [cloudtrail]
schedule: "@daily"
window: 24h
query: |
  SELECT principal_arn,
         min(account_id) AS account_id, min(region) AS region,
         count(*) AS event_count,
         min(event_time) AS first_seen, max(event_time) AS last_seen,
         list({'event_time': event_time, 'source_key': source_key, 'source_line': source_line}) AS evidence
  FROM cloudtrail
  WHERE event_time >= $window_start AND event_time < $window_end
  GROUP BY principal_arn
filter: 'event_count > 0'
suppressions:
  - match: 'principal_arn == "arn:aws:iam::1:role/scanner"'
    owner: secops
    reason: authorised scanner
    expires: 2099-01-01
output:
  entity: {type: principal, key: principal_arn}
  title: "{{principal_arn}} made {{event_count}} calls"
  evidence: evidence
  types: ["TTPs/Discovery"]
  resources: [{type: Other, id: "{{principal_arn}}"}]
false_positives: [everyone]
tests:
  - name: positive
    window: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z"}
    expect: {count: 1}
  - name: negative
    window: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z"}
    expect: {count: 0}
`

var now = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// lintText loads and lints one hunt file against a lock made from the unmodified base hunt.
func lintText(t *testing.T, text string) []huntfile.Diagnostic {
	t.Helper()
	src := huntfile.Source{Name: "hunts"}
	baseHunt, diags := huntfile.Parse(src, "minimal.yaml", []byte(base))
	if baseHunt == nil {
		t.Fatalf("base hunt does not load: %v", diags)
	}
	lock, err := huntfile.ParseLock("hunts.lock", huntfile.FormatLock([]*huntfile.Hunt{baseHunt}))
	if err != nil {
		t.Fatal(err)
	}
	src.FS = fstest.MapFS{"x.csv": {Data: []byte("a\n1\n")}}
	h, diags := huntfile.Parse(src, "minimal.yaml", []byte(text))
	if h == nil {
		return diags
	}
	return LintAt(context.Background(), []*huntfile.Hunt{h}, lock, now, engine.Limits{})
}

func lineOf(text, marker string) int {
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, marker) {
			return i + 1
		}
	}
	return -1
}

func TestBaseHuntIsClean(t *testing.T) {
	if diags := lintText(t, base); len(diags) > 0 {
		t.Fatalf("base hunt: %v", diags)
	}
}

func TestMalformedHunts(t *testing.T) {
	cases := []struct {
		name     string
		old, new string // one replacement in the base hunt ("" old: append new)
		marker   string // the diagnostic is on the first line containing this
		want     string // and its message contains this
	}{
		{"YAML syntax error", "severity: LOW", "severity: LOW: HIGH", "severity: LOW: HIGH", "not valid YAML: line 9: mapping values are not allowed"},
		{"duplicate key", "schedule: \"@daily\"\n", "schedule: \"@daily\"\nwindow: 48h\n", "window: 24h", `key "window" appears twice (first at line 12)`},
		{"unknown key", "severity: LOW", "severty: LOW", "severty", "additional properties 'severty' not allowed"},
		{"bad enum", "status: stable", "status: live", "status: live", "/status"},
		{"bad technique id", "techniques: [T1580]", "techniques: [T15]", "techniques", "/attack/techniques/0"},
		{"bad schedule", `schedule: "@daily"`, `schedule: "every day"`, "schedule:", "schedule: "},
		{"bad duration", "window: 24h", "window: 1 day", "window: 1 day", "/window"},
		{"unknown table", "tables: [cloudtrail]", "tables: [cloudtrial]", "tables:", `unknown table "cloudtrial"`},
		{"unknown column", "  SELECT principal_arn,", "  SELECT principal_arnn,", "SELECT principal_arnn", `Referenced column "principal_arnn" not found`},
		{"unknown column on a later SQL line", "GROUP BY principal_arn", "GROUP BY principal_arn, nope", "GROUP BY principal_arn, nope", `"nope" not found`},
		{"table not declared", "  FROM cloudtrail", "  FROM vpc_flow", "FROM vpc_flow", "the tables it lists under tables: cloudtrail"},
		{"expr typo in filter", "filter: 'event_count > 0'", "filter: 'event_cuont > 0'", "filter:", "unknown name event_cuont"},
		{"filter not bool", "filter: 'event_count > 0'", "filter: 'event_count'", "filter:", "expected bool"},
		{"expr typo in suppression", `principal_arn == "arn:aws:iam::1:role/scanner"`, `principal == "x"`, "match:", "unknown name principal"},
		{"severity expr not a string", "severity: LOW", "severity: {default: LOW, expr: 'event_count'}", "severity:", "expected string"},
		{"missing negative test", "  - name: negative\n    window: {start: \"2024-01-01T00:00:00Z\", end: \"2024-01-02T00:00:00Z\"}\n    expect: {count: 0}\n", "", "tests:", "missing test: add a negative test"},
		{"no tests at all", base[strings.Index(base, "tests:"):], "tests: []\n", "tests: []", "/tests: minItems"},
		{"query changed, version not bumped", "count(*) AS event_count", "count(*) + 0 AS event_count", "version: 1", "bump version to 2"},
		{"version bumped, lock not updated", "version: 1", "version: 2", "version: 2", "not in hunts.lock yet"},
		{"version lowered", "version: 1", "version: 0", "version: 0", "/version"},
		{"evidence without lineage", ", 'source_line': source_line}", "}", "evidence: evidence", "missing source_line BIGINT"},
		{"template refers to a missing column", "{{event_count}} calls", "{{event_cnt}} calls", "made {{event_cnt}}", "{{event_cnt}}, which is not a result column"},
		{"entity column missing", "key: principal_arn}", "key: principal}", "entity:", `column "principal" is not in the query result`},
		{"no window parameters", "  WHERE event_time >= $window_start AND event_time < $window_end\n", "", "query: |", "must filter on $window_start and $window_end"},
		{"bad test window", `end: "2024-01-02T00:00:00Z"}` + "\n    expect: {count: 1}", `end: "tomorrow"}` + "\n    expect: {count: 1}", "tomorrow", "not an RFC 3339 time"},
		{"data table shadows a lake table", "window: 24h\n", "window: 24h\ndata: [{table: cloudtrail, file: x.csv}]\n", "data:", "would hide the lake table"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(base, c.old) {
				t.Fatalf("base hunt has no %q", c.old)
			}
			text := strings.Replace(base, c.old, c.new, 1)
			wantLine := lineOf(text, c.marker)
			diags := lintText(t, text)
			for _, d := range diags {
				if d.Line == wantLine && strings.Contains(d.Message, c.want) && d.File == "hunts/minimal.yaml" && !d.Warning {
					return
				}
			}
			t.Errorf("want an error at hunts/minimal.yaml:%d containing %q; got:", wantLine, c.want)
			for _, d := range diags {
				t.Errorf("  %s", d)
			}
		})
	}
}

func TestExpiredSuppressionIsAWarning(t *testing.T) {
	diags := lintText(t, strings.Replace(base, "expires: 2099-01-01", "expires: 2024-06-30", 1))
	if len(diags) != 1 || !diags[0].Warning || !strings.Contains(diags[0].Message, "expired on 2024-06-30") || HasErrors(diags) {
		t.Fatalf("want one warning about the expired suppression, got %v", diags)
	}
}

func TestDuplicateIDs(t *testing.T) {
	src := huntfile.Source{Name: "hunts"}
	a, _ := huntfile.Parse(src, "a.yaml", []byte(base))
	b, _ := huntfile.Parse(src, "b.yaml", []byte(base))
	lock, _ := huntfile.ParseLock("hunts.lock", huntfile.FormatLock([]*huntfile.Hunt{a}))
	diags := LintAt(context.Background(), []*huntfile.Hunt{a, b}, lock, now, engine.Limits{})
	if len(diags) != 1 || diags[0].File != "hunts/b.yaml" || !strings.Contains(diags[0].Message, "already used by hunts/a.yaml") {
		t.Fatalf("got %v", diags)
	}
}
