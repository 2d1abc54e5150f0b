package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lakehunt schema documents the finding tables and their _latest views.
func TestSchemaFindings(t *testing.T) {
	for table, wants := range map[string][]string{
		"guardduty":   {"GuardDuty findings exported to S3", "instance_id", "remote_ips", "JSON", "version_id", "view guardduty_latest", "newest version"},
		"securityhub": {"Security Hub findings (ASFF)", "compliance_status", "cve_ids", "record_state", "view securityhub_latest"},
	} {
		out, code := run(t, "schema", table)
		if code != exitOK {
			t.Fatalf("schema %s: exit %d", table, code)
		}
		for _, want := range wants {
			if !strings.Contains(out, want) {
				t.Errorf("schema %s lacks %q:\n%s", table, want, out)
			}
		}
	}
}

// A finding exported twice is two rows of guardduty, and lakehunt query reads its newest version from
// guardduty_latest.
func TestQueryGuardDutyLatest(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	key := filepath.Join(raw, "AWSLogs", "111122223333", "GuardDuty", "eu-west-1", "2024", "05", "01", "export.jsonl")
	if err := os.MkdirAll(filepath.Dir(key), 0o755); err != nil {
		t.Fatal(err)
	}
	v := func(updated, count string) string {
		return `{"id":"f1","accountId":"111122223333","region":"eu-west-1","severity":8,"updatedAt":"` + updated + `","service":{"count":` + count + `}}` + "\n"
	}
	if err := os.WriteFile(key, []byte(v("2024-05-01T10:00:00Z", "1")+v("2024-05-01T11:00:00Z", "4")), 0o644); err != nil {
		t.Fatal(err)
	}
	lk := filepath.Join(dir, "lake")
	if out, code := run(t, "compact", "--from", raw, "--lake", lk, "--settle", "0"); code != exitOK || !strings.Contains(out, "guardduty") {
		t.Fatalf("compact exit %d: %s", code, out)
	}
	out, code := run(t, "query", "--lake", lk, "--format", "json",
		"SELECT (SELECT count(*) FROM guardduty) AS versions, count, severity_label FROM guardduty_latest")
	if code != exitOK || strings.TrimSpace(out) != `{"count":4,"severity_label":"HIGH","versions":2}` {
		t.Fatalf("query exit %d: %s", code, out)
	}
}
