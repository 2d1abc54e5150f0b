package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/s3test"
)

type compactJSON struct {
	ObjectsListed      int `json:"objects_listed"`
	ObjectsAlreadyDone int `json:"objects_already_done"`
	ObjectsRead        int `json:"objects_read"`
	ObjectsSkipped     int `json:"objects_skipped"`
	ObjectsIgnored     int `json:"objects_ignored"`
	// gen re-delivers some CloudTrail files under a second name: read once, the copies counted here
	ObjectsDuplicateContent int `json:"objects_duplicate_content"`
}

func compactOK(t *testing.T, args ...string) compactJSON {
	t.Helper()
	out, errs, code := cli(t, append([]string{"compact", "--json"}, args...)...)
	var sum compactJSON
	if err := json.Unmarshal([]byte(out), &sum); code != exitOK || err != nil {
		t.Fatalf("lakehunt compact %s: exit %d (%v)\n%s%s", strings.Join(args, " "), code, err, out, errs)
	}
	return sum
}

// filesUnder counts the raw files under dir/level.
func filesUnder(t *testing.T, dir, level string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(filepath.Join(dir, level), func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil || n == 0 {
		t.Fatalf("no raw files under %s: %v", level, err)
	}
	return n
}

// TestCompactFromAnyLevel runs the README's compact commands, with --from at each level of the AWS
// layout, on disk and on S3: every object under --from is read (or skipped, digests), none ignored, and
// compacting again from another level reads nothing twice.
func TestCompactFromAnyLevel(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	if _, _, code := cli(t, "gen", "--out", raw, "--scale", "tiny", "--days", "1", "--seed", "3"); code != exitOK {
		t.Fatalf("gen: exit %d", code)
	}
	accounts, err := os.ReadDir(filepath.Join(raw, "AWSLogs"))
	if err != nil || len(accounts) == 0 {
		t.Fatalf("gen wrote no AWSLogs/ACCOUNT folders: %v", err)
	}
	acct := "AWSLogs/" + accounts[0].Name() + "/"
	months, _ := filepath.Glob(filepath.Join(raw, acct, "CloudTrail", "*", "*", "*"))
	if len(months) == 0 {
		t.Fatal("gen wrote no CloudTrail/REGION/YYYY/MM folders")
	}
	month, _ := filepath.Rel(raw, months[0])
	month = filepath.ToSlash(month) + "/"

	for _, level := range []string{"", "AWSLogs/", acct, acct + "CloudTrail/", month} {
		t.Run("disk/"+level, func(t *testing.T) {
			lk := filepath.Join(t.TempDir(), "lake")
			sum := compactOK(t, "--from", filepath.Join(raw, level), "--lake", lk)
			want := filesUnder(t, raw, level)
			ignored := 0
			if level == "" {
				ignored = want - filesUnder(t, raw, "AWSLogs/") // gen's ground truth and TI feed files
			}
			if sum.ObjectsListed != want || sum.ObjectsIgnored != ignored || sum.ObjectsRead+sum.ObjectsSkipped+sum.ObjectsDuplicateContent != want-ignored {
				t.Fatalf("--from %s: %+v; want all %d objects read or skipped", level, sum, want-ignored)
			}
			again := compactOK(t, "--from", raw, "--lake", lk)
			if again.ObjectsAlreadyDone != want-ignored {
				t.Errorf("--from %s then the root: %d objects already done, want the %d read before", level, again.ObjectsAlreadyDone, want-ignored)
			}
		})
	}

	srv := s3test.Start(t)
	bucket := srv.Bucket(t, "org-trail-bucket")
	st, err := lake.OpenStore(context.Background(), bucket, lake.StoreOptions{S3Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	err = filepath.WalkDir(raw, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		key, _ := filepath.Rel(raw, p)
		return lake.PutFile(context.Background(), st, filepath.ToSlash(key), p)
	})
	if err != nil {
		t.Fatal(err)
	}
	lakeURL := srv.Bucket(t, "sec-lake") + "lake/"
	s3 := []string{"--s3-endpoint", srv.Endpoint, "--cache-dir", t.TempDir()}
	flows := func() string {
		out, _, code := cli(t, append([]string{"query", "--lake", lakeURL, "--format", "csv", "SELECT count(*) FROM vpc_flow"}, s3...)...)
		if code != exitOK {
			t.Fatalf("query: exit %d", code)
		}
		return out
	}
	// The README's example, then the account level and the bucket root into the same lake.
	sum := compactOK(t, append([]string{"--from", bucket + "AWSLogs/", "--lake", lakeURL}, s3...)...)
	if want := filesUnder(t, raw, "AWSLogs/"); sum.ObjectsListed != want || sum.ObjectsIgnored != 0 || sum.ObjectsRead+sum.ObjectsSkipped+sum.ObjectsDuplicateContent != want {
		t.Fatalf("--from %sAWSLogs/: %+v; want all %d objects read or skipped", bucket, sum, want)
	}
	before := flows()
	for _, from := range []string{bucket + acct, bucket} {
		again := compactOK(t, append([]string{"--from", from, "--lake", lakeURL}, s3...)...)
		if again.ObjectsRead != 0 || again.ObjectsAlreadyDone == 0 {
			t.Errorf("--from %s after --from %sAWSLogs/: %+v; want every object already done", from, bucket, again)
		}
	}
	if after := flows(); after != before {
		t.Errorf("vpc_flow rows %q after compacting again from other levels, %q before", after, before)
	}
}

// TestCompactNothingFound: a --from that holds no objects, or none in the AWS layout, fails loudly.
func TestCompactNothingFound(t *testing.T) {
	dir := t.TempDir()
	empty, wrong := filepath.Join(dir, "empty"), filepath.Join(dir, "wrong")
	os.MkdirAll(empty, 0o755)
	misplaced := filepath.Join(wrong, "111122223333", "CloudTrail", "us-east-1", "2026", "01", "01", "x.json.gz")
	os.MkdirAll(filepath.Dir(misplaced), 0o755)
	os.WriteFile(misplaced, []byte("x"), 0o644)
	for _, c := range []struct {
		from string
		want []string
	}{
		{empty, []string{"no objects under " + empty}},
		{wrong, []string{"none of the 1 objects under " + wrong, "e.g. " + misplaced}},
		{filepath.Join(dir, "typo"), []string{filepath.Join(dir, "typo") + " is not a directory"}},
	} {
		_, errs, code := cli(t, "compact", "--from", c.from, "--lake", filepath.Join(dir, "lake"))
		if code != exitError {
			t.Errorf("compact --from %s: exit %d, want %d", c.from, code, exitError)
		}
		for _, w := range c.want {
			if !strings.Contains(errs, w) {
				t.Errorf("compact --from %s: stderr %q, want it to say %q", c.from, errs, w)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "typo")); err == nil {
		t.Error("a mistyped --from was created")
	}
}

// TestDeprecatedPrefixFlags: --prefix and raw[].prefix still work, appended to the location.
func TestDeprecatedPrefixFlags(t *testing.T) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "raw")
	key := filepath.Join(raw, "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/01/111122223333_CloudTrail_us-east-1_20260101T0000Z_x.json.gz")
	os.MkdirAll(filepath.Dir(key), 0o755)
	os.WriteFile(key, []byte(`{"Records":[]}`), 0o644)
	// (cobra prints flag deprecations with OutOrStderr: stderr in the binary, the stdout buffer here)
	out, errs, code := cli(t, "compact", "--json", "--from", raw, "--prefix", "AWSLogs/111122223333/", "--lake", filepath.Join(dir, "lake"), "--settle", "0")
	if code != exitOK || !strings.Contains(out+errs, "--prefix has been deprecated") || !strings.Contains(out, `"objects_read": 1,`) {
		t.Errorf("--prefix: exit %d\n%s%s", code, out, errs)
	}
	cfg := filepath.Join(dir, "lakehunt.yaml")
	os.WriteFile(cfg, []byte("raw:\n  - url: ./raw\n    prefix: AWSLogs/\n"), 0o644)
	c, err := loadConfig(cfg)
	if err != nil || c.Raw[0].URL != raw+"/AWSLogs/" {
		t.Errorf("raw[0] with prefix: %v %+v", err, c)
	}
}

// TestRunDueRawLevelsAndAccounts: run --due compacts from any level of the layout, keeps only the
// configured accounts, and a raw location with nothing in it fails the tick (exit 3) with the reason in
// its log.
func TestRunDueRawLevelsAndAccounts(t *testing.T) {
	dir := t.TempDir()
	raw, empty := filepath.Join(dir, "raw"), filepath.Join(dir, "empty")
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	writeTrail(t, raw, day.Add(3*time.Hour))
	os.MkdirAll(empty, 0o755)
	hunts := writeHuntDir(t, "")
	for i, c := range []struct {
		from, accounts string
		code           int
		log            string
	}{
		{filepath.Join(raw, "AWSLogs", "111122223333"), "", exitOK, `"objects_read":1`},
		{raw, `["111122223333"]`, exitOK, `"objects_read":1`},
		// nothing of that account: its hunts then have no data in their window, which a tick reports (exit 3)
		{raw, `["444455556666"]`, exitBadInput, `"objects_read":0`},
		{empty, "", exitBadInput, "no objects under " + empty},
	} {
		cfg := filepath.Join(dir, fmt.Sprintf("lakehunt-%d.yaml", i))
		text := fmt.Sprintf("lake: %q\nraw:\n  - url: %q\n", filepath.Join(dir, fmt.Sprintf("lake-%d", i)), c.from)
		if c.accounts != "" {
			text += "accounts: " + c.accounts + "\n"
		}
		os.WriteFile(cfg, []byte(text), 0o644)
		_, logs, code := cli(t, "run", "--due", "--config", cfg, "--no-library", "--hunts", hunts, "--now", "2026-03-02T12:30:00Z")
		if code != c.code || !strings.Contains(logs, c.log) {
			t.Errorf("run --due from %s, accounts %s: exit %d, want %d and a log with %s\n%s", c.from, c.accounts, code, c.code, c.log, logs)
		}
	}
}
