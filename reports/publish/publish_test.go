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

// A run whose findings cannot become ASFF still gets its report, and the error says what to pass.
func TestWriteReportDespiteASFFError(t *testing.T) {
	dir := copyRun(t, "run-mixed")
	b, _ := os.ReadFile(filepath.Join(dir, lake.FindingsFile))
	b = []byte(strings.ReplaceAll(string(b), `"account_id": "444455556666", `, ""))
	if err := os.WriteFile(filepath.Join(dir, lake.FindingsFile), b, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Write(dir, asff.Options{Region: "us-east-1"})
	if err == nil || !strings.Contains(err.Error(), "finding f-2c7d11 (hunt ct-logging-evasion): no account id: pass a default account") {
		t.Fatalf("err = %v", err)
	}
	if _, statErr := os.Stat(res.Report); statErr != nil {
		t.Errorf("the report was not written: %v", statErr)
	}
	if _, statErr := os.Stat(filepath.Join(dir, reports.ASFFFile)); !os.IsNotExist(statErr) {
		t.Errorf("a partial asff.json was written")
	}
}
