package lint

import (
	"context"
	"testing"

	_ "github.com/lakehunt/lakehunt/compact" // registers the tables of every source the library reads (guardduty, securityhub, ...)
	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
)

// TestLibrary lints every shipped hunt (its lock is rewritten with
// 'lakehunt hunt lint --no-library --hunts hunts/library --write-lock' at the repository root).
func TestLibrary(t *testing.T) {
	src := huntfile.Source{FS: library.FS, Name: library.Name}
	hunts, lock, diags, err := huntfile.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	diags = append(diags, Lint(context.Background(), hunts, lock, engine.Limits{})...)
	for _, d := range diags {
		t.Error(d)
	}
	if len(hunts) < 5 {
		t.Errorf("library has %d hunts, want at least 5", len(hunts))
	}
}
