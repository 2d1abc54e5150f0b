package diff

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/compact"
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/harness"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
	"github.com/lakehunt/lakehunt/lake"
)

var (
	windowStart = time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC)
	windowEnd   = windowStart.Add(24 * time.Hour)
)

func libraryFile(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(library.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rootLake compacts, with the real compactor, the events of root-account-usage's second test: the root
// user of 123456789012 (two calls, MEDIUM) and of 444455556666 (one failed sign-in, LOW) on 2024-06-10.
func rootLake(t *testing.T) *lake.Lake {
	t.Helper()
	ctx := context.Background()
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: library.FS, Name: library.Name})
	if err != nil || len(diags) > 0 {
		t.Fatal(err, diags)
	}
	var test *huntfile.Test
	for _, h := range hs {
		if h.ID == "root-account-usage" {
			test = &h.Tests[1]
		}
	}
	raw := t.TempDir()
	if err := harness.Materialize(test, raw); err != nil {
		t.Fatal(err)
	}
	from, err := lake.OpenStore(ctx, raw, lake.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lk, err := lake.Open(ctx, t.TempDir(), lake.Options{Create: true, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := compact.Run(ctx, compact.Options{From: from, Lake: lk, Now: func() time.Time { return windowEnd }, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	return lk
}

func writeHunts(t *testing.T, files map[string]string) []*huntfile.Hunt {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: os.DirFS(dir), Name: dir})
	if err != nil || len(diags) > 0 {
		t.Fatal(err, diags)
	}
	return hs
}

func entities(fs []Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Entity+" "+f.Severity)
	}
	return out
}

// A reviewer sees exactly what a threshold change adds and removes, severity changes, and what new and
// deleted hunts would (no longer) find; a hunt whose content did not change is not run.
func TestDiff(t *testing.T) {
	lk := rootLake(t)
	original := libraryFile(t, "root-account-usage.yaml")
	// The change under review: a threshold (two calls or more) and read-only root sessions raised to HIGH.
	changed := strings.Replace(original, "  GROUP BY root_arn\n", "  GROUP BY root_arn\n  HAVING count(*) >= 2\n", 1)
	changed = strings.Replace(changed, `? "HIGH" : "MEDIUM")'`, `? "HIGH" : "HIGH")'`, 1)
	changed = strings.Replace(changed, "version: 1\n", "version: 2\n", 1)
	if changed == original || !strings.Contains(changed, "HAVING count(*) >= 2") || !strings.Contains(changed, `"HIGH" : "HIGH")`) {
		t.Fatal("root-account-usage.yaml no longer has the lines this test changes")
	}
	same := libraryFile(t, "iam-admin-grant.yaml")
	copyAs := func(id string) string {
		return strings.Replace(original, "id: root-account-usage\n", "id: "+id+"\n", 1)
	}
	before := writeHunts(t, map[string]string{"root.yaml": original, "old.yaml": copyAs("root-usage-old"), "admin.yaml": same})
	after := writeHunts(t, map[string]string{"root.yaml": changed, "new.yaml": copyAs("root-usage-new"), "admin.yaml": same})
	const (
		small = "arn:aws:iam::123456789012:root"
		other = "arn:aws:iam::444455556666:root"
	)
	type want struct {
		change                    string
		added, removed, unchanged []string
		severity                  []string // entity from to
	}
	for _, c := range []struct {
		name       string
		base, head []*huntfile.Hunt
		want       map[string]want
	}{
		{"threshold raised", before, after, map[string]want{
			"root-account-usage": {change: Changed, removed: []string{other + " LOW"}, unchanged: []string{small + " HIGH"}, severity: []string{small + " MEDIUM HIGH"}},
			"root-usage-new":     {change: New, added: []string{small + " MEDIUM", other + " LOW"}},
			"root-usage-old":     {change: Deleted, removed: []string{small + " MEDIUM", other + " LOW"}},
		}},
		{"threshold lowered", after, before, map[string]want{
			"root-account-usage": {change: Changed, added: []string{other + " LOW"}, unchanged: []string{small + " MEDIUM"}, severity: []string{small + " HIGH MEDIUM"}},
			"root-usage-new":     {change: Deleted, removed: []string{small + " MEDIUM", other + " LOW"}},
			"root-usage-old":     {change: New, added: []string{small + " MEDIUM", other + " LOW"}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Run(context.Background(), Options{Lake: lk, Base: c.base, Head: c.head, From: windowStart, To: windowEnd})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed != 0 || !slices.Equal(rep.Unchanged, []string{"iam-admin-grant"}) || len(rep.Hunts) != len(c.want) {
				t.Fatalf("failed %d, unchanged %v, %d hunts differ; want 0, [iam-admin-grant], %d: %+v", rep.Failed, rep.Unchanged, len(rep.Hunts), len(c.want), rep.Hunts)
			}
			for _, h := range rep.Hunts {
				w, ok := c.want[h.ID]
				if !ok {
					t.Errorf("unexpected hunt %s in the diff", h.ID)
					continue
				}
				var sev []string
				for _, s := range h.SeverityChanges {
					sev = append(sev, s.Entity+" "+s.From+" "+s.Severity)
				}
				if h.Change != w.change || !slices.Equal(entities(h.Added), w.added) || !slices.Equal(entities(h.Removed), w.removed) ||
					!slices.Equal(entities(h.Unchanged), w.unchanged) || !slices.Equal(sev, w.severity) {
					t.Errorf("%s: %s, added %v, removed %v, unchanged %v, severity %v;\nwant %s, added %v, removed %v, unchanged %v, severity %v",
						h.ID, h.Change, entities(h.Added), entities(h.Removed), entities(h.Unchanged), sev, w.change, w.added, w.removed, w.unchanged, w.severity)
				}
				for _, s := range []*Side{h.Base, h.Head} {
					if s != nil && (s.Status != "ok" || s.RowsScanned != 3) {
						t.Errorf("%s: side %+v, want ok with the 3 rows of the window scanned", h.ID, s)
					}
				}
				if (h.Base == nil) != (h.Change == New) || (h.Head == nil) != (h.Change == Deleted) {
					t.Errorf("%s (%s): base %v, head %v", h.ID, h.Change, h.Base, h.Head)
				}
			}
		})
	}
	// Finding ids are the ones 'hunt run' gives: the same hunt, entity and window.
	rep, err := Run(context.Background(), Options{Lake: lk, Base: before, Head: after, From: windowStart, To: windowEnd})
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range rep.Hunts {
		for _, f := range append(h.Added, h.Removed...) {
			if f.ID != engine.FindingID(h.ID, "principal", f.Entity, nil, windowStart, windowEnd) {
				t.Errorf("%s: finding id %s is not the run's id for %s", h.ID, f.ID, f.Entity)
			}
		}
	}
}

// A diff that runs out of its time budget says which hunts it did not run, and counts them as failed.
func TestBudget(t *testing.T) {
	lk := rootLake(t)
	original := libraryFile(t, "root-account-usage.yaml")
	head := writeHunts(t, map[string]string{"new.yaml": strings.Replace(original, "id: root-account-usage\n", "id: root-usage-new\n", 1)})
	rep, err := Run(context.Background(), Options{Lake: lk, Head: head, From: windowStart, To: windowEnd, Budget: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || rep.Hunts[0].Head.Status != "not run" || !strings.Contains(rep.Hunts[0].Head.Error, "--budget") {
		t.Fatalf("failed %d, head %+v; want 1 hunt not run, naming --budget", rep.Failed, rep.Hunts[0].Head)
	}
}

// --base REF reads the hunts directory as the ref has it; a directory the ref does not have yet is empty;
// a ref that does not exist is an error that says what to do.
func TestCheckoutBase(t *testing.T) {
	ctx := context.Background()
	repo := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q", "-b", "main")
	if err := os.WriteFile(filepath.Join(repo, "README.md"), []byte("x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", ".")
	git("commit", "-q", "-m", "first")
	hunts := filepath.Join(repo, "hunts")
	if err := os.MkdirAll(filepath.Join(hunts, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{"a.yaml": "old a\n", "sub/b.yaml": "old b\n"} {
		if err := os.WriteFile(filepath.Join(hunts, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("add", ".")
	git("commit", "-q", "-m", "hunts")
	if err := os.WriteFile(filepath.Join(hunts, "a.yaml"), []byte("new a\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	out := t.TempDir()
	found, err := CheckoutBase(ctx, hunts, "main", out)
	if err != nil || !found {
		t.Fatalf("found %v, err %v", found, err)
	}
	for name, want := range map[string]string{"a.yaml": "old a\n", "sub/b.yaml": "old b\n"} {
		if b, err := os.ReadFile(filepath.Join(out, name)); err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", name, b, err, want)
		}
	}
	if found, err := CheckoutBase(ctx, hunts, "main~1", t.TempDir()); err != nil || found {
		t.Errorf("hunts/ did not exist at main~1: found %v, err %v", found, err)
	}
	if _, err := CheckoutBase(ctx, hunts, "no-such-branch", t.TempDir()); err == nil || !strings.Contains(err.Error(), "git fetch") {
		t.Errorf("unknown ref: %v", err)
	}
	if _, err := CheckoutBase(ctx, t.TempDir(), "main", t.TempDir()); err == nil || !strings.Contains(err.Error(), "not in a git repository") {
		t.Errorf("outside a repository: %v", err)
	}
}
