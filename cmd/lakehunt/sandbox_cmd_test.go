package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
)

// Hostile hunt files, as a pull request could bring them, fail at hunt lint, hunt test and hunt run
// (a failed hunt, exit 3), each with a message naming what it tried, and none writes its file.
func TestHostileHuntsFailAtLintTestAndRun(t *testing.T) {
	dir := t.TempDir()
	outside := filepath.Join(dir, "outside")
	os.MkdirAll(outside, 0o755)
	secret := filepath.Join(outside, "secret.txt")
	os.WriteFile(secret, []byte("TOPSECRET-7f3a\n"), 0o600)
	target := filepath.Join(outside, "written")
	huntDir := filepath.Join(dir, "hunts")
	os.MkdirAll(huntDir, 0o755)

	cases := map[string]struct{ query, want string }{
		"read-text": {"SELECT content AS root_arn FROM read_text('" + secret + "')", `outside the lake: Cannot access file "` + secret + `"`},
		"read-csv":  {"SELECT column0 AS root_arn FROM read_csv('" + secret + "', header = false)", `outside the lake: Cannot access file "` + secret + `"`},
		"glob":      {"SELECT file AS root_arn FROM glob('" + outside + "/*')", `outside the lake: Cannot access file "` + outside + `/*"`},
		"copy-to":   {"COPY (SELECT 1 AS root_arn) TO '" + target + "'", `outside the lake: Cannot access file "` + target + `"`},
		"attach":    {"ATTACH '" + target + "' AS x", "ATTACH statements are not allowed here (only SELECT)"},
		"set":       {"SET memory_limit = '1TB'", "SET statements are not allowed here (only SELECT)"},
		"install":   {"INSTALL httpfs", "INSTALL/LOAD statements are not allowed here (only SELECT)"},
		"two":       {"SELECT 1 AS root_arn;\n  COPY (SELECT 1) TO '" + target + "'", "give one SQL statement"},
		"endless":   {"SELECT count(*)::VARCHAR AS root_arn FROM range(1000000000000) a, range(1000000000000) b", "stopped: the hunt's SQL ran for its whole time limit of 2s"},
	}
	queryRE := regexp.MustCompile(`(?s)\nquery: \|\n.*?\noutput:`)
	for name, c := range cases {
		hunt := strings.Replace(myHunt(t), "id: my-root-use", "id: hostile-"+name, 1)
		hunt = queryRE.ReplaceAllLiteralString(hunt, "\nquery: |\n  "+c.query+"\noutput:")
		os.WriteFile(filepath.Join(huntDir, name+".yaml"), []byte(hunt), 0o644)
	}
	noFile := func(stage string) {
		t.Helper()
		if _, err := os.Stat(target); !os.IsNotExist(err) {
			t.Fatalf("after %s, %s exists (%v)", stage, target, err)
		}
	}
	limits := []string{"--no-library", "--hunts", huntDir, "--timeout", "2s"}

	out, errs, code := cli(t, append([]string{"hunt", "lint", "--write-lock"}, limits...)...)
	if code != exitError {
		t.Errorf("hunt lint: exit %d, want %d\n%s%s", code, exitError, out, errs)
	}
	for name, c := range cases {
		if !regexp.MustCompile(regexp.QuoteMeta(name+".yaml:") + `\d+(:\d+)?: .*` + regexp.QuoteMeta(c.want)).MatchString(out) {
			t.Errorf("hunt lint does not say %q at %s.yaml:\n%s", c.want, name, out)
		}
	}
	noFile("hunt lint")

	out, errs, code = cli(t, append([]string{"hunt", "test"}, limits...)...)
	if code != exitError || strings.Contains(out, "--- PASS") {
		t.Errorf("hunt test: exit %d, want %d and no test passing\n%s%s", code, exitError, out, errs)
	}
	for name, c := range cases {
		if !regexp.MustCompile(`(?m)^--- FAIL: hostile-` + name + `/.*\n.*hunt failed: query: .*` + regexp.QuoteMeta(c.want)).MatchString(out) {
			t.Errorf("hunt test does not fail hostile-%s with %q:\n%s", name, c.want, out)
		}
	}
	noFile("hunt test")

	lk, rd := filepath.Join(dir, "lake"), filepath.Join(dir, "run")
	if _, err := lake.Open(context.Background(), lk, lake.Options{Create: true}); err != nil {
		t.Fatal(err)
	}
	out, errs, code = cli(t, append([]string{"hunt", "run", "--lake", lk, "--from", "2024-06-10", "--to", "2024-06-11", "--out", rd}, limits...)...)
	if code != exitBadInput {
		t.Errorf("hunt run: exit %d, want %d\n%s%s", code, exitBadInput, out, errs)
	}
	var run lake.Run
	b, err := os.ReadFile(filepath.Join(rd, lake.RunFile))
	if err != nil || json.Unmarshal(b, &run) != nil {
		t.Fatalf("run.json: %v\n%s", err, b)
	}
	errByHunt := map[string]string{}
	for _, hr := range run.Hunts {
		if hr.Status == "failed" {
			errByHunt[hr.ID] = hr.Error
		}
	}
	for name, c := range cases {
		if e := errByHunt["hostile-"+name]; !strings.Contains(e, c.want) || !strings.Contains(errs, "hostile-"+name) {
			t.Errorf("hunt run: hostile-%s failed with %q, want %q, named on stderr:\n%s", name, e, c.want, errs)
		}
	}
	if run.FailedCount != len(cases) {
		t.Errorf("run.json: %d failed hunts, want %d", run.FailedCount, len(cases))
	}
	for _, f := range []string{lake.RunFile, lake.FindingsFile, "asff.json", "report.html"} {
		if b, _ := os.ReadFile(filepath.Join(rd, f)); strings.Contains(string(b), "TOPSECRET") {
			t.Errorf("the secret reached %s", f)
		}
	}
	noFile("hunt run")
}

