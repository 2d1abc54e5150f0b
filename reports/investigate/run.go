package investigate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/internal/safetext"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/lake/group"
	"github.com/lakehunt/lakehunt/reports/entity"
)

// WriteRunPages writes a page for each of entity.PageLinks(group.Build(findings)) into RUNDIR/entities, over the
// run's window with DefaultHistory before it, and returns their paths. A page that cannot be written
// does not stop the others; the error lists every one that failed.
func WriteRunPages(ctx context.Context, lk *lake.Lake, dir string, run *lake.Run, findings []lake.Finding, limits engine.Limits) ([]string, error) {
	links := entity.PageLinks(group.Build(findings))
	if len(links) == 0 {
		return nil, nil
	}
	if run.WindowStart.IsZero() || !run.WindowStart.Before(run.WindowEnd) {
		return nil, fmt.Errorf("entity pages: run %s has no window", run.ID)
	}
	if err := os.MkdirAll(filepath.Join(dir, entity.Dir), 0o755); err != nil {
		return nil, err
	}
	span := Span{HistoryFrom: run.WindowStart.Add(-DefaultHistory), From: run.WindowStart, To: run.WindowEnd}
	iv, err := Open(ctx, lk, span, limits)
	if err != nil {
		return nil, fmt.Errorf("entity pages: %w", err)
	}
	var reqs []Request
	var paths, failed []string
	for _, l := range links {
		if strings.IndexByte(l.Value, 0) >= 0 {
			failed = append(failed, fmt.Sprintf("%s: the value holds a NUL byte", safetext.Line(l.String())))
			continue
		}
		reqs = append(reqs, Request{Entity: l, Findings: findings, FindingsFrom: "run " + run.ID, InRun: true, Siblings: links})
	}
	pages, err := iv.Pages(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("entity pages: %w", err)
	}
	for _, p := range pages {
		path := filepath.Join(dir, filepath.FromSlash(entity.PageName(p.Entity)))
		if err := entity.WriteFile(path, p); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", safetext.Line(p.Entity.String()), err))
			continue
		}
		paths = append(paths, path)
	}
	if len(failed) > 0 {
		return paths, fmt.Errorf("%d of %d entity pages not written: %s", len(failed), len(links), strings.Join(failed, "; "))
	}
	return paths, nil
}
