package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ti import prints what it took, what it excluded and what it could not read, with line numbers;
// ti list shows the feed; a re-import of the same file changes nothing.
func TestTIImportAndList(t *testing.T) {
	dir := t.TempDir()
	lakeDir := filepath.Join(dir, "lake")
	feed := filepath.Join(dir, "advisory.txt")
	if err := os.WriteFile(feed, []byte("# advisory 2026-11\n185.220.101.5\n10.0.0.0/8\nnot an indicator at all!\n203.0.113.0/24\n45.155.205.0/24\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// ti import fills an existing lake; compaction starts one.
	raw := filepath.Join(dir, "raw")
	writeTrail(t, raw, time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC))
	if _, code := run(t, "compact", "--from", raw, "--lake", lakeDir); code != exitOK {
		t.Fatalf("compact: exit %d", code)
	}
	out, code := run(t, "ti", "import", "--lake", lakeDir, "--feed", "advisory", "--now", "2026-11-20", feed)
	if code != exitOK {
		t.Fatalf("ti import: exit %d\n%s", code, out)
	}
	for _, want := range []string{
		// documentation ranges stay: they are never VPC-internal, and AWS's samples use them as public stand-ins
		"feed advisory: 3 listed",
		"excluded " + feed + ":3: 10.0.0.0/8",
		"malformed " + feed + ":4:",
		"committed ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("ti import output lacks %q:\n%s", want, out)
		}
	}
	out, code = run(t, "ti", "list", "--lake", lakeDir)
	if code != exitOK || !strings.Contains(out, "advisory") {
		t.Errorf("ti list: exit %d\n%s", code, out)
	}
	out, code = run(t, "ti", "import", "--lake", lakeDir, "--feed", "advisory", "--now", "2026-11-21", feed)
	if code != exitOK || !strings.Contains(out, "nothing changed") {
		t.Errorf("re-import of the same feed: exit %d\n%s", code, out)
	}
}
