package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestHuntCoverage(t *testing.T) {
	mine := t.TempDir()
	evasion := strings.Replace(schedHunt, "attack: {tactics: [defense-evasion], techniques: [T1562.008]}",
		"attack: {tactics: [defense-evasion], techniques: [T1562.008, T1562.001], stratus: [aws.defense-evasion.cloudtrail-stop, aws.defense-evasion.cloudtrail-delete]}", 1)
	if err := os.WriteFile(filepath.Join(mine, "cli-stoplogging.yaml"), []byte(strings.Replace(evasion, "WHERE_EXTRA", "", 1)), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errs, code := cli(t, "hunt", "coverage", "--no-library", "--hunts", mine)
	if code != exitOK {
		t.Fatalf("hunt coverage: exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		"T1562.001  Impair Defenses: Disable or Modify Tools  [defense-evasion]\n    cli-stoplogging  cloudtrail\n    stratus: aws.defense-evasion.cloudtrail-delete, aws.defense-evasion.cloudtrail-stop\n",
		"T1562.008  Impair Defenses: Disable or Modify Cloud Logs  [defense-evasion]\n    cli-stoplogging  cloudtrail\n",
		"2 ATT&CK techniques and 2 Stratus Red Team ids claimed by 1 hunt\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("hunt coverage lacks %q:\n%s", want, out)
		}
	}
	out, _, code = cli(t, "hunt", "coverage", "--no-library", "--hunts", mine, "--by", "stratus")
	if code != exitOK || !strings.Contains(out, "aws.defense-evasion.cloudtrail-delete  cli-stoplogging\naws.defense-evasion.cloudtrail-stop    cli-stoplogging\n") {
		t.Errorf("--by stratus: exit %d\n%s", code, out)
	}

	// The library, with its own hunts and a lake that has CloudTrail only.
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	writeTrail(t, raw, time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	if _, errs, code := cli(t, "compact", "--from", raw, "--lake", lk); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, errs)
	}
	out, errs, code = cli(t, "hunt", "coverage", "--hunts", mine, "--lake", lk, "--json")
	if code != exitOK {
		t.Fatalf("hunt coverage --json --lake: exit %d\n%s", code, errs)
	}
	var cov struct {
		Techniques []struct {
			ID, Name string
			Tactics  []string
			Hunts    []struct {
				ID      string
				Tables  []string
				Missing []string `json:"missing_tables"`
			}
			Stratus []string
		}
		Stratus []struct {
			ID    string
			Hunts []struct{ ID string }
		}
		Lake struct {
			Tables []string
			Blind  []struct {
				ID      string
				Missing []string `json:"missing_tables"`
			} `json:"blind_hunts"`
			Uncovered []string `json:"uncovered_techniques"`
		}
	}
	if err := json.Unmarshal([]byte(out), &cov); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	hunts := map[string]bool{}
	for _, tc := range cov.Techniques {
		for _, h := range tc.Hunts {
			hunts[h.ID] = true
		}
		ids := map[string]bool{}
		for _, h := range tc.Hunts {
			ids[h.ID] = true
		}
		if tc.ID == "T1562.008" && (!ids["cli-stoplogging"] || !ids["cloudtrail-logging-evasion"] || tc.Tactics[0] != "defense-evasion" || len(tc.Stratus) < 2) {
			t.Errorf("T1562.008: %+v, want the library's and my hunt, their Stratus ids", tc)
		}
	}
	if len(hunts) < 12 || !hunts["cli-stoplogging"] || !hunts["dns-tunnelling"] {
		t.Errorf("hunts in the matrix: %v, want the library's and mine", hunts)
	}
	if len(cov.Stratus) < 5 {
		t.Errorf("stratus rows: %+v", cov.Stratus)
	}
	blind := map[string]string{}
	for _, b := range cov.Lake.Blind {
		blind[b.ID] = strings.Join(b.Missing, ",")
	}
	if strings.Join(cov.Lake.Tables, ",") != "cloudtrail" || blind["dns-tunnelling"] != "route53_resolver" || blind["ti-ip-cloudtrail"] != "ti_indicators" || blind["cli-stoplogging"] != "" {
		t.Errorf("lake check: tables %v, blind %v: want cloudtrail only, dns-tunnelling and the TI hunts blind", cov.Lake.Tables, blind)
	}
	if !strings.Contains(strings.Join(cov.Lake.Uncovered, ","), "T1071.004") || strings.Contains(strings.Join(cov.Lake.Uncovered, ","), "T1562.008") {
		t.Errorf("uncovered techniques %v: want T1071.004 (DNS only) and not T1562.008", cov.Lake.Uncovered)
	}
	out, _, _ = cli(t, "hunt", "coverage", "--lake", lk)
	if !strings.Contains(out, "    dns-tunnelling: no route53_resolver\n") || !strings.Contains(out, "NO FILES IN THE LAKE: vpc_flow, ti_indicators") {
		t.Errorf("text --lake output does not name the blind hunts:\n%s", out)
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--by", "tactic"}, exitUsage, "use technique or stratus"},
		{[]string{"--lake", filepath.Join(dir, "no-lake")}, exitError, "no lake at"},
	} {
		_, errs, code := cli(t, append([]string{"hunt", "coverage"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.msg) {
			t.Errorf("hunt coverage %v: exit %d, want %d with %q\n%s", c.args, code, c.code, c.msg, errs)
		}
	}
	// A hunt file that does not load is missing from the matrix: said, and exit 3.
	if err := os.WriteFile(filepath.Join(mine, "broken.yaml"), []byte("id: my-broken\nversion: one\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, errs, code := cli(t, "hunt", "coverage", "--hunts", mine); code != exitBadInput || !strings.Contains(errs, "broken.yaml") || !strings.Contains(errs, "left out of the coverage") {
		t.Errorf("coverage with a broken hunt file: exit %d, want %d\n%s", code, exitBadInput, errs)
	}
}
