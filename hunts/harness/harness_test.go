package harness

import (
	"bytes"
	"context"
	"testing"

	"github.com/lakehunt/lakehunt/hunts/huntfile"
	"github.com/lakehunt/lakehunt/hunts/library"
)

func loadLibrary(t *testing.T) []*huntfile.Hunt {
	t.Helper()
	hs, _, diags, err := huntfile.Load(huntfile.Source{FS: library.FS, Name: "hunts/library"})
	if err != nil || len(diags) > 0 {
		t.Fatalf("load library: %v %v", err, diags)
	}
	return hs
}

// Every shipped hunt's inline tests pass through the real compactor and the real SQL.
func TestLibrary(t *testing.T) {
	var out bytes.Buffer
	sum, err := RunTests(context.Background(), loadLibrary(t), nil, &out)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 || sum.Passed < 10 {
		t.Fatalf("%d passed, %d failed:\n%s", sum.Passed, sum.Failed, out.String())
	}
	t.Log(out.String())
}
