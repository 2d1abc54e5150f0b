package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

// hunt run writes a page for the finding's principal into RUNDIR/entities; investigate writes the same
// kind of page for any entity, with the findings of the runs it is given; mistakes are usage errors and
// an entity nothing mentions exits 3.
func TestInvestigate(t *testing.T) {
	dir := t.TempDir()
	raw, lk, rd := filepath.Join(dir, "raw"), filepath.Join(dir, "lake"), filepath.Join(dir, "run")
	const mallory = "arn:aws:iam::111122223333:user/mallory"
	for d := 1; d <= 3; d++ { // her history: ListBuckets from the office
		at := time.Date(2026, 3, d, 9, 0, 0, 0, time.UTC)
		writeTrailObject(t, raw, at, "routine", []map[string]any{{
			"eventVersion": "1.08", "eventTime": at.Format(time.RFC3339), "eventSource": "s3.amazonaws.com", "eventName": "ListBuckets",
			"awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.7", "eventID": fmt.Sprintf("routine-%d", d), "eventType": "AwsApiCall",
			"recipientAccountId": "111122223333", "userAgent": "aws-cli/2.15.0",
			"userIdentity": map[string]any{"type": "IAMUser", "arn": mallory, "accountId": "111122223333"},
		}})
	}
	writeTrail(t, raw, time.Date(2026, 3, 5, 2, 0, 0, 0, time.UTC)) // then StopLogging
	if _, errs, code := cli(t, "compact", "--from", raw, "--lake", lk); code != exitOK {
		t.Fatalf("compact: exit %d\n%s", code, errs)
	}

	out, errs, code := cli(t, "hunt", "run", "--lake", lk, "--no-library", "--hunts", writeHuntDir(t, ""), "--from", "2026-03-05", "--to", "2026-03-06", "--out", rd)
	if code != exitOK {
		t.Fatalf("hunt run: exit %d\n%s\n%s", code, out, errs)
	}
	runPage := filepath.Join(rd, entity.PageName(group.Link{Kind: group.KindPrincipal, Value: mallory}))
	if !strings.Contains(out, "entity pages: 1 in "+filepath.Join(rd, "entities")) {
		t.Errorf("hunt run does not say where the entity pages are:\n%s", out)
	}
	html := readFile(t, runPage)
	for _, s := range []string{"StopLogging by " + mallory, `<code class="hunt">cli-stoplogging</code>`, "cloudtrail:StopLogging", "2026-03-01 09:00:00Z"} {
		if !strings.Contains(html, s) {
			t.Errorf("%s does not show %q", runPage, s)
		}
	}

	page := filepath.Join(dir, "mallory.html")
	out, errs, code = cli(t, "investigate", "--lake", lk, "--entity", "principal:"+mallory, "--runs", rd, "--out", page)
	if code != exitOK || !strings.Contains(out, "wrote "+page) || !strings.Contains(out, "first seen 2026-03-01T09:00:00Z, last seen 2026-03-05T02:00:00Z, 1 finding") {
		t.Fatalf("investigate: exit %d\n%s\n%s", code, out, errs)
	}
	if html := readFile(t, page); !strings.Contains(html, "cloudtrail:StopLogging") || !strings.Contains(html, "StopLogging by "+mallory) {
		t.Errorf("the page lacks the new API or the finding")
	}

	// Without --runs: the scheduled runs the lake stores.
	if out, errs, code := cli(t, "run", "--due", "--lake", lk, "--from", raw, "--no-library", "--hunts", writeHuntDir(t, ""), "--now", "2026-03-05T12:30:00Z"); code != exitOK {
		t.Fatalf("run --due: exit %d\n%s\n%s", code, out, errs)
	}
	out, errs, code = cli(t, "investigate", "--lake", lk, "--entity", "principal:"+mallory, "--out", page)
	if code != exitOK || !strings.Contains(out, "1 finding") || !strings.Contains(readFile(t, page), "1 finding in 1 group, from 1 scheduled run stored in the lake") {
		t.Errorf("investigate without --runs: exit %d\n%s\n%s", code, out, errs)
	}

	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"unknown kind", []string{"--entity", "host:web-1", "--out", page}, exitUsage, "KIND one of"},
		{"bad value", []string{"--entity", "instance:web-1", "--out", page}, exitUsage, "not a valid instance"},
		{"no out", []string{"--entity", "ip:192.0.2.1"}, exitUsage, "needs --lake, --entity and --out"},
		{"window backwards", []string{"--entity", "ip:192.0.2.1", "--out", page, "--from", "2026-03-06", "--to", "2026-03-05"}, exitUsage, "is not before --to"},
		{"not a run directory", []string{"--entity", "ip:192.0.2.1", "--out", page, "--runs", dir}, exitError, "a run directory written by"},
		{"nothing mentions it", []string{"--entity", "ip:192.0.2.1", "--out", page}, exitBadInput, "nothing in the lake or the runs mentions ip:192.0.2.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, errs, code := cli(t, append([]string{"investigate", "--lake", lk}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.msg) {
				t.Errorf("exit %d, want %d with %q:\n%s", code, tc.code, tc.msg, errs)
			}
		})
	}
	if _, err := os.Stat(page); err != nil {
		t.Errorf("the page of an entity nothing mentions is still written: %v", err)
	}
}
