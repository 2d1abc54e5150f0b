package lake

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A writer killed between writing its temporary file and renaming it into place leaves a ".tmp-*" file
// that no listing shows. Vacuum deletes those untouched for StaleTempAge and counts them; a live writer's
// fresh temporary file, and files outside the lake's folders, stay.
func TestVacuumDeletesStaleTempFilesOfKilledWriters(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	l, err := Open(ctx, root, Options{Create: true})
	if err != nil {
		t.Fatal(err)
	}
	st := l.store.(*localStore)
	killed := func(key string, age time.Duration) string {
		tmp, err := st.writeTemp(key, strings.NewReader("half a file"))
		if err != nil {
			t.Fatal(err)
		}
		then := time.Now().Add(-age)
		if err := os.Chtimes(tmp, then, then); err != nil {
			t.Fatal(err)
		}
		return tmp
	}
	stale := []string{
		killed(PartitionPath(TableCloudTrail, "111122223333", "us-east-1", "2024-05-01")+"/part-1.parquet", 2*time.Hour),
		killed(logKey(1), 3*time.Hour),
		killed(consumedPrefix+"ab/x.json.gz", StaleTempAge+time.Minute),
	}
	live := killed(PartitionPath(TableVPCFlow, "111122223333", "us-east-1", "2024-05-01")+"/part-2.parquet", time.Minute)
	outside := filepath.Join(root, "notes", ".tmp-draft")
	if err := os.MkdirAll(filepath.Dir(outside), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(outside, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-48 * time.Hour)
	if err := os.Chtimes(outside, old, old); err != nil {
		t.Fatal(err)
	}

	sum, err := l.Vacuum(ctx, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if sum.TempFiles != len(stale) || sum.Objects != 0 {
		t.Errorf("vacuum deleted %d temporary files and %d objects, want %d and 0", sum.TempFiles, sum.Objects, len(stale))
	}
	for _, p := range stale {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("stale temporary file %s is still there (%v)", p, err)
		}
	}
	for _, p := range []string{live, outside} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%s was deleted: %v", p, err)
		}
	}
	if sum, err := l.Vacuum(ctx, 24*time.Hour); err != nil || sum.TempFiles != 0 {
		t.Errorf("a second vacuum deleted %d temporary files (%v), want 0", sum.TempFiles, err)
	}
}
