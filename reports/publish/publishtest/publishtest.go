// Package publishtest writes run directories for the publishers' tests.
package publishtest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
)

// T0 is the start of the test window.
var T0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// Finding is a finding of the test window about a principal.
func Finding(id, severity, title, principal string, at time.Duration) lake.Finding {
	return lake.Finding{ID: id, HuntID: "hunt-" + id, HuntVersion: 1, Severity: severity, Title: title,
		Entity: lake.Entity{Type: "principal", Key: principal}, AccountID: "111122223333", Region: "us-east-1",
		FirstSeen: T0.Add(at), LastSeen: T0.Add(at + time.Minute), Count: 1, WindowStart: T0, WindowEnd: T0.Add(24 * time.Hour),
		Tactics: []string{"discovery"}, CreatedAt: T0.Add(25 * time.Hour)}
}

// Story is one attacker's three steps (one group of three findings, HIGH) and an unrelated LOW finding.
func Story() []lake.Finding {
	ben := "arn:aws:iam::111122223333:user/ben.schmidt"
	return []lake.Finding{
		Finding("f-recon01", lake.SeverityMedium, "Recon: 40 List/Describe calls by ben.schmidt", ben, time.Hour),
		Finding("f-stoplg2", lake.SeverityHigh, "StopLogging on org-trail by ben.schmidt", ben, 2*time.Hour),
		Finding("f-ticont3", lake.SeverityMedium, "Contact with threat-intel IP 203.0.113.9 <!channel> & {noformat}", ben, 3*time.Hour),
		Finding("f-lowone4", lake.SeverityLow, "UpdateTrail by an instance role", "arn:aws:iam::111122223333:role/ops", 4*time.Hour),
	}
}

// Big is one group of n findings with long, hostile titles.
func Big(n int) []lake.Finding {
	var out []lake.Finding
	for i := range n {
		title := fmt.Sprintf("Finding %d <https://evil.example|click> *bold* %s", i, strings.Repeat("very long title ", 300))
		f := Finding(fmt.Sprintf("f-big%03d", i), lake.SeverityCritical, title, "arn:aws:iam::111122223333:user/mallory", time.Duration(i)*time.Minute)
		f.Description = strings.Repeat("& description <b> ", 400)
		out = append(out, f)
	}
	return out
}

// RunDir writes run.json and findings.jsonl for the findings into a new directory.
func RunDir(t testing.TB, runID string, findings []lake.Finding) string {
	t.Helper()
	dir := t.TempDir()
	run := &lake.Run{ID: runID, StartedAt: T0.Add(25 * time.Hour), FinishedAt: T0.Add(25 * time.Hour), Trigger: "test", ToolVersion: "test",
		Lake: "/lake", WindowStart: T0, WindowEnd: T0.Add(24 * time.Hour), FindingCount: len(findings)}
	if err := lake.WriteRunFile(dir, run); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range findings {
		j, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(j)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(filepath.Join(dir, lake.FindingsFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
