package lint

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
)

// TestLibrary lints every shipped hunt. UPDATE_LOCK=1 rewrites hunts/library/hunts.lock first
// (only after reviewing the version bumps it pins).
func TestLibrary(t *testing.T) {
	src := huntfile.Source{FS: library.FS, Name: "hunts/library"}
	hunts, lock, diags, err := huntfile.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("UPDATE_LOCK") == "1" {
		if err := os.WriteFile(filepath.Join("..", "library", huntfile.LockFile), huntfile.FormatLock(hunts), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Skip("hunts.lock rewritten; run the tests again")
	}
	diags = append(diags, Lint(context.Background(), hunts, lock)...)
	for _, d := range diags {
		t.Error(d)
	}
	if len(hunts) < 5 {
		t.Errorf("library has %d hunts, want at least 5", len(hunts))
	}
}
