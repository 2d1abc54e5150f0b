package entity

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/lakehunt/lakehunt/hunts/engine"
	"github.com/lakehunt/lakehunt/lake"
	"github.com/lakehunt/lakehunt/reports/group"
)

// Dir is the folder of a run directory that holds its entity pages.
const Dir = "entities"

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// PageName is the path, relative to the run directory, of the page about l: a readable part (the
// value's last segment) and a hash of the whole link, so two entities never share a page.
// The report links a finding's entity to it (only PageLinks have pages).
func PageName(l group.Link) string {
	v := l.Value
	if i := strings.LastIndexAny(v, "/:"); i >= 0 && i < len(v)-1 {
		v = v[i+1:]
	}
	v = strings.Trim(unsafeName.ReplaceAllString(v, "_"), "._")
	if len(v) > 40 {
		v = v[:40]
	}
	sum := sha256.Sum256([]byte(l.String()))
	return Dir + "/" + l.Kind + "-" + v + "-" + hex.EncodeToString(sum[:4]) + ".html"
}

// PageLinks are the entities a run directory has pages for: each group's leading entity, once.
func PageLinks(groups []group.Group) []group.Link {
	var out []group.Link
	seen := map[group.Link]bool{}
	for _, g := range groups {
		if len(g.Links) == 0 || seen[g.Links[0]] {
			continue
		}
		seen[g.Links[0]] = true
		out = append(out, g.Links[0])
	}
	return out
}

// WriteRunPages writes a page for each of PageLinks(group.Build(findings)) into RUNDIR/entities, over the
// run's window with DefaultHistory before it, and returns their paths. A page that cannot be written
// does not stop the others; the error lists every one that failed.
func WriteRunPages(ctx context.Context, lk *lake.Lake, dir string, run *lake.Run, findings []lake.Finding, limits engine.Limits) ([]string, error) {
	links := PageLinks(group.Build(findings))
	if len(links) == 0 {
		return nil, nil
	}
	if run.WindowStart.IsZero() || !run.WindowStart.Before(run.WindowEnd) {
		return nil, fmt.Errorf("entity pages: run %s has no window", run.ID)
	}
	if err := os.MkdirAll(filepath.Join(dir, Dir), 0o755); err != nil {
		return nil, err
	}
	span := Span{HistoryFrom: run.WindowStart.Add(-DefaultHistory), From: run.WindowStart, To: run.WindowEnd}
	iv, err := Open(ctx, lk, span, limits)
	if err != nil {
		return nil, fmt.Errorf("entity pages: %w", err)
	}
	reqs := make([]Request, len(links))
	for i, l := range links {
		reqs[i] = Request{Entity: l, Findings: findings, FindingsFrom: "run " + run.ID}
	}
	pages, err := iv.Pages(ctx, reqs)
	if err != nil {
		return nil, fmt.Errorf("entity pages: %w", err)
	}
	var paths, failed []string
	for _, p := range pages {
		path := filepath.Join(dir, filepath.FromSlash(PageName(p.Entity)))
		if err := WriteFile(path, p); err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", p.Entity, err))
			continue
		}
		paths = append(paths, path)
	}
	if len(failed) > 0 {
		return paths, fmt.Errorf("%d of %d entity pages not written: %s", len(failed), len(links), strings.Join(failed, "; "))
	}
	return paths, nil
}
