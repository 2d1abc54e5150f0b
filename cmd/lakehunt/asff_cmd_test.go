package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
)

// One finding whose region is not an AWS region name never keeps the others out of asff.json: hunt run
// and export asff write the others, list it on stderr and in run.json, and exit 3; with --region it is
// filed under that region, with a warning.
func TestHuntRunOddRegionLeavesOutOneFinding(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	writeOddRegionTrail(t, raw)
	if _, errs, code := cli(t, "compact", "--from", raw, "--lake", lk); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, errs)
	}
	hunts := writeHuntDir(t, "")
	rd := filepath.Join(dir, "run")
	huntRun := []string{"hunt", "run", "--lake", lk, "--no-library", "--hunts", hunts, "--from", "2026-03-02", "--to", "2026-03-03", "--out", rd}

	const reason = `region "apiso-westcentral-3r" is not an AWS region name: pass the Security Hub region (--region) to file the finding there`
	out, errs, code := cli(t, huntRun...)
	if code != exitBadInput {
		t.Fatalf("hunt run: exit %d, want %d\n%s\n%s", code, exitBadInput, out, errs)
	}
	if !strings.Contains(errs, "asff: left out finding ") || !strings.Contains(errs, reason) || !strings.Contains(errs, "lakehunt: 1 of 3 findings left out of "+filepath.Join(rd, "asff.json")) {
		t.Errorf("stderr does not name the finding left out and why:\n%s", errs)
	}
	fs, oddID := checkASFF(t, rd, 2, reason)
	for _, f := range fs {
		if aws.ToString(f.Region) == "eusc-de-east-1" && !strings.HasPrefix(aws.ToString(f.ProductArn), "arn:aws-eusc:securityhub:eusc-de-east-1:") {
			t.Errorf("the eusc-de-east-1 finding has ProductArn %s", aws.ToString(f.ProductArn))
		}
	}
	// The finding is in the run like the others: only the ASFF lacks it.
	if n := strings.Count(readFile(t, filepath.Join(rd, lake.FindingsFile)), "\n"); n != 3 {
		t.Errorf("findings.jsonl has %d findings, want 3", n)
	}

	// export asff over the same run directory does the same.
	out, errs, code = cli(t, "export", "asff", "--run", rd)
	if code != exitBadInput || !strings.Contains(out, "wrote 2 findings") || !strings.Contains(errs, "finding "+oddID) || !strings.Contains(errs, "1 of 3 findings left out") {
		t.Errorf("export asff: exit %d, want %d\n%s\n%s", code, exitBadInput, out, errs)
	}
	checkASFF(t, rd, 2, reason)
	// To stdout: the same findings, the same exit status.
	if out, _, code := cli(t, "export", "asff", "--run", rd, "--out", "-"); code != exitBadInput || strings.Count(out, `"SchemaVersion"`) != 2 {
		t.Errorf("export asff --out -: exit %d, %d findings", code, strings.Count(out, `"SchemaVersion"`))
	}

	// export securityhub sends the others and exits 3 for the one left out.
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "no-aws-config"))
	out, errs, code = cli(t, "export", "securityhub", "--run", rd, "--dry-run")
	if code != exitBadInput || !strings.Contains(out, "total: 2 findings") || !strings.Contains(errs, reason) {
		t.Errorf("export securityhub --dry-run: exit %d, want %d\n%s\n%s", code, exitBadInput, out, errs)
	}

	// With the Security Hub region, the odd finding is filed there, with a warning; nothing is left out.
	out, errs, code = cli(t, "export", "asff", "--run", rd, "--region", "eu-central-1")
	wantWarn := "asff: finding " + oddID + `: Region: "apiso-westcentral-3r" is not an AWS region name; used the import region eu-central-1`
	if code != exitOK || !strings.Contains(out, "wrote 3 findings") || !strings.Contains(errs, wantWarn) {
		t.Errorf("export asff --region: exit %d\n%s\n%s\nwant the warning %q", code, out, errs, wantWarn)
	}
	checkASFF(t, rd, 3, "")
	if _, errs, code := cli(t, append(huntRun, "--region", "eu-central-1")...); code != exitOK || !strings.Contains(errs, wantWarn) {
		t.Errorf("hunt run --region: exit %d\n%s", code, errs)
	}
	checkASFF(t, rd, 3, "")
	if _, errs, code := cli(t, append(huntRun, "--region", "apiso-westcentral-3r")...); code != exitUsage || !strings.Contains(errs, `--region "apiso-westcentral-3r" is not an AWS region name`) {
		t.Errorf("hunt run with a bad --region: exit %d, want %d\n%s", code, exitUsage, errs)
	}
}

