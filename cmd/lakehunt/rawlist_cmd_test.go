package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMainChild is the lakehunt process the tests below start, to send it signals and read its stderr:
// main() with the arguments in LAKEHUNT_MAIN_ARGS. It does nothing in a normal test run.
func TestMainChild(t *testing.T) {
	args := os.Getenv("LAKEHUNT_MAIN_ARGS")
	if args == "" {
		t.Skip("started by other tests")
	}
	os.Args = []string{"lakehunt"}
	if err := json.Unmarshal([]byte(args), &os.Args); err != nil {
		t.Fatal(err)
	}
	main()
	os.Exit(0)
}

// child starts lakehunt with args in a process of its own.
func child(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	b, _ := json.Marshal(append([]string{"lakehunt"}, args...))
	cmd := exec.Command(os.Args[0], "-test.run=^TestMainChild$")
	cmd.Env = append(os.Environ(), "LAKEHUNT_MAIN_ARGS="+string(b))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

const rawAcct = "111122223333"

// writeTrailObjects writes n CloudTrail objects of per events each (ids ev-OBJECT-I), delivered an hour ago.
func writeTrailObjects(t *testing.T, raw string, n, per int) {
	t.Helper()
	dir := filepath.Join(raw, "AWSLogs", rawAcct, "CloudTrail", "us-east-1", "2026", "01", "01")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-time.Hour)
	for f := 0; f < n; f++ {
		var recs []map[string]any
		for i := 0; i < per; i++ {
			recs = append(recs, map[string]any{
				"eventVersion": "1.08", "eventID": fmt.Sprintf("ev-%d-%d", f, i), "eventTime": fmt.Sprintf("2026-01-01T%02d:%02d:%02dZ", f%24, i%60, f%60),
				"eventSource": "ec2.amazonaws.com", "eventName": "DescribeInstances", "awsRegion": "us-east-1", "recipientAccountId": rawAcct,
				"userIdentity": map[string]any{"type": "IAMUser", "arn": "arn:aws:iam::" + rawAcct + ":user/u"},
			})
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		json.NewEncoder(zw).Encode(map[string]any{"Records": recs})
		zw.Close()
		p := filepath.Join(dir, fmt.Sprintf("%s_CloudTrail_us-east-1_20260101T%04dZ_s%d.json.gz", rawAcct, f, f))
		if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, past, past)
	}
}

