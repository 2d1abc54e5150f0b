package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
)

func copyRun(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{lake.RunFile, lake.FindingsFile} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "reports", name, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestWrite(t *testing.T) {
	dir := copyRun(t, "run-mixed")
	res, err := Write(dir, asff.Options{Region: "us-east-1"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Findings != 5 || len(res.Warnings) != 1 || res.ASFF != filepath.Join(dir, reports.ASFFFile) {
		t.Errorf("result %+v", res)
	}
	back, err := asff.ReadFile(res.ASFF)
	if err != nil || len(back) != 5 {
		t.Fatalf("asff.json: %d findings, %v", len(back), err)
	}
	html, err := os.ReadFile(res.Report)
	if err != nil || !strings.Contains(string(html), "5 findings:") {
		t.Fatalf("report.html: %v", err)
	}
}

// A finding that cannot be ASFF is left out of asff.json, with its reason in run.json; the others are
// written. Once the cause is fixed, the next Write puts it back and clears the record.
func TestWriteLeavesOutOneFinding(t *testing.T) {
	dir := copyRun(t, "run-mixed")
	b, _ := os.ReadFile(filepath.Join(dir, lake.FindingsFile))
	b = []byte(strings.ReplaceAll(string(b), `"region": "eu-west-1"`, `"region": "apiso-westcentral-3r"`))
	if err := os.WriteFile(filepath.Join(dir, lake.FindingsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Write(dir, asff.Options{})
	if err != nil {
		t.Fatal(err)
	}
	wantReason := `region "apiso-westcentral-3r" is not an AWS region name: pass the Security Hub region (--region)`
	if len(res.LeftOut) != 1 || res.LeftOut[0].FindingID != "f-2c7d11" || !strings.Contains(res.LeftOut[0].Reason, wantReason) {
		t.Fatalf("left out %v", res.LeftOut)
	}
	back, err := asff.ReadFile(filepath.Join(dir, reports.ASFFFile))
	if err != nil || len(back) != 4 {
		t.Fatalf("asff.json: %d findings, want the other 4 (%v)", len(back), err)
	}
	run, err := reports.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.ASFFLeftOut) != 1 || run.ASFFLeftOut[0] != res.LeftOut[0] {
		t.Errorf("run.json asff_left_out = %v", run.ASFFLeftOut)
	}
	if _, err := os.Stat(res.Report); err != nil {
		t.Errorf("report.html: %v", err)
	}

	res, err = Write(dir, asff.Options{Region: "eu-central-1"})
	if err != nil || len(res.LeftOut) != 0 {
		t.Fatalf("with an import region: left out %v, %v", res.LeftOut, err)
	}
	if back, _ := asff.ReadFile(res.ASFF); len(back) != 5 {
		t.Errorf("asff.json has %d findings, want 5", len(back))
	}
	if run, _ := reports.ReadRun(dir); run == nil || len(run.ASFFLeftOut) != 0 {
		t.Errorf("run.json still lists left-out findings: %v", run)
	}
}

// Options that stop asff.json as a whole still leave the report written.
func TestWriteReportDespiteASFFError(t *testing.T) {
	dir := copyRun(t, "run-mixed")
	res, err := Write(dir, asff.Options{Region: "mars"})
	if err == nil || !strings.Contains(err.Error(), `asff.json not written: region "mars" is not an AWS region name`) {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(res.Report); statErr != nil {
		t.Errorf("the report was not written: %v", statErr)
	}
	if _, statErr := os.Stat(filepath.Join(dir, reports.ASFFFile)); !os.IsNotExist(statErr) {
		t.Errorf("asff.json was written")
	}
}