// writeOddRegionTrail writes a StopLogging call by each of alice (us-east-1), odd (apiso-westcentral-3r)
// and erika (eusc-de-east-1).
func writeOddRegionTrail(t *testing.T, raw string) {
	at := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	var recs []map[string]any
	for i, c := range []struct{ user, region string }{{"alice", "us-east-1"}, {"odd", "apiso-westcentral-3r"}, {"erika", "eusc-de-east-1"}} {
		recs = append(recs, map[string]any{
			"eventVersion": "1.08", "eventTime": at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "eventSource": "cloudtrail.amazonaws.com",
			"eventName": "StopLogging", "awsRegion": c.region, "sourceIPAddress": "198.51.100.7", "eventID": fmt.Sprintf("odd-region-%d", i),
			"eventType": "AwsApiCall", "recipientAccountId": "111122223333",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::111122223333:user/" + c.user, "accountId": "111122223333"},
		})
	}
	writeTrailObject(t, raw, at, "odd", recs)
}

// A scheduled tick writes and publishes the other findings; the one left out is a problem of the tick
// (exit 3) that a retry cannot fix, so the window is done.
func TestRunDueOddRegion(t *testing.T) {
	dir := t.TempDir()
	raw, lk, runs := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "runs")
	writeOddRegionTrail(t, raw)
	base := []string{"run", "--due", "--lake", lk, "--from", raw, "--runs", runs, "--no-library", "--hunts", writeHuntDir(t, "")}
	out, logs, code := cli(t, append(base, "--now", "2026-03-02T12:30:00Z")...)
	if code != exitBadInput || !strings.Contains(out, "problem: ") || !strings.Contains(out, "1 of 3 findings left out of asff.json") ||
		!strings.Contains(logs, `"msg":"asff: finding left out"`) {
		t.Fatalf("tick: exit %d, want %d\n%s\n%s", code, exitBadInput, out, logs)
	}
	dirs, _ := filepath.Glob(filepath.Join(runs, "*", lake.RunFile))
	if len(dirs) != 1 {
		t.Fatalf("run directories %v, want 1", dirs)
	}
	checkASFF(t, filepath.Dir(dirs[0]), 2, `region "apiso-westcentral-3r" is not an AWS region name: pass the Security Hub region (--region) to file the finding there`)
	if _, logs, code := cli(t, append(base, "--now", "2026-03-02T13:30:00Z")...); code != exitNothingDue {
		t.Errorf("next tick: exit %d, want %d (the window is done)\n%s", code, exitNothingDue, logs)
	}
}

// checkASFF checks RUNDIR/asff.json holds n findings and run.json lists the one left out with reason
// (none when reason is ""); it returns the findings and the id of the finding about user odd.
func checkASFF(t *testing.T, rd string, n int, reason string) ([]types.AwsSecurityFinding, string) {
	t.Helper()
	fs, err := asff.ReadFile(filepath.Join(rd, reports.ASFFFile))
	if err != nil || len(fs) != n {
		t.Fatalf("asff.json: %d findings, want %d (%v)", len(fs), n, err)
	}
	run, err := reports.ReadRun(rd)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case reason == "" && len(run.ASFFLeftOut) > 0:
		t.Errorf("run.json asff_left_out = %v, want none", run.ASFFLeftOut)
	case reason != "" && (len(run.ASFFLeftOut) != 1 || run.ASFFLeftOut[0].Reason != reason || run.ASFFLeftOut[0].HuntID != "cli-stoplogging"):
		t.Errorf("run.json asff_left_out = %v, want the odd-region finding: %s", run.ASFFLeftOut, reason)
	}
	_, findings, err := reports.ReadRunDir(rd)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if strings.HasSuffix(f.Entity.Key, "user/odd") {
			return fs, f.ID
		}
	}
	t.Fatal("no finding about user odd")
	return nil, ""
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