// lakehunt query reads the lake's tables only, unless the analyst lifts that for their own SQL.
func TestQueryReadsOnlyTheLakeUnlessAllowed(t *testing.T) {
	dir := t.TempDir()
	lk := filepath.Join(dir, "lake")
	if _, err := lake.Open(context.Background(), lk, lake.Options{Create: true}); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "mine.csv")
	os.WriteFile(mine, []byte("ip,label\n203.0.113.7,scanner\n"), 0o644)
	target := filepath.Join(dir, "out.csv")

	for _, q := range []string{
		"SELECT * FROM read_csv('" + mine + "')",
		"COPY (SELECT 1 AS x) TO '" + target + "'",
	} {
		_, errs, code := cli(t, "query", "--lake", lk, q)
		if code != exitError || !strings.Contains(errs, "outside the lake") || !strings.Contains(errs, "--allow-external-access lifts this") {
			t.Errorf("query %q: exit %d, stderr %q; want %d, refused, and the flag named", q, code, errs, exitError)
		}
	}
	if _, errs, code := cli(t, "query", "--lake", lk, "SELECT 1; SELECT 2"); code != exitUsage || !strings.Contains(errs, "query takes one statement") {
		t.Errorf("two statements: exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(target); !os.IsNotExist(err) {
		t.Fatalf("the refused COPY wrote %s (%v)", target, err)
	}

	out, errs, code := cli(t, "query", "--lake", lk, "--allow-external-access", "--format", "csv", "SELECT label FROM read_csv('"+mine+"')")
	if code != exitOK || !strings.Contains(out, "scanner") {
		t.Errorf("--allow-external-access read_csv: exit %d\n%s%s", code, out, errs)
	}
	if _, errs, code := cli(t, "query", "--lake", lk, "--allow-external-access", "COPY (SELECT count(*) AS n FROM cloudtrail) TO '"+target+"'"); code != exitOK {
		t.Errorf("--allow-external-access COPY: exit %d\n%s", code, errs)
	}
	if b, err := os.ReadFile(target); err != nil || !strings.Contains(string(b), "n") {
		t.Errorf("--allow-external-access COPY wrote %q (%v)", b, err)
	}
	if out, _, _ := cli(t, "query", "--help"); !strings.Contains(out, "--allow-external-access") {
		t.Errorf("query --help does not document --allow-external-access:\n%s", out)
	}
}

func TestHuntLimitFlagsAreChecked(t *testing.T) {
	for _, args := range [][]string{
		{"hunt", "lint", "--memory-limit", "lots"},
		{"hunt", "test", "--threads", "-1"},
		{"hunt", "run", "--lake", t.TempDir(), "--out", t.TempDir(), "--memory-limit", "25%"},
	} {
		if _, errs, code := cli(t, args...); code != exitUsage || !strings.Contains(errs, "give") {
			t.Errorf("%v: exit %d, stderr %q; want %d and what to give", args, code, errs, exitUsage)
		}
	}
}
