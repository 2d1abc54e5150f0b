package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// myHunt is a shipped hunt under another id, as a user's own hunt.
func myHunt(t *testing.T) string {
	b, err := os.ReadFile(filepath.Join("..", "..", "hunts", "library", "root-account-usage.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Replace(string(b), "id: root-account-usage", "id: my-root-use", 1)
}

// TestHuntLintWriteLockDoesWhatLintSays: the command lint recommends fixes the lock once the version
// is bumped, does not paper over a change without a bump, and --write-lock without --hunts is a usage error.
func TestHuntLintWriteLockDoesWhatLintSays(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my-hunts")
	os.MkdirAll(dir, 0o755)
	file := filepath.Join(dir, "root.yaml")
	hunt := myHunt(t)
	os.WriteFile(file, []byte(hunt), 0o644)
	lint := func() (string, int) {
		out, errs, code := cli(t, "hunt", "lint", "--no-library", "--hunts", dir)
		return out + errs, code
	}
	recommended := func(out string) []string {
		_, cmd, ok := strings.Cut(out, "`lakehunt ")
		cmd, _, _ = strings.Cut(cmd, "`")
		if !ok {
			t.Fatalf("lint recommends no command:\n%s", out)
		}
		return strings.Fields(cmd)
	}
	out, code := lint()
	if code != exitError || !strings.Contains(out, "not in hunts.lock") {
		t.Fatalf("a hunt missing from the lock: exit %d\n%s", code, out)
	}
	if _, errs, code := cli(t, recommended(out)...); code != exitOK {
		t.Fatalf("the recommended command %v: exit %d\n%s", recommended(out), code, errs)
	}
	if out, code := lint(); code != exitOK {
		t.Fatalf("after the recommended command: exit %d\n%s", code, out)
	}

	changed := strings.Replace(hunt, "count(*) AS event_count", "count(*) + 0 AS event_count", 1)
	os.WriteFile(file, []byte(changed), 0o644)
	out, code = lint()
	if code != exitError || !strings.Contains(out, "bump version to 2") {
		t.Fatalf("a changed query without a bump: exit %d\n%s", code, out)
	}
	if _, errs, code := cli(t, recommended(out)...); code != exitError || !strings.Contains(errs, "bump its version first") {
		t.Errorf("--write-lock without the bump: exit %d, want %d and the hunt kept at its pinned version\n%s", code, exitError, errs)
	}
	os.WriteFile(file, []byte(strings.Replace(changed, "version: 1", "version: 2", 1)), 0o644)
	if _, errs, code := cli(t, recommended(out)...); code != exitOK {
		t.Fatalf("the recommended command after the bump: exit %d\n%s", code, errs)
	}
	if out, code := lint(); code != exitOK {
		t.Fatalf("after the bump and the recommended command: exit %d\n%s", code, out)
	}

	if _, errs, code := cli(t, "hunt", "lint", "--write-lock"); code != exitUsage || !strings.Contains(errs, "--hunts DIR") {
		t.Errorf("--write-lock without --hunts: exit %d, stderr %q; want %d and what to give", code, errs, exitUsage)
	}
}

// TestHuntTestFailsAFileThatDoesNotLoad: a hunt file with a schema error is a counted FAIL, not a PASS.
func TestHuntTestFailsAFileThatDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "broken.yaml"), []byte("id: my-broken\nversion: one\n"), 0o644)
	out, _, code := cli(t, "hunt", "test", "--no-library", "--hunts", dir)
	if code != exitError || !strings.Contains(out, "--- FAIL: "+filepath.ToSlash(dir)+"/broken.yaml") ||
		!strings.Contains(out, "\nFAIL\n") || !strings.Contains(out, "0 passed, 1 failed") || strings.Contains(out, "PASS") {
		t.Errorf("hunt test on a file that does not load: exit %d\n%s", code, out)
	}
}
