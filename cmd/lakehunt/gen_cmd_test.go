package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// --others-per-day sizes the background of the sources with their own generator (what bench.sh uses to
// benchmark them at volume); a negative value is a usage error, not the default in disguise.
func TestGenOthersPerDay(t *testing.T) {
	gen := func(perDay string) map[string]int64 {
		t.Helper()
		out, code := run(t, "gen", "--out", filepath.Join(t.TempDir(), "raw"), "--scale", "tiny", "--days", "2", "--accounts", "2", "--regions", "1",
			"--others-per-day", perDay, "--json")
		if code != exitOK {
			t.Fatalf("gen --others-per-day %s: exit %d", perDay, code)
		}
		var sum struct{ Events map[string]int64 }
		if err := json.Unmarshal([]byte(out), &sum); err != nil {
			t.Fatal(err)
		}
		return sum.Events
	}
	// The planted scenarios' records are the same in both; the background grows by 300 a day x 2 days x
	// 2 accounts x 1 region. GuardDuty and Security Hub: about 3 new findings a day each per 300.
	small, large := gen("300"), gen("600")
	for _, table := range []string{"alb", "waf", "hids"} {
		if small[table] < 1200 || large[table]-small[table] != 1200 {
			t.Errorf("%s: %d records at 300 a day, %d at 600; want at least 1200 and 1200 more (all: %v)", table, small[table], large[table], small)
		}
	}
	if small["guardduty"] < 12 || small["securityhub"] < 12 || large["guardduty"] <= small["guardduty"] {
		t.Errorf("findings: %v at 300 a day, %v at 600", small, large)
	}
	if _, errs, code := cli(t, "gen", "--out", t.TempDir(), "--others-per-day", "-1"); code != exitUsage {
		t.Fatalf("--others-per-day -1: exit %d (%s), want %d", code, errs, exitUsage)
	}
}
