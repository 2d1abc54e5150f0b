package securityhub

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports"
	"github.com/lakehunt/lakehunt/reports/asff"
	"github.com/lakehunt/lakehunt/reports/publish"
)

// Publisher imports the run directory's asff.json (written before it by publish.ASFF) into Security Hub.
// Publish fills in Summary. Finding ids are deterministic, so importing again updates, not duplicates:
// it records nothing in run.json.
type Publisher struct {
	// Client imports; nil means NewClient makes one at the first run that has findings to import.
	Client    BatchImporter
	NewClient func(ctx context.Context) (BatchImporter, error)
	Options   Options

	Summary Summary
}

func (p *Publisher) Name() string { return "securityhub" }

func (p *Publisher) Publish(ctx context.Context, in publish.Input) ([]lake.Sent, error) {
	p.Summary = Summary{}
	path := filepath.Join(in.Dir, reports.ASFFFile)
	findings, err := asff.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s was not written, so nothing was imported", reports.ASFFFile)
	}
	if err != nil || len(findings) == 0 {
		return nil, err
	}
	if p.Client == nil {
		if p.NewClient == nil {
			return nil, errors.New("no Security Hub client")
		}
		if p.Client, err = p.NewClient(ctx); err != nil {
			return nil, err
		}
	}
	p.Summary, err = Import(ctx, p.Client, findings, p.Options)
	return nil, err
}
