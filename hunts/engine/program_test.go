package engine

import (
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
)

const mappingHunt = `id: mapping
version: 3
title: Mapping test
status: test
authors: [t]
hypothesis: rows become findings
description: checks the output mapping
attack: {tactics: [discovery], techniques: [T1580]}
severity: {default: LOW, expr: 'n > 10 ? "HIGH" : ""'}
tables: [cloudtrail]
schedule: "@daily"
window: 24h
query: SELECT 1 AS one
filter: 'n > 0'
suppressions:
  - {match: 'who == "scanner"', owner: secops, reason: authorised scanner, expires: 2099-12-31}
output:
  entity: {type: principal, key: who}
  title: "{{who}} did {{n}} things in {{regions}}"
  description: "Seen as {{who}}."
  count: n
  fields: [regions]
  evidence: ev
  evidence_limit: 2
  types: ["TTPs/Discovery"]
  resources: [{type: AwsIamUser, id: "{{who}}", region: "{{region}}"}]
false_positives: [none]
tests: [{name: none, window: {start: "2024-01-01T00:00:00Z", end: "2024-01-02T00:00:00Z"}, expect: {count: 0}}]
`

var mappingCols = []Column{
	{"who", "VARCHAR"}, {"n", "BIGINT"}, {"regions", "VARCHAR[]"}, {"account_id", "VARCHAR"}, {"region", "VARCHAR"},
	{"first_seen", "TIMESTAMP"}, {"last_seen", "TIMESTAMP"},
	{"ev", `STRUCT("event_time" TIMESTAMP, "source_key" VARCHAR, "source_line" BIGINT, "event_name" VARCHAR)[]`},
}

func row(who string, n int64, evidence int) []any {
	t0 := mustTime("2024-01-01T10:00:00Z")
	var ev []any
	for i := 0; i < evidence; i++ {
		ev = append(ev, map[string]any{"event_time": t0.Add(time.Duration(i) * time.Minute), "source_key": "k.json.gz",
			"source_line": int64(i + 1), "event_name": "E"})
	}
	return []any{who, n, []any{"us-east-1", "eu-west-1"}, "111122223333", "us-east-1", t0, t0.Add(time.Hour), ev}
}

func compileMapping(t *testing.T) (*Program, Window) {
	t.Helper()
	h, diags := huntfile.Parse(huntfile.Source{Name: "t"}, "m.yaml", []byte(mappingHunt))
	if h == nil {
		t.Fatal(diags)
	}
	p, diags := Compile(h, mappingCols, mustTime("2025-01-01T00:00:00Z"))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	return p, Window{Start: mustTime("2024-01-01T00:00:00Z"), End: mustTime("2024-01-02T00:00:00Z")}
}

func TestRowsToFindings(t *testing.T) {
	p, w := compileMapping(t)
	res := &Result{Columns: mappingCols, Rows: [][]any{row("alice", 12, 3), row("bob", 1, 1), row("scanner", 50, 1), row("idle", 0, 0)}}
	out, err := p.Findings(res, w, w.End)
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 2 || out.Suppressed != 1 || out.Filtered != 1 {
		t.Fatalf("findings %d, suppressed %d, filtered %d; want 2, 1, 1", len(out.Findings), out.Suppressed, out.Filtered)
	}
	a, b := out.Findings[0], out.Findings[1]
	if a.Entity.Key != "alice" || a.Severity != "HIGH" || b.Entity.Key != "bob" || b.Severity != "LOW" {
		t.Errorf("severity order/labels: %s %s, %s %s", a.Entity.Key, a.Severity, b.Entity.Key, b.Severity)
	}
	if a.Title != "alice did 12 things in us-east-1, eu-west-1" || a.Count != 12 || a.HuntVersion != 3 {
		t.Errorf("title %q count %d version %d", a.Title, a.Count, a.HuntVersion)
	}
	if len(a.Evidence) != 2 || a.EvidenceNote != "showing 2 of 3 rows" || a.Evidence[1].SourceLine != 2 ||
		a.Evidence[0].SourceKey != "k.json.gz" || a.Evidence[0].Table != "cloudtrail" || a.Evidence[0].Row["event_name"] != "E" {
		t.Errorf("evidence %+v, note %q", a.Evidence, a.EvidenceNote)
	}
	if len(a.Resources) != 1 || a.Resources[0].ID != "alice" || a.Resources[0].Region != "us-east-1" || a.AccountID != "111122223333" {
		t.Errorf("resources %+v account %q", a.Resources, a.AccountID)
	}
	if a.ID != FindingID("mapping", "principal", "alice", nil, w.Start, w.End) {
		t.Errorf("id %s", a.ID)
	}
}

// A title or description is read by people, so control and right-to-left characters in the values it
// quotes are shown escaped; the entity key, resources and evidence are data and keep the raw value.
func TestTitleEscapesWhatLogsChose(t *testing.T) {
	p, w := compileMapping(t)
	who := "erin\u202etxt.exe\x1b]0;pwned\x07"
	r := row(who, 12, 1)
	r[7].([]any)[0].(map[string]any)["event_name"] = who
	out, err := p.Findings(&Result{Columns: mappingCols, Rows: [][]any{r}}, w, w.End)
	if err != nil {
		t.Fatal(err)
	}
	f := out.Findings[0]
	if want := `erin\u202etxt.exe\x1b]0;pwned\x07 did 12 things in us-east-1, eu-west-1`; f.Title != want {
		t.Errorf("title %q, want %q", f.Title, want)
	}
	if want := `Seen as erin\u202etxt.exe\x1b]0;pwned\x07.`; f.Description != want {
		t.Errorf("description %q, want %q", f.Description, want)
	}
	if f.Entity.Key != who || f.Resources[0].ID != who || f.Evidence[0].Row["event_name"] != who {
		t.Errorf("stored values changed: entity %q, resource %q, evidence %q; want %q", f.Entity.Key, f.Resources[0].ID, f.Evidence[0].Row["event_name"], who)
	}
}

func TestBadRowsFailTheHunt(t *testing.T) {
	p, w := compileMapping(t)
	for name, c := range map[string]struct {
		rows [][]any
		want string
	}{
		"empty entity":  {[][]any{row("", 5, 1)}, `entity key column "who" is empty`},
		"duplicate ids": {[][]any{row("alice", 5, 1), row("alice", 6, 1)}, "rows 1 and 2 both map to entity"},
	} {
		_, err := p.Findings(&Result{Columns: mappingCols, Rows: c.rows}, w, w.End)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", name, err, c.want)
		}
	}
}

func TestSeverityExprMustReturnALabel(t *testing.T) {
	h, diags := huntfile.Parse(huntfile.Source{Name: "t"}, "m.yaml", []byte(strings.Replace(mappingHunt, `"HIGH"`, `"SEVERE"`, 1)))
	if h == nil {
		t.Fatal(diags)
	}
	p, diags := Compile(h, mappingCols, mustTime("2025-01-01T00:00:00Z"))
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	w := Window{Start: mustTime("2024-01-01T00:00:00Z"), End: mustTime("2024-01-02T00:00:00Z")}
	if _, err := p.Findings(&Result{Columns: mappingCols, Rows: [][]any{row("alice", 12, 1)}}, w, w.End); err == nil || !strings.Contains(err.Error(), `returned "SEVERE"`) {
		t.Errorf("err = %v", err)
	}
}
