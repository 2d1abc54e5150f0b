package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// --others-per-day sizes the background of the sources with their own generator (what bench.sh uses to
// benchmark them at volume); a negative value is a usage error, not the default in disguise.
func TestGenOthersPerDay(t *testing.T) {
	raw := filepath.Join(t.TempDir(), "raw")
	out, code := run(t, "gen", "--out", raw, "--scale", "tiny", "--days", "2", "--accounts", "2", "--regions", "1", "--others-per-day", "300", "--json")
	if code != exitOK {
		t.Fatalf("gen exit %d", code)
	}
	var sum struct{ Events map[string]int64 }
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatal(err)
	}
	// 300 a day x 2 days x 2 accounts x 1 region; GuardDuty and Security Hub: 3 new findings a day each.
	for table, want := range map[string]int64{"alb": 1200, "waf": 1200, "hids": 1200} {
		if sum.Events[table] != want {
			t.Errorf("%s: %d records, want %d (all: %v)", table, sum.Events[table], want, sum.Events)
		}
	}
	if sum.Events["guardduty"] < 12 || sum.Events["securityhub"] < 12 {
		t.Errorf("findings: %v", sum.Events)
	}
	if _, errs, code := cli(t, "gen", "--out", raw, "--others-per-day", "-1"); code != exitUsage {
		t.Fatalf("--others-per-day -1: exit %d (%s), want %d", code, errs, exitUsage)
	}
}
