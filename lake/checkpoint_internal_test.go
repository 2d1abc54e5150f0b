package lake

import (
	"context"
	"fmt"
	"testing"
)

// Lakes written before checkpoints split the consumed objects out hold them inline; both snapshot kinds
// still read those checkpoints.
func TestInlineSourcesCheckpointStillReads(t *testing.T) {
	ctx := context.Background()
	l, err := Open(ctx, t.TempDir(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := l.Snapshot(ctx)
	for i := 1; i <= 3; i++ {
		if s, err = l.Commit(ctx, s, Commit{Operation: "test", Sources: []SourceObject{{Key: fmt.Sprintf("raw/%d", i), Status: "ok"}},
			Add: []FileEntry{{Table: "cloudtrail", Key: fmt.Sprintf("cloudtrail/f%d.parquet", i), Day: "2026-01-02"}}}); err != nil {
			t.Fatal(err)
		}
	}
	old := struct {
		Version    int64                   `json:"version"`
		Files      []FileEntry             `json:"files"`
		Sources    map[string]SourceObject `json:"sources"`
		Quarantine []Quarantined           `json:"quarantine"`
	}{s.Version, s.Files, s.Sources, s.Quarantine}
	if err := putGzipJSON(ctx, l.store, checkpointKey(3), old); err != nil {
		t.Fatal(err)
	}
	full, err := l.Snapshot(ctx)
	if err != nil || full.Version != 3 || len(full.Sources) != 3 || len(full.Files) != 3 {
		t.Fatalf("full snapshot from an inline checkpoint: %+v %v", full, err)
	}
	light, err := l.FileSnapshot(ctx)
	if err != nil || light.Version != 3 || light.Sources != nil || len(light.Files) != 3 {
		t.Fatalf("file snapshot from an inline checkpoint: %+v %v", light, err)
	}
}