// TestSIGTERMStopsCompactPromptly starts compact over a tree that also holds a FIFO and a link to
// /dev/zero, sends SIGTERM once it committed a batch, and expects it gone within seconds, saying it was
// interrupted; a re-run then brings every event into the lake exactly once.
func TestSIGTERMStopsCompactPromptly(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	const files, per = 200, 400
	writeTrailObjects(t, raw, files, per)
	ct := filepath.Join(raw, "AWSLogs", rawAcct, "CloudTrail", "us-east-1", "2026", "01", "01")
	if err := syscall.Mkfifo(filepath.Join(ct, rawAcct+"_CloudTrail_us-east-1_20260101T0000Z_fifo.json.gz"), 0o644); err != nil {
		t.Fatal(err)
	}
	flow := filepath.Join(raw, "AWSLogs", rawAcct, "vpcflowlogs", "us-east-1", "2026", "01", "01")
	os.MkdirAll(flow, 0o755)
	if err := os.Symlink("/dev/zero", filepath.Join(flow, rawAcct+"_vpcflowlogs_us-east-1_fl-1_20260101T0000Z_zero.log.gz")); err != nil {
		t.Fatal(err)
	}

	cmd, out := child(t, "compact", "--from", raw, "--lake", lk, "--batch-rows", "2000")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for committed := false; !committed; {
		select {
		case err := <-done:
			t.Fatalf("compact ended before it was signalled (%v): make the corpus bigger\n%s", err, out)
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("compact made no commit in 2 minutes\n%s", out)
		case <-time.After(5 * time.Millisecond):
			es, _ := os.ReadDir(filepath.Join(lk, "_lakehunt", "log"))
			committed = len(es) > 0
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != exitError || !strings.Contains(out.String(), "interrupted") {
			t.Errorf("after SIGTERM: %v, want exit %d saying it was interrupted\n%s", err, exitError, out)
		}
		t.Logf("stopped %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("compact still running 10s after SIGTERM\n%s", out)
	}

	sum := compactOK(t, "--from", raw, "--lake", lk, "--allow-quarantine")
	if sum.ObjectsAlreadyDone == 0 || sum.ObjectsAlreadyDone+sum.ObjectsRead != files {
		t.Errorf("re-run: %+v; want the objects the stopped run committed done, the others read", sum)
	}
	q, _, code := cli(t, "query", "--lake", lk, "--format", "csv", "SELECT count(*) AS n, count(DISTINCT event_id) AS ids FROM cloudtrail")
	if want := fmt.Sprintf("%d,%d", files*per, files*per); code != exitOK || !strings.Contains(q, want) {
		t.Errorf("after the re-run: %q (exit %d), want every event once (%s)", q, code, want)
	}
}

// TestCompactReportsWhatItDidNotRead: entries that are not files are listed and exit 3; a consumed object
// that changes is a warning on stderr, a count in the summary and an entry in the quarantine; quarantine
// --retry releases an object quarantined whole and the next compact reads it again.
func TestCompactReportsWhatItDidNotRead(t *testing.T) {
	dir := t.TempDir()
	raw, lk := filepath.Join(dir, "raw"), filepath.Join(dir, "lake")
	writeTrailObjects(t, raw, 2, 10)
	ct := filepath.Join(raw, "AWSLogs", rawAcct, "CloudTrail", "us-east-1", "2026", "01", "01")
	fifo := filepath.Join(ct, rawAcct+"_CloudTrail_us-east-1_20260101T0000Z_fifo.json.gz")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, code := cli(t, "compact", "--from", raw, "--lake", lk)
	if code != exitBadInput || !strings.Contains(out, "not read "+fifo+": not a regular file (fifo)") || !strings.Contains(errs, "1 entries under --from are not files") {
		t.Errorf("compact with a FIFO: exit %d\n%s%s", code, out, errs)
	}
	os.Remove(fifo)

	// Tamper with a consumed object: the warning is on stderr of the process.
	obj := filepath.Join(ct, rawAcct+"_CloudTrail_us-east-1_20260101T0000Z_s0.json.gz")
	b, _ := os.ReadFile(obj)
	os.WriteFile(obj, b[:len(b)-1], 0o644)
	os.Chtimes(obj, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	cmd, stderr := child(t, "compact", "--from", raw, "--lake", lk, "--json")
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitBadInput || !strings.Contains(stderr.String(), "raw object changed after it was consumed") ||
		!strings.Contains(stderr.String(), `"objects_changed_after_consumed": 1`) || !strings.Contains(stderr.String(), "1 consumed objects changed since") {
		t.Errorf("compact after a consumed object changed: %v\n%s", err, stderr)
	}
	out, _, _ = cli(t, "quarantine", "--lake", lk)
	if !strings.Contains(out, "_s0.json.gz") || !strings.Contains(out, "changed after it was consumed") {
		t.Errorf("quarantine does not list the changed object:\n%s", out)
	}

	// An object that stays bad: released, read again, quarantined again, listed once.
	bad := filepath.Join(ct, rawAcct+"_CloudTrail_us-east-1_20260101T0100Z_bad.json.gz")
	os.WriteFile(bad, []byte("not gzip, not json"), 0o644)
	os.Chtimes(bad, time.Now().Add(-time.Hour), time.Now().Add(-time.Hour))
	if _, _, code := cli(t, "compact", "--from", raw, "--lake", lk); code != exitBadInput {
		t.Errorf("compact with a bad object: exit %d", code)
	}
	out, _, code = cli(t, "quarantine", "--lake", lk, "--retry")
	if code != exitOK || !strings.Contains(out, "released AWSLogs/"+rawAcct+"/CloudTrail/us-east-1/2026/01/01/"+filepath.Base(bad)) || !strings.Contains(out, "1 object released") {
		t.Errorf("quarantine --retry: exit %d\n%s", code, out)
	}
	if out, _, _ := cli(t, "quarantine", "--lake", lk); strings.Contains(out, "_bad.json.gz") {
		t.Errorf("a released object is still listed:\n%s", out)
	}
	out, _, code = cli(t, "compact", "--from", raw, "--lake", lk, "--json")
	if code != exitBadInput || !strings.Contains(out, `"objects_reread": 1`) {
		t.Errorf("compact after --retry: exit %d\n%s", code, out)
	}
	out, _, _ = cli(t, "quarantine", "--lake", lk)
	if n := strings.Count(out, "_bad.json.gz\twhole object"); n != 1 {
		t.Errorf("the object quarantined again is listed %d times, want once:\n%s", n, out)
	}
}
