package securityhub

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/publish"
)

func copyRun(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{lake.RunFile, lake.FindingsFile} {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "reports", name, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Behind publish.ASFF, the Security Hub publisher imports what asff.json holds; the client is made only
// when there is something to import.
func TestPublisherImportsTheRunsASFF(t *testing.T) {
	hub := newFakeHub(t)
	dir := copyRun(t, "run-mixed")
	made := 0
	sh := &Publisher{Options: fast, NewClient: func(context.Context) (BatchImporter, error) { made++; return hub.client(t, "AKIDTEST"), nil }}
	outs, err := publish.Run(t.Context(), dir, []publish.Publisher{&publish.ASFF{Options: asff.Options{Region: "us-east-1"}}, sh}, publish.Options{})
	if err != nil || publish.Failed(outs) != nil {
		t.Fatal(err, publish.Failed(outs))
	}
	hub.checkClean(t)
	if sh.Summary.Imported != 5 || made != 1 || len(hub.batches) == 0 {
		t.Errorf("summary %+v, clients %d", sh.Summary, made)
	}
}

// Without asff.json (its options were wrong) the import says why nothing was imported, and makes no client.
func TestPublisherWithoutASFF(t *testing.T) {
	dir := copyRun(t, "run-mixed")
	sh := &Publisher{NewClient: func(context.Context) (BatchImporter, error) { return nil, errors.New("must not be called") }}
	outs, err := publish.Run(t.Context(), dir, []publish.Publisher{&publish.ASFF{Options: asff.Options{Region: "mars"}}, sh}, publish.Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := publish.Failed(outs).Error()
	if !strings.Contains(got, `asff.json: not written: region "mars"`) || !strings.Contains(got, "securityhub: asff.json was not written, so nothing was imported") {
		t.Errorf("errors:\n%s", got)
	}
}
