package publish_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/publish"
	"github.com/lakehunt/lakehunt/reports/publish/publishtest"
)

// recorder is a publisher that delivers every group it is given, or fails after `failAfter` groups.
type recorder struct {
	name      string
	failAfter int // -1: never
	got       [][]string
}

func (r *recorder) Name() string { return r.name }

func (r *recorder) Publish(_ context.Context, in publish.Input) ([]lake.Sent, error) {
	var sent []lake.Sent
	for i, g := range in.Groups {
		if i == r.failAfter {
			return sent, errors.New("HTTP 400: invalid_blocks")
		}
		var ids []string
		for _, f := range g.Findings {
			ids = append(ids, f.ID)
		}
		r.got = append(r.got, ids)
		sent = append(sent, lake.Sent{GroupID: g.ID, FindingIDs: ids, Ref: "ref-" + ids[0]})
	}
	return sent, nil
}

// What a publisher sent is recorded in run.json; publishing the run directory again sends only what was
// not sent, and a publisher that fails part-way neither stops the next publisher nor loses the record of
// what it did send.
func TestRunRecordsSentAndDoesNotPostTwice(t *testing.T) {
	dir := publishtest.RunDir(t, "run-1", publishtest.Story())
	failing := &recorder{name: "slack", failAfter: 1}
	ok := &recorder{name: "webhook", failAfter: -1}
	outs, err := publish.Run(t.Context(), dir, []publish.Publisher{failing, ok}, publish.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != 2 || outs[0].Err == nil || outs[0].Err.Error() != "HTTP 400: invalid_blocks" || outs[1].Err != nil {
		t.Fatalf("outcomes %+v", outs)
	}
	if err := publish.Failed(outs); err == nil || err.Error() != "slack: HTTP 400: invalid_blocks" {
		t.Errorf("Failed = %v", err)
	}
	if len(ok.got) != 2 || len(failing.got) != 1 {
		t.Fatalf("delivered: webhook %v, slack %v", ok.got, failing.got)
	}
	run, err := reports.ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Sent) != 3 || run.Sent[0].Publisher != "slack" || run.Sent[0].Ref != "ref-f-recon01" || run.Sent[0].At.IsZero() {
		t.Fatalf("run.json sent = %+v", run.Sent)
	}
	if !slices.Equal(run.Sent[0].FindingIDs, []string{"f-recon01", "f-stoplg2", "f-ticont3"}) {
		t.Errorf("sent finding ids %v", run.Sent[0].FindingIDs)
	}

	// Again: slack sends only the group it failed on; the webhook sends nothing.
	failing.failAfter, failing.got, ok.got = -1, nil, nil
	outs, err = publish.Run(t.Context(), dir, []publish.Publisher{failing, ok}, publish.Options{})
	if err != nil || publish.Failed(outs) != nil {
		t.Fatal(err, publish.Failed(outs))
	}
	if len(failing.got) != 1 || !slices.Equal(failing.got[0], []string{"f-lowone4"}) || len(ok.got) != 0 {
		t.Errorf("second publish delivered: slack %v, webhook %v", failing.got, ok.got)
	}
	if outs[0].Skipped != 1 || outs[1].Skipped != 2 {
		t.Errorf("skipped: slack %d, webhook %d", outs[0].Skipped, outs[1].Skipped)
	}
	if run, _ := reports.ReadRun(dir); len(run.Sent) != 4 {
		t.Errorf("run.json has %d sent records, want 4", len(run.Sent))
	}
}

// A re-run of the window (same finding ids, a new run directory) sends nothing that an earlier run of
// the window sent: Options.Prior carries those records.
func TestRunPriorSends(t *testing.T) {
	first := publishtest.RunDir(t, "run-1", publishtest.Story())
	p := &recorder{name: "slack", failAfter: -1}
	if _, err := publish.Run(t.Context(), first, []publish.Publisher{p}, publish.Options{}); err != nil {
		t.Fatal(err)
	}
	prior, _ := reports.ReadRun(first)
	story := publishtest.Story()
	rerun := publishtest.RunDir(t, "run-2", append(story, publishtest.Finding("f-late005", "HIGH", "Late data: one more step", story[0].Entity.Key, 6*time.Hour)))
	p.got = nil
	other := &recorder{name: "webhook", failAfter: -1}
	outs, err := publish.Run(t.Context(), rerun, []publish.Publisher{p, other}, publish.Options{Prior: prior.Sent})
	if err != nil {
		t.Fatal(err)
	}
	// ben's group gained a finding: it is a new group and is sent; the LOW one was sent before.
	if len(p.got) != 1 || len(p.got[0]) != 4 || outs[0].Skipped != 1 {
		t.Errorf("re-run sent %v, skipped %d", p.got, outs[0].Skipped)
	}
	if len(other.got) != 2 {
		t.Errorf("another publisher's records counted: webhook sent %v", other.got)
	}
}

// A run directory that cannot be read stops publishing with an error that names it.
func TestRunUnreadableDir(t *testing.T) {
	_, err := publish.Run(t.Context(), t.TempDir(), []publish.Publisher{&recorder{name: "x"}}, publish.Options{})
	if err == nil || !strings.Contains(err.Error(), "run.json") {
		t.Fatalf("err = %v", err)
	}
}
